// `tracestore`: the native command line over trace directories.
//
//   tracestore info run.trace
//   tracestore verify run.trace
//   tracestore query run.trace "SELECT name, dur FROM calls LIMIT 10"
//   tracestore export --format sqlite run.trace -o run.db
//   tracestore export run.trace --format html -o run.html
//   tracestore top run.trace
//   tracestore lines run.trace --function mod.work

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "commands.h"

namespace {

constexpr char kUsage[] =
    "usage: tracestore COMMAND TRACE [options]\n"
    "\n"
    "commands:\n"
    "  info TRACE     duration, threads, functions, events, waited/dropped\n"
    "  verify TRACE   check headers, counts and checksums (exit 0 if sound)\n"
    "  query TRACE [--csv|--json] SQL\n"
    "                 SQL over calls, events, functions, threads, marks, lines\n"
    "  top TRACE      live view of the hottest functions (q quits)\n"
    "  lines TRACE [--function NAME|ID] [-n N]\n"
    "                 per-line hits and times (recorded with --lines)\n"
    "  export TRACE --format FORMAT -o OUT [--force]\n"
    "                 chrome, speedscope, collapsed, html, or sqlite\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace tracestore::cli;
  if (argc < 2 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kExitUsage : kExitOk;
  }
  const std::string command = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  if (command == "info") return RunInfo(args);
  if (command == "verify") return RunVerify(args);
  if (command == "query") return RunQuery(args);
  if (command == "export") return RunExport(args);
  if (command == "top") return RunTop(args);
  if (command == "lines") return RunLines(args);
  std::fprintf(stderr, "tracestore: unknown command '%s'\n\n%s",
               command.c_str(), kUsage);
  return kExitUsage;
}
