// Verify: checks a trace (closed, live, or left behind by a killed writer)
// for soundness: headers, counts, chunk checksums, and every cross-reference.
//
//   auto report = VerifyTrace("run.trace");
//   if (!report.ok()) { /* cannot open: report.status() */ }
//   else if (!report->ok()) for (auto& e : report->errors) puts(e.c_str());
//
// A trace still being written, or whose writer died, verifies as sound when
// its committed prefix is: that state is reported in `notes`.

#ifndef TRACESTORE_VERIFY_H_
#define TRACESTORE_VERIFY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tracestore/env.h"

namespace tracestore {

struct VerifyReport {
  std::vector<std::string> errors;  // each makes the trace unsound
  std::vector<std::string> notes;   // state worth knowing, not errors
  uint64_t threads = 0, functions = 0, strings = 0, marks = 0, events = 0;
  uint64_t code_ranges = 0;         // 0 also when there is no such store
  uint64_t chunks_checked = 0;      // checksums verified
  bool ok() const { return errors.empty(); }
};

// Fails only when the trace cannot be opened at all (no such directory, the
// trace header is damaged); everything else lands in the report.
absl::StatusOr<VerifyReport> VerifyTrace(const std::string& path,
                                         Env* env = nullptr);

}  // namespace tracestore

#endif  // TRACESTORE_VERIFY_H_
