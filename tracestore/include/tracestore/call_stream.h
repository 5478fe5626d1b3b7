// CallStream: the events of each thread matched into calls one at a time,
// with only the open calls in memory. CallTree (calls.h) keeps every slice
// for random access by the SQL tables; CallStream hands each call to a
// visitor as it opens and as it closes, so that the live profile (profile.h)
// and the exporters (export/*.h) run in memory bounded by the call depth,
// whatever the trace's length.
//
//   class Counter : public CallVisitor {
//     void OnClose(uint32_t thread, std::span<const OpenCall> stack,
//                  uint64_t end_ticks) override { ++closed; }
//    public:
//     uint64_t closed = 0;
//   } counter;
//   CallStream stream;
//   stream.Update(*trace, ended, counter);   // only new events each time
//   stream.FinishAll(counter);               // close what is still open
//
// The matching rules are CallTree's, exactly (calls.h): call, resume and
// c_call open a call; return, unwind, yield and c_return close the innermost
// open call of the same function and, first, the calls opened inside it
// that are still open; a close that matches nothing (or nothing within
// CallTree::kMaxCloseSearch levels) is counted in unmatched(); a thread seen
// ended has its open calls closed at its end time. So the calls a stream
// reports are the rows of the `calls` table, with the same start, end,
// depth, parent and child time.
//
// A flight-recorder thread whose window starts inside calls opens, before
// its first event, the calls open at the window start (FramesOpenAtWindowStart,
// flagged kSliceStartsBeforeWindow), as CallTree does. A close that matches
// none of them later (a frame further out, seen only now) is counted in
// unmatched(). When a ring's window start moves (TraceReader::window_moves),
// what was reported is stale: the owner starts over with Reset().
//
// Thread-safety: none; one thread at a time. The spans passed to a visitor
// are valid only during the call.

#ifndef TRACESTORE_CALL_STREAM_H_
#define TRACESTORE_CALL_STREAM_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "tracestore/format.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

// A call that has opened and not yet closed. Its depth is its position in
// the stack; its parent the entry below it.
struct OpenCall {
  uint64_t open_index;   // index (in its thread) of the opening event
  uint64_t start_ticks;  // ticks since the trace started
  uint64_t child_ticks;  // time spent in its closed children so far
  uint32_t function;     // function id of the opening event (0: none)
  uint32_t call_line;    // the opening event's value: the caller's line
  uint8_t open_kind;     // format::EventKind of the opening event
  uint8_t flags = 0;     // kSliceStartsBeforeWindow (calls.h)
};

// Receives calls from a CallStream. `stack` holds the thread's open calls,
// outermost first; the call concerned is stack.back().
class CallVisitor {
 public:
  virtual ~CallVisitor() = default;
  // stack.back() has just opened.
  virtual void OnOpen(uint32_t thread, std::span<const OpenCall> stack) {
    (void)thread;
    (void)stack;
  }
  // stack.back() closes at end_ticks (>= its start); its child_ticks are
  // final. Its duration is added to its parent's child_ticks after this.
  virtual void OnClose(uint32_t thread, std::span<const OpenCall> stack,
                       uint64_t end_ticks) = 0;
};

class CallStream {
 public:
  // Called with the number of events consumed so far (all threads), every
  // kProgressEvents events or so.
  using Progress = std::function<void(uint64_t events_done)>;
  static constexpr uint64_t kProgressEvents = uint64_t{1} << 20;

  CallStream() = default;
  CallStream(const CallStream&) = delete;
  CallStream& operator=(const CallStream&) = delete;

  // Processes, thread by thread, the events the reader shows beyond those
  // already processed. thread_ended[i] is thread i's end time as read
  // *before* the reader's last Refresh() (0 while it ran), with the meaning
  // CallTree::Update gives it.
  void Update(const TraceReader& trace, std::span<const uint64_t> thread_ended,
              CallVisitor& visitor, const Progress& progress = nullptr);

  // One thread: processes at most `max_events` of its new events (so a
  // caller can interleave progress reports); closes its open calls if it
  // was seen ended and every event shown has been processed. Returns the
  // events processed.
  uint64_t UpdateThread(
      const TraceReader& trace, uint32_t thread, uint64_t ended_ticks,
      CallVisitor& visitor,
      uint64_t max_events = std::numeric_limits<uint64_t>::max());

  // Closes the calls still open in `thread` at its last processed event's
  // time (or its start), as an export of a live trace or of one whose writer
  // died must. Returns how many it closed. Later events of the thread would
  // no longer match them: use it once, at the end.
  uint64_t FinishThread(uint32_t thread, CallVisitor& visitor);
  uint64_t FinishAll(CallVisitor& visitor);

  uint32_t thread_count() const {
    return static_cast<uint32_t>(threads_.size());
  }
  // The open calls of a thread, outermost first.
  std::span<const OpenCall> stack(uint32_t thread) const {
    if (thread >= threads_.size()) return {};
    return threads_[thread].stack;
  }
  // Events of the thread consumed so far, and the time of the last one.
  uint64_t processed(uint32_t thread) const {
    return thread < threads_.size() ? threads_[thread].processed : 0;
  }
  uint64_t last_ticks(uint32_t thread) const {
    return thread < threads_.size() ? threads_[thread].last_ticks : 0;
  }
  // True once the thread was seen ended and its calls closed.
  bool finished(uint32_t thread) const {
    return thread < threads_.size() && threads_[thread].finished;
  }
  uint64_t processed_events() const { return processed_events_; }
  uint64_t unmatched() const { return unmatched_; }
  // Forgets everything (a moved window: see above).
  void Reset() {
    threads_.clear();
    processed_events_ = 0;
    unmatched_ = 0;
  }

 private:
  struct ThreadState {
    std::vector<OpenCall> stack;
    uint64_t processed = 0;
    uint64_t last_ticks = 0;
    bool finished = false;
  };
  void Close(uint32_t thread, ThreadState& t, uint32_t function, uint64_t ticks,
             CallVisitor& visitor);
  void CloseAbove(uint32_t thread, ThreadState& t, size_t keep, uint64_t ticks,
                  CallVisitor& visitor);

  std::vector<ThreadState> threads_;
  uint64_t processed_events_ = 0;
  uint64_t unmatched_ = 0;
};

// Reads every thread's end time, then refreshes the reader: the pair
// CallStream::Update (and CallTree::Update) want. `ended` is resized to the
// threads seen before the refresh.
absl::Status RefreshWithThreadEnds(TraceReader& trace,
                                   std::vector<uint64_t>* ended);

}  // namespace tracestore

#endif  // TRACESTORE_CALL_STREAM_H_
