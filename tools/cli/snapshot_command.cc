// `tracestore snapshot TRACE OUT`: copies the window a (live) trace shows
// now into OUT, a normal closed trace (snapshot.h). Exit 0 when written;
// 3 when written from a trace with problems (the copy holds what could be
// read, the problems go to stderr); 2 when TRACE cannot be opened or OUT
// cannot be written (nothing of TRACE is touched either way).

#include <cstdio>

#include "commands.h"
#include "problem_report.h"
#include "tracestore/snapshot.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

int RunSnapshot(const std::vector<std::string>& args) {
  if (args.size() != 2) {
    std::fputs("usage: tracestore snapshot TRACE OUT\n", stderr);
    return kExitUsage;
  }
  auto trace = TraceReader::Open(args[0]);
  if (!trace.ok()) {
    std::fprintf(stderr, "tracestore snapshot: %s\n",
                 std::string(trace.status().message()).c_str());
    return kExitUsage;
  }
  if (absl::Status s = WriteSnapshot(**trace, args[1]); !s.ok()) {
    std::fprintf(stderr, "tracestore snapshot: %s: %s\n", args[1].c_str(),
                 std::string(s.message()).c_str());
    return kExitUsage;
  }
  uint64_t events = 0;
  for (uint32_t i = 0; i < (*trace)->threads().size(); ++i)
    events += (*trace)->events(i).size();
  std::printf("%s: %llu threads, %llu events\n", args[1].c_str(),
              static_cast<unsigned long long>((*trace)->threads().size()),
              static_cast<unsigned long long>(events));
  std::fflush(stdout);
  return ReportProblems("snapshot", (*trace)->AllProblems());
}

}  // namespace tracestore::cli
