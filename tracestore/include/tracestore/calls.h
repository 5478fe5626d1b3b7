// Call slices: the events of each thread matched into calls with a start,
// a duration, a depth and a parent (Perfetto's "slices"), built
// incrementally so that following a live trace only processes new events.
//
//   auto trace = TraceReader::Open("run.trace");
//   CallTree calls;
//   calls.Update(**trace, ended);   // ended: ThreadEndTicks seen before the
//                                   // reader's last Refresh (see Update)
//   TimeScale time((*trace)->header().ticks_per_second);
//   CallFilter f;
//   f.depth_max = 0;                // top-level calls only
//   for (CallScan s(calls, time, f); !s.done(); s.Next())
//     use(s.id(), s.slice().function, time.ToNs(s.slice().start_ticks));
//
// How events become slices, per thread:
//   - call (1), resume (4) and c_call (7) open a slice; its parent is the
//     innermost open slice and its depth the number of open slices.
//   - return (2), unwind (3), yield (5) and c_return (8) close the innermost
//     open slice of the same function (function 0: the innermost slice). The
//     slices opened inside it that are still open close at the same time
//     (their own closing events are missing). A closing event that matches
//     no open slice (the recording started inside the call) is ignored and
//     counted in unmatched(). The search looks at most kMaxCloseSearch
//     levels down, so damaged input cannot make it quadratic.
//   - line (6) and mark (9) events are not slices.
//   - A flight-recorder trace's thread whose window starts inside calls
//     (TraceReader::window_truncated) shows closes whose calls fell out of
//     the window. Those calls are shown as slices that start at the
//     thread's first event in the window, flagged kSliceStartsBeforeWindow
//     (their true start is earlier: their duration is a lower bound), one
//     per level, outermost first and parents of what opened in the window.
//   - A slice opened by a resume (4) is a generator's or coroutine's
//     continuation, not a new call: count calls with open_kind != kResume.
//   - A slice is *recursive* (kSliceRecursive) when a slice of the same
//     function is open below it in its thread when it opens. Summing the
//     durations of the slices that are not recursive counts each function's
//     time once however deep it recurses: Profile's total_ns (`top`).
//   - A slice still open has no end while its thread runs. Once the thread
//     has ended (every thread has when the trace is closed), its open slices
//     are closed at the thread's end time. A trace whose writer died keeps
//     them open.
//
// A slice's id is the row id (event_scan.h) of the event that opened it, so
// it is stable while the trace grows and equals that event's id. A slice
// flagged kSliceStartsBeforeWindow takes the ids of the positions just
// before the window (its opening event was overwritten).
//
// A ring's window start moving (TraceReader::window_moves) makes Update()
// start over from the new window.
//
// Thread-safety: none; one thread at a time.

#ifndef TRACESTORE_CALLS_H_
#define TRACESTORE_CALLS_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "tracestore/event_scan.h"
#include "tracestore/format.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

// CallSlice::flags: the call started before its thread's window (its
// start_ticks is the window's start, not the call's); a slice of the same
// function was open below it when it opened.
inline constexpr uint8_t kSliceStartsBeforeWindow = 1u << 0;
inline constexpr uint8_t kSliceRecursive = 1u << 1;

// The calls open at the start of a thread's window: the functions of the
// closes in `events` that match no call opened in them (by the rules
// above), outermost first. Empty when the window starts outside any call.
std::vector<uint32_t> FramesOpenAtWindowStart(
    std::span<const format::EventRecord> events);

struct CallSlice {
  static constexpr uint64_t kOpen = std::numeric_limits<uint64_t>::max();

  uint64_t open_index;   // index (in its thread's whole record, see
                         // TraceReader::events_first) of the opening event
  uint64_t start_ticks;  // ticks since the trace started
  uint64_t end_ticks;    // kOpen while open; never below start_ticks
  uint64_t child_ticks;  // time spent in its closed children
  uint64_t parent;       // index + 1 of the parent slice (same thread); 0: root
  uint32_t function;     // function id of the opening event
  uint32_t call_line;    // the opening event's value: the caller's line
  uint32_t depth;        // 0 for a root
  uint8_t open_kind;     // format::EventKind of the opening event
  uint8_t flags;         // kSlice*
  uint8_t reserved[2];

  bool open() const { return end_ticks == kOpen; }
  bool recursive() const { return (flags & kSliceRecursive) != 0; }
  bool resumed() const {
    return open_kind == static_cast<uint8_t>(format::EventKind::kResume);
  }
  uint64_t dur_ticks() const { return end_ticks - start_ticks; }
  uint64_t self_ticks() const {
    const uint64_t d = dur_ticks();
    return d > child_ticks ? d - child_ticks : 0;
  }
};

class CallTree {
 public:
  static constexpr size_t kMaxCloseSearch = 1024;
  static constexpr uint32_t kDenseActive = 1u << 22;

  CallTree();
  ~CallTree();
  CallTree(const CallTree&) = delete;
  CallTree& operator=(const CallTree&) = delete;

  // Processes the events the reader shows beyond those already processed.
  // thread_ended[i] is thread i's end time as read *before* the reader's
  // last Refresh() (0 while it ran, or if unknown): a thread seen ended then
  // has all its events in the refreshed reader, so its open slices can be
  // closed at that time. Reading it after the refresh could close slices
  // whose last events the refresh did not pick up.
  void Update(const TraceReader& trace, std::span<const uint64_t> thread_ended);

  // Builds the function index over the slices now and keeps it current in
  // later Updates. Idempotent.
  void EnableFunctionIndex(const TraceReader& trace);
  // Null until EnableFunctionIndex().
  const PostingIndex* function_index() const { return functions_.get(); }

  uint32_t thread_count() const {
    return static_cast<uint32_t>(threads_.size());
  }
  // Slices of a thread, in order of their opening event (so by start time).
  std::span<const CallSlice> slices(uint32_t thread) const {
    if (thread >= threads_.size()) return {};
    return threads_[thread].slices;
  }
  uint64_t size() const;  // slices in all threads
  uint64_t unmatched() const;
  // Slices flagged kSliceStartsBeforeWindow.
  uint64_t started_before_window() const;

 private:
  struct ThreadCalls {
    std::vector<CallSlice> slices;
    std::vector<uint64_t> stack;  // indexes of open slices, innermost last
    // Open slices per function id (index), for kSliceRecursive; ids past
    // kDenseActive (damaged input) are looked up in the stack instead.
    std::vector<uint32_t> active;
    uint64_t processed = 0;       // events consumed
    uint64_t base = 0;            // TraceReader::events_first
    uint64_t unmatched = 0;
    uint64_t before_window = 0;   // slices flagged kSliceStartsBeforeWindow
    bool finished = false;        // ended: open slices were closed
    bool truncated = false;       // window_truncated when processing began
    bool rebuild = false;         // a close matched nothing: start over
  };
  void Process(ThreadCalls& t, std::span<const format::EventRecord> events);
  static void Open(ThreadCalls& t, CallSlice s);
  void Close(ThreadCalls& t, uint32_t function, uint64_t ticks);
  void CloseAbove(ThreadCalls& t, size_t keep, uint64_t ticks);
  static bool OpenIn(const ThreadCalls& t, uint32_t function);
  void IndexFunctions(const TraceReader& trace);

  std::vector<ThreadCalls> threads_;
  std::unique_ptr<PostingIndex> functions_;
  uint64_t window_moves_ = 0;
};

// A ScanFilter (ids, times, threads, functions) plus a depth range.
struct CallFilter : ScanFilter {
  uint32_t depth_min = 0, depth_max = std::numeric_limits<uint32_t>::max();
};

namespace internal {
class CallSource : public RowSource {
 public:
  CallSource(const CallTree& calls, const TimeScale& time)
      : calls_(calls), time_(time) {}
  uint32_t thread_count() const override { return calls_.thread_count(); }
  uint64_t size(uint32_t thread) const override {
    return calls_.slices(thread).size();
  }
  uint64_t LowerBoundId(uint32_t thread, uint64_t id) const override;
  uint64_t LowerBoundNs(uint32_t thread, uint64_t ns) const override;

 private:
  const CallTree& calls_;
  const TimeScale& time_;
};
}  // namespace internal

// The slices a CallFilter selects, in id order (or function order with
// by_function, which needs CallTree::EnableFunctionIndex()). Must not be used
// across an Update() of the tree.
class CallScan {
 public:
  CallScan(const CallTree& calls, const TimeScale& time,
           const CallFilter& filter);
  CallScan(const CallScan&) = delete;
  CallScan& operator=(const CallScan&) = delete;

  bool done() const { return scan_.done(); }
  void Next() {
    scan_.Next();
    SkipByDepth();
  }
  uint32_t thread() const { return scan_.thread(); }
  const CallSlice& slice() const { return span_[scan_.index()]; }
  uint64_t id() const { return MakeRowId(scan_.thread(), slice().open_index); }
  // The parent's id; false for a root.
  bool parent_id(uint64_t* id) const {
    const uint64_t p = slice().parent;
    if (p == 0 || p > span_.size()) return false;
    *id = MakeRowId(scan_.thread(), span_[p - 1].open_index);
    return true;
  }

 private:
  void SkipByDepth() {
    while (!scan_.done()) {
      if (scan_.thread() != span_thread_) {
        span_thread_ = scan_.thread();
        span_ = calls_.slices(span_thread_);
      }
      uint64_t ahead;  // through the function index: jumps, prefetch
      if (scan_.IndexAhead(EventScan::kPrefetchAhead, &ahead) &&
          ahead < span_.size())
        __builtin_prefetch(&span_[ahead]);
      const uint32_t depth = span_[scan_.index()].depth;
      if (depth >= depth_min_ && depth <= depth_max_) return;
      scan_.Next();
    }
  }

  const CallTree& calls_;
  internal::CallSource source_;
  internal::RowScan scan_;
  uint32_t depth_min_, depth_max_;
  uint32_t span_thread_ = std::numeric_limits<uint32_t>::max();
  std::span<const CallSlice> span_;
};

}  // namespace tracestore

#endif  // TRACESTORE_CALLS_H_
