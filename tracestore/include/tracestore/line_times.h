// Line times: the line events of each thread (record --lines) turned into
// per-(function, line) hits and time, built incrementally so that following
// a live trace only processes new events.
//
//   auto trace = TraceReader::Open("run.trace");
//   LineTimes lines;
//   lines.Update(**trace, ended);   // ended: as for CallTree::Update
//   for (const LineTimes::Row& r : lines.Rows(0, UINT32_MAX))
//     use(r.function, r.line, r.stat.hits, r.stat.self_ticks);
//
// What a line's time is. Per thread, a stack of frames is kept the way
// CallTree keeps slices: call (1), resume (4) and c_call (7) push one;
// return (2), unwind (3), yield (5) and c_return (8) pop the innermost frame
// of the same function (and any left open above it). In each frame the
// *current line* is the last line (6) event of that frame. It runs from its
// line event until the frame's next line event or the frame's end (return,
// unwind or yield), whichever comes first. Of that span:
//   - time_in_calls is the time spent in callees started from it (their
//     call/resume/c_call to their return/unwind/yield/c_return), whole,
//     including their own callees and lines;
//   - self is the rest: the line running in its own frame.
// A hit is one line event. So:
//   - generators: a generator's frame ends at its yield; the time until it
//     is resumed belongs to whoever runs meanwhile (the caller's line that
//     resumes it counts the generator's run as time_in_calls). After a
//     resume, until the next line event, the generator's current line is
//     the line of its last yield on that thread (no hit: the line did not
//     start again). CPython emits a line event on resume on some versions
//     and not on others; this makes the time the same either way.
//   - exceptions: a line that raises runs until the next line event of its
//     frame (an except clause or finally: a new line), or until the unwind
//     that leaves the frame. Time spent in callees that raise is
//     time_in_calls up to their unwind event.
//   - recursion: each frame has its own current line, so a recursive call
//     is time_in_calls of the calling line and its own lines count for
//     themselves. Self times never overlap (they add up to at most the
//     thread's time); totals (self + time_in_calls) of a recursive
//     function's lines count the inner calls again, as cumulative times do.
//   - time in a frame before its first line event (a call's entry, a few
//     instructions) is in no line.
// A line event whose function is not the innermost frame's is matched down
// the stack (frames above it lost their closing events and end there); one
// of a function not on the stack at all (recording started inside it)
// starts a frame for it. Lines still running when the update ran have their
// hit counted and their time counted once they end; once a thread has
// ended, its open frames end at the thread's end time.
//
// Thread-safety: none; one thread at a time.

#ifndef TRACESTORE_LINE_TIMES_H_
#define TRACESTORE_LINE_TIMES_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tracestore/format.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

struct LineStat {
  uint64_t hits = 0;
  uint64_t self_ticks = 0;
  uint64_t call_ticks = 0;  // time_in_calls
  uint64_t total_ticks() const { return self_ticks + call_ticks; }
};

class LineTimes {
 public:
  static constexpr size_t kMaxMatchSearch = 1024;

  struct Row {
    uint32_t function;
    uint32_t line;
    LineStat stat;
  };

  LineTimes();
  ~LineTimes();
  LineTimes(const LineTimes&) = delete;
  LineTimes& operator=(const LineTimes&) = delete;

  // Processes the events beyond those already processed; thread_ended as
  // in CallTree::Update.
  void Update(const TraceReader& trace, std::span<const uint64_t> thread_ended);

  // The (function, line) rows with function in [function_min,
  // function_max], ordered by function then line.
  std::vector<Row> Rows(uint32_t function_min, uint32_t function_max) const;

  uint64_t line_events() const { return line_events_; }
  // Closing events that matched no frame (recording started inside).
  uint64_t unmatched() const { return unmatched_; }

  // (function, line) as one key: function in the high half, so keys sort
  // by function then line. Also the SQL table's rowid.
  static uint64_t Key(uint32_t function, uint32_t line) {
    return (uint64_t{function} << 32) | line;
  }

 private:
  struct Frame {
    uint32_t function;
    uint32_t line;      // current line, 0 = none yet
    uint64_t start;     // ticks the frame started
    uint64_t since;     // ticks the current line started
    uint64_t in_calls;  // callee time since then
  };
  struct ThreadLines {
    std::vector<Frame> stack;
    absl::flat_hash_map<uint32_t, uint32_t> yield_line;  // by function
    uint64_t processed = 0;
    bool finished = false;
  };
  void Process(ThreadLines& t, std::span<const format::EventRecord> events);
  void Line(ThreadLines& t, uint32_t function, uint32_t line, uint64_t ticks);
  void Close(ThreadLines& t, uint32_t function, uint64_t ticks);
  void PopAbove(ThreadLines& t, size_t keep, uint64_t ticks);
  void EndLine(Frame& f, uint64_t ticks);

  std::vector<ThreadLines> threads_;
  absl::flat_hash_map<uint64_t, LineStat> stats_;
  uint64_t line_events_ = 0;
  uint64_t unmatched_ = 0;
};

}  // namespace tracestore

#endif  // TRACESTORE_LINE_TIMES_H_
