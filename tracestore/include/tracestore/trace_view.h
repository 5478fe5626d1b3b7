// TraceView: a TraceReader plus what queries derive from it (the call
// slices, the function index, the time scale), kept current together. The
// SQL tables hold one per trace path.
//
//   auto view = TraceView::Open("run.trace");
//   if (!view.ok()) return view.status();
//   TS_RETURN_IF_ERROR((*view)->Refresh());       // follow a live writer
//   TS_RETURN_IF_ERROR((*view)->CheckStores(TraceView::kEvents));
//   const CallTree& calls = (*view)->calls();     // built on first use
//
// Refresh() reads each thread's end time before refreshing the reader (see
// CallTree::Update for why), then updates whatever has been built so far;
// what has not been asked for is never built.
//
// Thread-safety: none; one thread at a time. References returned stay valid
// until the next Refresh() (spans into the reader) or destruction.

#ifndef TRACESTORE_TRACE_VIEW_H_
#define TRACESTORE_TRACE_VIEW_H_

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/calls.h"
#include "tracestore/code_ranges.h"
#include "tracestore/env.h"
#include "tracestore/event_scan.h"
#include "tracestore/line_times.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

class TraceView {
 public:
  // The stores a query needs (CheckStores).
  enum Need : unsigned {
    kThreads = 1u << 0,    // threads.store
    kEvents = 1u << 1,     // threads.store and every thread's events store
    kFunctions = 1u << 2,  // functions.store
    kStrings = 1u << 3,    // strings.store and strbytes.store
    kMarks = 1u << 4,      // marks.store
    // coderanges.store when the trace has one: only a damaged one fails
    // (most traces have none, which is fine).
    kCodeRanges = 1u << 5,
  };

  static absl::StatusOr<std::unique_ptr<TraceView>> Open(
      const std::string& path, Env* env = nullptr);

  // Picks up what the writer committed since the last call and updates the
  // derived structures already built.
  absl::Status Refresh();

  // Fails, naming the file and what is wrong with it, when a store in
  // `needs` could not be opened (missing, not a store, damaged header). A
  // torn tail is not a failure: the reader shows the records before it.
  absl::Status CheckStores(unsigned needs) const;

  // True when path() no longer holds the trace this view opened (it was
  // deleted or recorded anew): the caller should open a new view.
  bool Replaced() const;

  const std::string& path() const { return reader_->path(); }
  const TraceReader& reader() const { return *reader_; }
  // The tick rate as of the last Refresh(). It changes once, when the writer
  // closes the trace and refines its calibration.
  const TimeScale& time() const { return time_; }

  // The call slices, built on first use.
  const CallTree& calls();
  // The same, with its function index built.
  const CallTree& calls_by_function();
  // The function index over events, built on first use.
  const PostingIndex& event_functions();
  // Each function's first code range, built on first use.
  const FirstCodeRanges& first_code_ranges();
  // Per-line hits and times (line_times.h), built on first use.
  const LineTimes& lines();

 private:
  TraceView(std::unique_ptr<TraceReader> reader, dev_t dev, ino_t ino)
      : reader_(std::move(reader)), dev_(dev), ino_(ino) {}
  void SnapshotThreadEnds();

  std::unique_ptr<TraceReader> reader_;
  dev_t dev_;
  ino_t ino_;
  TimeScale time_;
  std::vector<uint64_t> ended_;  // thread end ticks read before the refresh
  std::unique_ptr<CallTree> calls_;
  std::unique_ptr<PostingIndex> event_functions_;
  std::unique_ptr<FirstCodeRanges> first_code_ranges_;
  std::unique_ptr<LineTimes> lines_;
};

}  // namespace tracestore

#endif  // TRACESTORE_TRACE_VIEW_H_
