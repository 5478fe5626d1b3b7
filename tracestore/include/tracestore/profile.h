// Profile: per-function call counts, self time and total time, per thread,
// kept current incrementally: each Update() consumes only the events
// written since the last one, through a CallStream (call_stream.h), so a
// live view of a running trace costs the new events and the open calls,
// never the whole trace again. `tracestore top` and the HTML export's
// function table are built on it.
//
//   auto trace = TraceReader::Open("run.trace");
//   Profile profile;
//   std::vector<uint64_t> ended;
//   for (;;) {
//     RefreshWithThreadEnds(**trace, &ended);      // call_stream.h
//     profile.Update(**trace, ended);
//     for (const FunctionProfile& f :
//          profile.Functions(**trace, Profile::kAllThreads,
//                            LiveNowTicks(**trace)))
//       show(f.function, f.calls, f.self_ns, f.total_ns);
//     sleep(1);
//   }
//
// What the numbers mean, per function (and per thread, or summed over all):
//   calls     calls made, open or closed: the rows of the `calls` table
//             but those opened by a resume (a generator or coroutine
//             continued, kind 'resume'), which are not new calls.
//   resumes   the rows opened by a resume. Their time counts in self_ns
//             and total_ns like a call's.
//   self_ns   time in the function itself, not in the calls it made: the
//             sum of `self_dur` over its calls.
//   total_ns  time from entering to leaving it, counting a recursive call
//             inside another call of the same function once (cProfile's
//             cumulative time): only the outermost call of a function in a
//             thread's stack adds its duration.
//   open      calls still open. Functions() counts them in self_ns and
//             total_ns up to `now_ticks` (or up to their thread's last event
//             if that is later): the function a program is stuck in shows.
//
// A Profile is also a CallVisitor: an exporter that already streams the
// calls can feed it from its own CallStream instead of calling Update()
// (then Functions() counts no open calls: close them first with
// CallStream::FinishAll). Use one way or the other, not both.
//
// Memory: one small hash table entry per (thread, function) seen, and the
// open calls. Thread-safety: none; one thread at a time.

#ifndef TRACESTORE_PROFILE_H_
#define TRACESTORE_PROFILE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "tracestore/call_stream.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

struct FunctionProfile {
  uint32_t function = 0;  // function id (0: events without one)
  uint64_t calls = 0;
  uint64_t resumes = 0;
  uint64_t open = 0;
  uint64_t self_ns = 0;
  uint64_t total_ns = 0;
};

class Profile final : public CallVisitor {
 public:
  static constexpr uint32_t kAllThreads = std::numeric_limits<uint32_t>::max();

  Profile();
  ~Profile() override;
  Profile(const Profile&) = delete;
  Profile& operator=(const Profile&) = delete;

  // Consumes the events the reader shows beyond those already seen.
  // thread_ended as for CallStream::Update (RefreshWithThreadEnds).
  void Update(const TraceReader& trace, std::span<const uint64_t> thread_ended);

  // CallVisitor: for a Profile fed by another CallStream.
  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override;
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override;

  // One entry per function seen in `thread` (or in any, for kAllThreads),
  // in function id order; times in ns at the reader's current tick rate.
  // now_ticks: how far the calls still open have run (0: up to each
  // thread's last event).
  std::vector<FunctionProfile> Functions(const TraceReader& trace,
                                         uint32_t thread = kAllThreads,
                                         uint64_t now_ticks = 0) const;

  // Calls made so far in a thread (or in all); resumes not counted.
  uint64_t calls(uint32_t thread = kAllThreads) const;
  // The stream Update() drives: its open calls, events consumed, unmatched.
  const CallStream& stream() const { return stream_; }

 private:
  struct ThreadData;
  ThreadData& Thread(uint32_t thread);

  CallStream stream_;
  std::vector<std::unique_ptr<ThreadData>> threads_;
  uint64_t window_moves_ = 0;  // a moved ring window: start over
};

// The trace clock now, in ticks since the trace started, estimated from
// CLOCK_MONOTONIC and the header's start anchor: for a trace being written
// on this machine (its writer alive). 0 when the trace is not live.
uint64_t LiveNowTicks(const TraceReader& trace);

}  // namespace tracestore

#endif  // TRACESTORE_PROFILE_H_
