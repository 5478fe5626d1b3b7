// How every command reports what the reader found wrong with a trace: one
// line per kind of problem on stderr (a count and the first few), and the
// exit status kExitPartial when the answer was read from a damaged trace.
//
//   int rc = ReportProblems("export", reader->AllProblems());
//   return rc;  // kExitOk, or kExitPartial after the lines on stderr

#ifndef TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_
#define TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_

#include "tracestore/problems.h"

namespace tracestore::cli {

// Prints `problems` as "tracestore COMMAND: warning: ..." lines, then one
// line saying the answer is partial. Returns kExitOk when there are none,
// else kExitPartial.
int ReportProblems(const char* command, const Problems& problems);

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_
