// ExportDriver: the walk over the calls every export writer shares.

#include "export/export_driver.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "export/min_dur_filter.h"

namespace tracestore::internal {

namespace {

// Forwards to the writer's visitor, counting the calls it closes (and,
// apart, the resumes of generators and coroutines, which are not calls).
class CountingVisitor : public CallVisitor {
 public:
  explicit CountingVisitor(CallVisitor& inner) : inner_(inner) {}
  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override {
    inner_.OnOpen(thread, stack);
  }
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    if (stack.back().open_kind ==
        static_cast<uint8_t>(format::EventKind::kResume)) {
      ++resumes;
    } else {
      ++closed;
    }
    inner_.OnClose(thread, stack, end_ticks);
  }
  uint64_t closed = 0;
  uint64_t resumes = 0;

 private:
  CallVisitor& inner_;
};

uint64_t TickRate(const TraceReader& trace) {
  const uint64_t& tps = trace.header().ticks_per_second;
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(tps))
      .load(std::memory_order_acquire);
}

}  // namespace

ExportDriver::ExportDriver(const TraceReader& trace,
                           std::span<const uint64_t> ended,
                           const ExportOptions& options)
    : trace_(trace),
      ended_(ended),
      options_(options),
      time_(TickRate(trace)),
      total_events_(trace.total_events()) {}

uint32_t ExportDriver::threads() const {
  return static_cast<uint32_t>(
      std::min<size_t>(trace_.threads().size(), kMaxRowIdThreads));
}

bool ExportDriver::RunThread(uint32_t thread, CallVisitor& visitor,
                             const Output& out) {
  CountingVisitor counting(visitor);
  // --min-dur: the short calls stop before the counting (calls exported).
  MinDurFilter filter(counting, time_, options_.min_dur_ns);
  CallVisitor& first =
      options_.min_dur_ns != 0 ? static_cast<CallVisitor&>(filter) : counting;
  const uint64_t ended = thread < ended_.size() ? ended_[thread] : 0;
  while (stream_.UpdateThread(trace_, thread, ended, first,
                              CallStream::kProgressEvents) != 0) {
    if (options_.progress)
      options_.progress(stream_.processed_events(), total_events_);
    if (!out.ok()) return false;
  }
  if (options_.before_finish) options_.before_finish(thread);
  closed_at_end_ += stream_.FinishThread(thread, first);
  calls_ += counting.closed;
  resumes_ += counting.resumes;
  short_calls_ += filter.dropped_calls();
  short_resumes_ += filter.dropped_resumes();
  short_ns_ += filter.dropped_ns();
  if (options_.progress)
    options_.progress(stream_.processed_events(), total_events_);
  return out.ok();
}

bool ExportDriver::RunAll(CallVisitor& visitor, const Output& out) {
  for (uint32_t t = 0; t < threads(); ++t)
    if (!RunThread(t, visitor, out)) return false;
  return true;
}

ExportStats ExportDriver::stats() const {
  ExportStats s;
  s.events = stream_.processed_events();
  s.calls = calls_;
  s.resumes = resumes_;
  s.short_calls = short_calls_;
  s.short_resumes = short_resumes_;
  s.short_ns = short_ns_;
  s.closed_at_end = closed_at_end_;
  s.unmatched = stream_.unmatched();
  return s;
}

std::string ExportDriver::Title() const {
  if (!options_.title.empty()) return options_.title;
  const std::string_view command = trace_.Property("command_line");
  if (!command.empty()) return std::string(command);
  return trace_.path();
}

std::string ThreadLabel(const TraceReader& trace, uint32_t thread) {
  const auto threads = trace.threads();
  if (thread < threads.size()) {
    const std::string_view name =
        trace.String(trace.ThreadName(threads[thread]));
    if (!name.empty()) return std::string(name);
  }
  return absl::StrCat("thread ", thread);
}

std::string ProcessLabel(const TraceReader& trace) {
  return absl::StrCat("pid ", trace.header().pid, ": ",
                      std::string(trace.Property("command_line")));
}

}  // namespace tracestore::internal
