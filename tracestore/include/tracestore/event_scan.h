// Event scans: stable row ids, exact tick-to-ns conversion, seeks by id and
// time, and a per-function posting index. The SQL tables (sqlite_ext) are a
// thin adapter over these; tools can use them directly.
//
//   auto trace = TraceReader::Open("run.trace");
//   TimeScale time((*trace)->header().ticks_per_second);
//   ScanFilter f;
//   f.ts_min = 1'000'000;                     // ns since the trace started
//   f.ts_max = 2'000'000;                     // inclusive
//   f.thread_min = f.thread_max = 0;
//   for (EventScan s(**trace, time, f, nullptr); !s.done(); s.Next())
//     printf("%llu %llu\n", s.id(), time.ToNs(format::EventTicks(s.event())));
//
// Ids. A row's id packs its thread and its position in that thread:
// (thread << 40) | index (MakeRowId). Rows only ever get appended, so an id
// never changes while a live trace grows, and ids increase along a scan.
// The index counts every event the thread recorded: in a flight-recorder
// trace whose window lost a thread's first events, its ids start at
// TraceReader::events_first (and stay the same as the window moves).
//
// Seeks. Events of a thread are in time order (format.h), so a time range is
// two binary searches per thread; an id range is arithmetic. On a damaged
// trace whose times go backwards a time seek may miss rows; `verify` reports
// such a trace.
//
// Thread-safety: none; one thread at a time. A scan reads spans of its
// TraceReader: it must not outlive the reader, nor be used across a Refresh()
// of it (the mapping may move).

#ifndef TRACESTORE_EVENT_SCAN_H_
#define TRACESTORE_EVENT_SCAN_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <string_view>
#include <vector>

#include "tracestore/format.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

// ---------------------------------------------------------------------------
// Row ids
// ---------------------------------------------------------------------------

inline constexpr int kRowIdIndexBits = 40;  // 2^40 rows per thread
inline constexpr uint64_t kRowIdIndexMask =
    (uint64_t{1} << kRowIdIndexBits) - 1;
// Thread indexes at or above this have no id (it would not fit in an int64);
// scans skip them.
inline constexpr uint32_t kMaxRowIdThreads = 1u << (63 - kRowIdIndexBits);

inline constexpr uint64_t MakeRowId(uint32_t thread, uint64_t index) {
  return (uint64_t{thread} << kRowIdIndexBits) | index;
}
inline constexpr uint32_t RowIdThread(uint64_t id) {
  return static_cast<uint32_t>(id >> kRowIdIndexBits);
}
inline constexpr uint64_t RowIdIndex(uint64_t id) {
  return id & kRowIdIndexMask;
}

// "call", "return", ... as the SQL tables spell them; "" for an unknown kind.
std::string_view EventKindName(format::EventKind kind);
// "point", "start", "stop"; "" for an unknown kind.
std::string_view MarkKindName(uint32_t kind);

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

// Ticks since the trace started to nanoseconds, for one ticks_per_second.
// Gives exactly TicksToNs(ticks, ticks_per_second) (clock.h), with a
// multiplication instead of a 128-bit division on the common paths.
class TimeScale {
 public:
  explicit TimeScale(uint64_t ticks_per_second = 1'000'000'000);
  uint64_t ticks_per_second() const { return tps_; }
  uint64_t ToNs(uint64_t ticks) const {
    if (mode_ == Mode::kIdentity) return ticks;
    if (mode_ == Mode::kReciprocal) {
      // q is floor(ticks * 1e9 / tps) or one less (see the constructor).
      const uint64_t q = static_cast<uint64_t>(
          (static_cast<unsigned __int128>(ticks) * reciprocal_) >> 64);
      const unsigned __int128 scaled =
          static_cast<unsigned __int128>(ticks) * 1'000'000'000u;
      return static_cast<unsigned __int128>(q + 1) * tps_ <= scaled ? q + 1 : q;
    }
    return Slow(ticks);
  }

 private:
  enum class Mode { kIdentity, kReciprocal, kSlow };
  uint64_t Slow(uint64_t ticks) const;
  uint64_t tps_;
  Mode mode_;
  uint64_t reciprocal_ = 0;  // floor(1e9 * 2^64 / tps), tps > 1e9
};

// ---------------------------------------------------------------------------
// Filters and the posting index
// ---------------------------------------------------------------------------

// Which rows a scan visits. All bounds are inclusive; the defaults admit
// every row.
struct ScanFilter {
  uint64_t id_min = 0, id_max = std::numeric_limits<uint64_t>::max();
  uint64_t ts_min = 0, ts_max = std::numeric_limits<uint64_t>::max();  // ns
  uint32_t thread_min = 0, thread_max = std::numeric_limits<uint32_t>::max();
  // With by_function, rows are visited through the posting index, function
  // by function in ascending id order (then thread, then id), restricted to
  // [function_min, function_max]. Without it the bounds are ignored and rows
  // come in id order.
  bool by_function = false;
  uint32_t function_min = 0;
  uint32_t function_max = std::numeric_limits<uint32_t>::max();
  bool empty = false;  // the constraints contradict each other: no rows

  void OnlyFunction(uint32_t function) {
    by_function = true;
    function_min = function_max = function;
  }
};

// For each function id, the positions (row indexes, ascending) of the rows
// of each thread that carry it. Built incrementally: Extend() indexes only
// the rows appended since the last call.
//
// Function ids up to `dense_limit` live in a vector; ids beyond it (only a
// damaged trace has them: a sound one never refers to a function it has not
// stored) go to an ordered map, so no id can make the index allocate
// unboundedly.
class PostingIndex {
 public:
  // Indexes rows [indexed(thread), row_count) of `thread`; key(i) gives the
  // function id of row i. dense_limit: the highest function id expected.
  template <class KeyFn>
  void Extend(uint32_t thread, uint64_t row_count, uint32_t dense_limit,
              KeyFn key) {
    Grow(thread, dense_limit);
    for (uint64_t i = indexed_[thread]; i < row_count; ++i)
      List(key(i), thread).push_back(i);
    if (row_count > indexed_[thread]) indexed_[thread] = row_count;
  }
  uint64_t indexed(uint32_t thread) const {
    return thread < indexed_.size() ? indexed_[thread] : 0;
  }
  // The rows of `thread` with `function`; empty if none.
  std::span<const uint64_t> Get(uint32_t function, uint32_t thread) const;
  // The smallest function id > after that has rows; false if none.
  bool NextKey(uint32_t after, uint32_t* key) const;
  bool FirstKey(uint32_t* key) const;

 private:
  using PerThread = std::vector<std::vector<uint64_t>>;
  void Grow(uint32_t thread, uint32_t dense_limit);
  std::vector<uint64_t>& List(uint32_t function, uint32_t thread);
  std::vector<PerThread> dense_;          // by function id
  std::map<uint32_t, PerThread> sparse_;  // ids beyond dense_
  std::vector<uint64_t> indexed_;         // by thread
};

// ---------------------------------------------------------------------------
// Scans
// ---------------------------------------------------------------------------

namespace internal {

// What a RowScan walks: per thread, rows in time order whose ids grow with
// their index. Called only when a scan moves to another thread or function,
// never per row.
class RowSource {
 public:
  virtual ~RowSource() = default;
  virtual uint32_t thread_count() const = 0;
  virtual uint64_t size(uint32_t thread) const = 0;
  // First index whose row id is >= id (size() if none).
  virtual uint64_t LowerBoundId(uint32_t thread, uint64_t id) const = 0;
  // First index whose time in ns is >= ns (size() if none).
  virtual uint64_t LowerBoundNs(uint32_t thread, uint64_t ns) const = 0;
};

// The row positions a ScanFilter selects, in order: (thread, index) pairs,
// from index ranges or from posting lists.
class RowScan {
 public:
  // `index` is needed only when filter.by_function.
  RowScan(const RowSource* source, const ScanFilter& filter,
          const PostingIndex* index);
  bool done() const { return done_; }
  uint32_t thread() const { return thread_; }
  uint64_t index() const { return postings_ ? *post_ : i_; }
  void Next() {
    if (postings_) {
      if (++post_ != post_end_) return;
    } else {
      if (++i_ != end_) return;
    }
    Advance();
  }
  // Through the posting index, rows are visited in jumps: the caller can
  // prefetch the row `ahead` positions on (in this thread; false if fewer
  // remain or the scan is sequential).
  bool IndexAhead(size_t ahead, uint64_t* index) const {
    if (!postings_ || static_cast<size_t>(post_end_ - post_) <= ahead)
      return false;
    *index = post_[ahead];
    return true;
  }

 private:
  void Start();
  void Advance();      // to the next non-empty segment, or done
  bool EnterThread();  // sets up the segment of thread_; false if empty

  const RowSource* source_;
  ScanFilter filter_;
  const PostingIndex* index_;
  bool postings_;
  bool done_ = false;
  uint32_t thread_ = 0, thread_end_ = 0;  // [thread_, thread_end_)
  uint32_t function_ = 0;
  uint64_t i_ = 0, end_ = 0;
  const uint64_t* post_ = nullptr;
  const uint64_t* post_end_ = nullptr;
};

class EventSource : public RowSource {
 public:
  EventSource(const TraceReader& trace, const TimeScale& time)
      : trace_(trace), time_(time) {}
  uint32_t thread_count() const override;
  uint64_t size(uint32_t thread) const override;
  uint64_t LowerBoundId(uint32_t thread, uint64_t id) const override;
  uint64_t LowerBoundNs(uint32_t thread, uint64_t ns) const override;

 private:
  const TraceReader& trace_;
  const TimeScale& time_;
};

}  // namespace internal

// Builds (or extends) the function posting index over a trace's events.
void IndexEventFunctions(const TraceReader& trace, PostingIndex& index);

// The events a ScanFilter selects, in id order (or function order with
// by_function, which needs an index from IndexEventFunctions).
class EventScan {
 public:
  EventScan(const TraceReader& trace, const TimeScale& time,
            const ScanFilter& filter, const PostingIndex* functions);
  EventScan(const EventScan&) = delete;
  EventScan& operator=(const EventScan&) = delete;

  bool done() const { return scan_.done(); }
  void Next() { scan_.Next(); }
  uint32_t thread() const { return scan_.thread(); }
  uint64_t index() const { return scan_.index(); }
  uint64_t id() const {
    if (scan_.thread() != base_thread_) {  // once per thread, not per row
      base_thread_ = scan_.thread();
      base_ = trace_.events_first(base_thread_);
    }
    return MakeRowId(scan_.thread(), base_ + scan_.index());
  }
  const format::EventRecord& event() {
    if (scan_.thread() != span_thread_) {
      span_thread_ = scan_.thread();
      span_ = trace_.events(span_thread_);
    }
    uint64_t ahead;
    if (scan_.IndexAhead(kPrefetchAhead, &ahead) && ahead < span_.size())
      __builtin_prefetch(&span_[ahead]);
    return span_[scan_.index()];
  }
  static constexpr size_t kPrefetchAhead = 12;

 private:
  const TraceReader& trace_;
  internal::EventSource source_;
  internal::RowScan scan_;
  uint32_t span_thread_ = std::numeric_limits<uint32_t>::max();
  std::span<const format::EventRecord> span_;
  mutable uint32_t base_thread_ = std::numeric_limits<uint32_t>::max();
  mutable uint64_t base_ = 0;  // events_first(base_thread_)
};

}  // namespace tracestore

#endif  // TRACESTORE_EVENT_SCAN_H_
