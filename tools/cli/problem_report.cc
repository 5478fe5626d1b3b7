// ReportProblems: the one way the commands print a reader's problems.

#include "problem_report.h"

#include <cstdio>

#include "commands.h"

namespace tracestore::cli {

int ReportProblems(const char* command, const Problems& problems) {
  if (problems.empty()) return kExitOk;
  for (const std::string& line : problems.Summary())
    std::fprintf(stderr, "tracestore %s: warning: %s\n", command, line.c_str());
  std::fprintf(stderr,
               "tracestore %s: the trace is damaged: the answer is partial "
               "(exit status %d)\n",
               command, kExitPartial);
  return kExitPartial;
}

}  // namespace tracestore::cli
