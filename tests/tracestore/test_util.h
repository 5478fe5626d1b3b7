// Helpers shared by the tracestore tests: a scratch directory and a
// deterministic event pattern that readers can check record by record.

#ifndef TRACESTORE_TESTS_TEST_UTIL_H_
#define TRACESTORE_TESTS_TEST_UTIL_H_

#include <cstdint>
#include <string>

#include "tracestore/format.h"

namespace tracestore::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const {
    return path_ + "/" + name;
  }

 private:
  std::string path_;
};

// The i-th record of a pattern stream: time = i (non-decreasing), a kind
// from the valid range, a function id in [1, functions], a value derived
// from i. A reader checks any record against it.
inline format::EventRecord PatternEvent(uint64_t i, uint32_t functions) {
  const auto kind = static_cast<format::EventKind>(1 + i % 9);
  return format::EventRecord{format::PackTimeKind(i, kind),
                             static_cast<uint32_t>(1 + i % functions),
                             static_cast<uint32_t>(i * 2654435761u)};
}

inline bool MatchesPattern(const format::EventRecord& e, uint64_t i,
                           uint32_t functions) {
  const format::EventRecord want = PatternEvent(i, functions);
  return e.time_kind == want.time_kind && e.function == want.function &&
         e.value == want.value;
}

// Reads a whole file; writes one. For corrupting traces in tests.
std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);
void FlipBit(const std::string& path, uint64_t byte, int bit);
uint64_t FileSize(const std::string& path);

}  // namespace tracestore::testing

#endif  // TRACESTORE_TESTS_TEST_UTIL_H_
