// MinDurFilter: --min-dur for every export. Sits between the CallStream and
// a writer's visitor and forwards only the calls that last at least the
// minimum; the writer sees a trace without the short calls, whose time
// stays in their callers:
//
//  - A call's callers last at least as long as it does, so when a call
//    closes long enough, its callers not yet forwarded are (each is long
//    enough too): their OnOpen()s are replayed first, outermost first, so
//    the writer still sees opens in time order.
//  - The writer's child_ticks count the forwarded children only: the time
//    of a short call is its caller's self time, so self times still add up
//    to the total (collapsed, html), and timelines keep every kept call's
//    full duration (chrome, perfetto, speedscope).
//
// Counts what it left out: calls (resumes apart) and the time of the
// outermost ones (their callers' self time now). Private to the exporters.

#ifndef TRACESTORE_SRC_EXPORT_MIN_DUR_FILTER_H_
#define TRACESTORE_SRC_EXPORT_MIN_DUR_FILTER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "tracestore/call_stream.h"
#include "tracestore/event_scan.h"

namespace tracestore::internal {

class MinDurFilter : public CallVisitor {
 public:
  MinDurFilter(CallVisitor& inner, const TimeScale& time, uint64_t min_ns)
      : inner_(inner), time_(time), min_ns_(min_ns) {}

  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override;
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override;

  uint64_t dropped_calls() const { return dropped_calls_; }
  uint64_t dropped_resumes() const { return dropped_resumes_; }
  uint64_t dropped_ns() const { return dropped_ns_; }

 private:
  struct Thread {
    std::vector<OpenCall> calls;     // the stream's open calls, our times
    std::vector<uint8_t> forwarded;  // per entry: its OnOpen was forwarded
    std::vector<uint64_t> dropped;   // per entry: ns of dropped children
  };
  Thread& Get(uint32_t thread);

  CallVisitor& inner_;
  const TimeScale& time_;
  const uint64_t min_ns_;
  std::vector<Thread> threads_;
  uint64_t dropped_calls_ = 0, dropped_resumes_ = 0, dropped_ns_ = 0;
};

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_EXPORT_MIN_DUR_FILTER_H_
