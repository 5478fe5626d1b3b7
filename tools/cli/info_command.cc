// `tracestore info TRACE`: what a trace holds, in a few lines. Exit 0; 3
// when the trace is damaged (its problems on stderr); 2 if it cannot be
// opened.

#include <cstdio>
#include <ctime>
#include <string>

#include "absl/strings/str_format.h"
#include "commands.h"
#include "problem_report.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

namespace {

std::string Iso8601(uint64_t realtime_ns) {
  const time_t secs = static_cast<time_t>(realtime_ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return absl::StrFormat("%s.%03uZ", buf,
                         static_cast<unsigned>(realtime_ns / 1000000u % 1000u));
}

std::string StateText(const TraceReader& t) {
  if (t.closed()) return "closed";
  if (t.writer_alive())
    return absl::StrFormat("recording (pid %d)", t.header().pid);
  return absl::StrFormat("not closed cleanly (writer pid %d is gone)",
                         t.header().pid);
}

}  // namespace

int RunInfo(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fputs("usage: tracestore info TRACE\n", stderr);
    return kExitUsage;
  }
  auto opened = TraceReader::Open(args[0]);
  if (!opened.ok()) {
    std::fprintf(stderr, "tracestore info: %s\n",
                 std::string(opened.status().message()).c_str());
    return kExitUsage;
  }
  const TraceReader& t = **opened;
  uint64_t waited = 0, dropped = 0;
  bool has_code_ranges = false;  // the store is optional (stack mode)
  for (const StoreReader* s : t.stores()) {
    waited += s->waited();
    dropped += s->dropped();
    has_code_ranges |= s->kind() == format::StoreKind::kCodeRanges;
  }
  const auto& h = t.header();
  auto line = [](const char* key, const std::string& value) {
    std::printf("%-12s %s\n", key, value.c_str());
  };
  line("trace", t.path());
  line("state", StateText(t));
  line("started", Iso8601(h.start.realtime_ns));
  line("duration",
       absl::StrFormat("%.6f s", t.ToNs(t.DurationTicks()) / 1e9));
  line("clock", h.clock_source == static_cast<uint32_t>(format::ClockSource::kTsc)
                    ? absl::StrFormat("tsc, %.6f GHz", h.ticks_per_second / 1e9)
                    : std::string("CLOCK_MONOTONIC"));
  for (const auto& [key, value] : t.properties()) line(key.c_str(), value);
  line("threads", absl::StrFormat("%d", t.threads().size()));
  line("functions", absl::StrFormat("%d", t.functions().size()));
  line("events", absl::StrFormat("%d", t.total_events()));
  if (t.max_event_bytes() != 0) {
    // A flight recorder: its event stores are rings (format.h).
    uint64_t overwritten = 0;
    for (uint32_t i = 0; i < t.threads().size(); ++i)
      overwritten += t.events_first(i);
    line("max size", absl::StrFormat("%d bytes of events (flight recorder)",
                                     t.max_event_bytes()));
    const uint64_t start = t.WindowStartTicks();
    line("window",
         overwritten == 0 && start == 0
             ? std::string("the whole trace (nothing overwritten yet)")
             : absl::StrFormat("from %.6f s (every thread complete from "
                               "there); %d older events overwritten",
                               t.ToNs(start) / 1e9, overwritten));
  }
  line("marks", absl::StrFormat("%d", t.marks().size()));
  line("strings", absl::StrFormat("%d", t.strings().size()));
  if (has_code_ranges)
    line("code ranges", absl::StrFormat("%d", t.code_ranges().size()));
  line("waited", absl::StrFormat("%d appends waited for a chunk", waited));
  line("dropped", absl::StrFormat("%d appends dropped", dropped));
  if (t.stop_reason() != format::StopReason::kNone)
    line("stopped", t.stop_reason() == format::StopReason::kDiskFull
                        ? "early: the disk was full"
                        : "early: an I/O error");
  const Problems problems = t.AllProblems();
  if (!problems.empty())
    line("problems", absl::StrFormat("%d (on stderr)", problems.size()));
  std::fflush(stdout);
  return ReportProblems("info", problems);
}

}  // namespace tracestore::cli
