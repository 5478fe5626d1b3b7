// `tracestore verify TRACE`: exit 0 when sound; otherwise the problems on
// stderr, one line per kind (a count and the first few: GroupMessages), and
// exit 1 (2 if the trace cannot be opened at all).

#include <cstdio>

#include "commands.h"
#include "problem_report.h"
#include "tracestore/verify.h"

namespace tracestore::cli {

int RunVerify(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs("usage: tracestore verify TRACE\n", stderr);
    return kExitUsage;
  }
  auto report = VerifyTrace(args[0]);
  if (!report.ok()) {
    std::fprintf(stderr, "tracestore verify: %s\n",
                 std::string(report.status().message()).c_str());
    return kExitUsage;
  }
  for (const auto& note : report->notes)
    std::fprintf(stderr, "note: %s\n", note.c_str());
  // One line per kind of error; still a limit, as a crafted trace may have
  // many kinds.
  constexpr size_t kMaxLines = 100;
  const std::vector<std::string> lines = GroupMessages(report->errors);
  for (size_t i = 0; i < lines.size() && i < kMaxLines; ++i)
    std::fprintf(stderr, "error: %s\n", lines[i].c_str());
  if (lines.size() > kMaxLines)
    std::fprintf(stderr, "error: ... and %zu more kinds of error\n",
                 lines.size() - kMaxLines);
  std::printf(
      "%s: %s (%llu threads, %llu functions, %llu events, %llu marks, "
      "%llu chunk checksums)\n",
      args[0].c_str(), report->ok() ? "sound" : "NOT sound",
      static_cast<unsigned long long>(report->threads),
      static_cast<unsigned long long>(report->functions),
      static_cast<unsigned long long>(report->events),
      static_cast<unsigned long long>(report->marks),
      static_cast<unsigned long long>(report->chunks_checked));
  return report->ok() ? kExitOk : kExitUnsound;
}

}  // namespace tracestore::cli
