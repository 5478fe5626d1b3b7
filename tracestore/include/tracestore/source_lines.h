// The text of a recorded function's source lines, read from the file its
// FunctionRecord names, for the line views (`tracestore lines`, the HTML
// report's line view). The file may have changed or gone since the run: the
// caller says so when it is missing.
//
//   SourceLines src;
//   if (src.Read("/app/mod.py")) use(src.Line(12));   // 1-based; "" beyond

#ifndef TRACESTORE_SOURCE_LINES_H_
#define TRACESTORE_SOURCE_LINES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tracestore {

class SourceLines {
 public:
  // Files larger than this are not read (not source code).
  static constexpr uint64_t kMaxBytes = 64u << 20;

  // False (and no lines) when the file cannot be read as a regular file of
  // at most kMaxBytes.
  bool Read(const std::string& path);
  // Line `line` (1-based) without its end of line, tabs expanded to 8;
  // "" for line 0 or beyond the end.
  std::string_view Line(uint32_t line) const;
  uint32_t size() const { return static_cast<uint32_t>(lines_.size()); }

 private:
  std::vector<std::string> lines_;
};

}  // namespace tracestore

#endif  // TRACESTORE_SOURCE_LINES_H_
