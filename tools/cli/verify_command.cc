// `tracestore verify TRACE`: exit 0 when sound; otherwise the problems on
// stderr, one line per kind (a count and the first few: GroupMessages), and
// exit 1 (2 if the trace cannot be opened at all). A trace with child
// processes' traces (process_tree.h) verifies each of them too, one more
// line each; a child trace that cannot be opened is an error (unless its
// process is still creating it).

#include <cstdio>

#include "commands.h"
#include "problem_report.h"
#include "tracestore/process_tree.h"
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
  bool sound = report->ok();
  // The children, if any.
  auto tree = ProcessTree::Open(args[0]);
  if (tree.ok() && ((*tree)->size() > 1 || !(*tree)->Unopened().empty())) {
    for (size_t i = 1; i < (*tree)->size(); ++i) {
      const ProcessTree::Process& p = (*tree)->process(i);
      auto child = VerifyTrace(p.path);
      if (!child.ok()) {
        std::fprintf(stderr, "error: %s: %s\n", p.path.c_str(),
                     std::string(child.status().message()).c_str());
        sound = false;
        continue;
      }
      for (const auto& note : child->notes)
        std::fprintf(stderr, "note: %s: %s\n", p.relative.c_str(),
                     note.c_str());
      for (size_t e = 0; e < child->errors.size() && e < kMaxLines; ++e)
        std::fprintf(stderr, "error: %s\n", child->errors[e].c_str());
      sound &= child->ok();
      std::printf(
          "  process %llu (%s): %s (%llu threads, %llu functions, "
          "%llu events)\n",
          static_cast<unsigned long long>(p.pid), p.relative.c_str(),
          child->ok() ? "sound" : "NOT sound",
          static_cast<unsigned long long>(child->threads),
          static_cast<unsigned long long>(child->functions),
          static_cast<unsigned long long>(child->events));
    }
    // Children whose traces cannot be opened at all.
    for (const auto& [path, why] : (*tree)->Unopened()) {
      std::fprintf(stderr, "error: %s: child trace cannot be opened: %s\n",
                   path.c_str(), why.c_str());
      sound = false;
    }
    std::printf("%s: %zu processes: %s\n", args[0].c_str(), (*tree)->size(),
                sound ? "sound" : "NOT sound");
  }
  return sound ? kExitOk : kExitUnsound;
}

}  // namespace tracestore::cli
