// How every command reports what the reader found wrong with a trace: one
// line per kind of problem on stderr (a count and the first few), and the
// exit status kExitPartial when the answer was read from a damaged trace.
//
//   int rc = ReportProblems("export", reader->AllProblems());
//   return rc;  // kExitOk, or kExitPartial after the lines on stderr

#ifndef TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_
#define TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_

#include <string>
#include <vector>

#include "tracestore/problems.h"

namespace tracestore::cli {

// Prints `problems` as "tracestore COMMAND: warning: ..." lines, then one
// line saying the answer is partial. Returns kExitOk when there are none,
// else kExitPartial.
int ReportProblems(const char* command, const Problems& problems);

// Messages grouped by their shape (the message with every number as '#'),
// in order of first appearance: a shape seen once gives its message; one
// seen n times gives "n like: FIRST; SECOND; THIRD (and n - 3 more)".
//   GroupMessages({"s: string 4 points past", "s: string 5 points past"})
//     -> {"2 like: s: string 4 points past; s: string 5 points past"}
std::vector<std::string> GroupMessages(const std::vector<std::string>& messages,
                                       size_t examples = 3);

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_PROBLEM_REPORT_H_
