// SourceLines: a source file split into lines.

#include "tracestore/source_lines.h"

#include <sys/stat.h>

#include <fstream>
#include <iterator>

namespace tracestore {

bool SourceLines::Read(const std::string& path) {
  lines_.clear();
  struct stat st;
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxBytes)
    return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  if (in.bad()) return false;
  std::string line;
  for (size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : '\n';
    if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (i < text.size() || !line.empty()) lines_.push_back(line);
      line.clear();
    } else if (c == '\t') {
      line.append(8 - line.size() % 8, ' ');
    } else {
      line += c;
    }
  }
  return true;
}

std::string_view SourceLines::Line(uint32_t line) const {
  if (line == 0 || line > lines_.size()) return {};
  return lines_[line - 1];
}

}  // namespace tracestore
