// ExportDriver: what every export writer does to walk the calls — a
// CallStream run thread by thread to the end, open calls closed at the end,
// calls shorter than ExportOptions::min_dur_ns left out (min_dur_filter.h),
// progress reported, statistics kept. Private to the exporters.
//
//   ExportDriver driver(trace, thread_ended, options);
//   for (uint32_t t = 0; t < driver.threads(); ++t) {
//     begin_thread(t);
//     if (!driver.RunThread(t, visitor, out)) break;   // output failed
//     end_thread(t);
//   }
//   ExportStats stats = driver.stats();

#ifndef TRACESTORE_SRC_EXPORT_EXPORT_DRIVER_H_
#define TRACESTORE_SRC_EXPORT_EXPORT_DRIVER_H_

#include <cstdint>
#include <span>
#include <string>

#include "tracestore/call_stream.h"
#include "tracestore/event_scan.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore::internal {

class ExportDriver {
 public:
  ExportDriver(const TraceReader& trace, std::span<const uint64_t> ended,
               const ExportOptions& options);

  uint32_t threads() const;
  // Streams every event of `thread` to the visitor, then closes the calls
  // left open. False when `out` failed (the export should stop).
  bool RunThread(uint32_t thread, CallVisitor& visitor, const Output& out);
  // Every thread in order.
  bool RunAll(CallVisitor& visitor, const Output& out);

  const TimeScale& time() const { return time_; }
  ExportStats stats() const;
  // The name to show for the trace (ExportOptions::title's rule).
  std::string Title() const;

 private:
  const TraceReader& trace_;
  std::span<const uint64_t> ended_;
  const ExportOptions& options_;
  TimeScale time_;
  CallStream stream_;
  uint64_t total_events_;
  uint64_t closed_at_end_ = 0;
  uint64_t calls_ = 0;
  uint64_t resumes_ = 0;
  uint64_t short_calls_ = 0, short_resumes_ = 0, short_ns_ = 0;
};

// A thread's label for viewers: its name, else "thread N".
std::string ThreadLabel(const TraceReader& trace, uint32_t thread);
// A process's label in a trace of many: "pid N: its command line".
std::string ProcessLabel(const TraceReader& trace);

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_EXPORT_EXPORT_DRIVER_H_
