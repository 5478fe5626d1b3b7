// Event scans: TimeScale, PostingIndex, RowScan and the event source.

#include "tracestore/event_scan.h"

#include <algorithm>

#include "tracestore/clock.h"

namespace tracestore {

std::string_view EventKindName(format::EventKind kind) {
  using format::EventKind;
  switch (kind) {
    case EventKind::kCall:
      return "call";
    case EventKind::kReturn:
      return "return";
    case EventKind::kUnwind:
      return "unwind";
    case EventKind::kResume:
      return "resume";
    case EventKind::kYield:
      return "yield";
    case EventKind::kLine:
      return "line";
    case EventKind::kCCall:
      return "c_call";
    case EventKind::kCReturn:
      return "c_return";
    case EventKind::kMark:
      return "mark";
  }
  return {};
}

std::string_view MarkKindName(uint32_t kind) {
  switch (static_cast<format::MarkKind>(kind)) {
    case format::MarkKind::kPoint:
      return "point";
    case format::MarkKind::kStart:
      return "start";
    case format::MarkKind::kStop:
      return "stop";
  }
  return {};
}

// ---------------------------------------------------------------------------
// TimeScale
// ---------------------------------------------------------------------------

TimeScale::TimeScale(uint64_t ticks_per_second) : tps_(ticks_per_second) {
  if (tps_ == 0 || tps_ == 1'000'000'000u) {
    mode_ = Mode::kIdentity;  // as TicksToNs does
  } else if (tps_ > 1'000'000'000u) {
    // r = floor(1e9 * 2^64 / tps) < 2^64. For any ticks T,
    //   T * 1e9 / tps - T * r / 2^64 = T * (1e9 * 2^64 / tps - r) / 2^64 < 1,
    // so floor(T * r / 2^64) is the exact quotient or one less; ToNs tests
    // which with one multiplication.
    mode_ = Mode::kReciprocal;
    reciprocal_ = static_cast<uint64_t>(
        (static_cast<unsigned __int128>(1'000'000'000u) << 64) / tps_);
  } else {
    mode_ = Mode::kSlow;  // a clock slower than 1 GHz: divide
  }
}

uint64_t TimeScale::Slow(uint64_t ticks) const {
  return TicksToNs(ticks, tps_);
}

// ---------------------------------------------------------------------------
// PostingIndex
// ---------------------------------------------------------------------------

void PostingIndex::Grow(uint32_t thread, uint32_t dense_limit) {
  if (indexed_.size() <= thread) indexed_.resize(size_t{thread} + 1, 0);
  if (dense_.size() <= dense_limit) {
    dense_.resize(size_t{dense_limit} + 1);
    // Ids that were beyond the old limit move in. They have no dense rows
    // yet (they were sparse), so their lists move whole.
    auto it = sparse_.begin();
    while (it != sparse_.end() && it->first <= dense_limit) {
      dense_[it->first] = std::move(it->second);
      it = sparse_.erase(it);
    }
  }
}

std::vector<uint64_t>& PostingIndex::List(uint32_t function, uint32_t thread) {
  PerThread& per_thread =
      function < dense_.size() ? dense_[function] : sparse_[function];
  if (per_thread.size() <= thread) per_thread.resize(size_t{thread} + 1);
  return per_thread[thread];
}

std::span<const uint64_t> PostingIndex::Get(uint32_t function,
                                            uint32_t thread) const {
  const PerThread* per_thread = nullptr;
  if (function < dense_.size()) {
    per_thread = &dense_[function];
  } else if (auto it = sparse_.find(function); it != sparse_.end()) {
    per_thread = &it->second;
  }
  if (per_thread == nullptr || thread >= per_thread->size()) return {};
  return (*per_thread)[thread];
}

bool PostingIndex::NextKey(uint32_t after, uint32_t* key) const {
  if (after == std::numeric_limits<uint32_t>::max()) return false;
  for (size_t f = size_t{after} + 1; f < dense_.size(); ++f) {
    if (!dense_[f].empty()) {
      *key = static_cast<uint32_t>(f);
      return true;
    }
  }
  auto it = sparse_.upper_bound(after);
  if (it == sparse_.end()) return false;
  *key = it->first;
  return true;
}

bool PostingIndex::FirstKey(uint32_t* key) const {
  if (!dense_.empty() && !dense_[0].empty()) {
    *key = 0;
    return true;
  }
  return NextKey(0, key);
}

// ---------------------------------------------------------------------------
// RowScan
// ---------------------------------------------------------------------------

namespace internal {

RowScan::RowScan(const RowSource* source, const ScanFilter& filter,
                 const PostingIndex* index)
    : source_(source),
      filter_(filter),
      index_(index),
      postings_(filter.by_function && index != nullptr) {
  Start();
}

void RowScan::Start() {
  const ScanFilter& f = filter_;
  // Threads the filter admits, narrowed by the id bounds.
  uint64_t first = std::max<uint64_t>(f.thread_min, RowIdThread(f.id_min));
  uint64_t last = std::min<uint64_t>(
      {uint64_t{f.thread_max}, RowIdThread(f.id_max),
       uint64_t{source_->thread_count()} - 1, uint64_t{kMaxRowIdThreads} - 1});
  if (f.empty || f.id_min > f.id_max || f.ts_min > f.ts_max ||
      source_->thread_count() == 0 || first > last ||
      (filter_.by_function && index_ == nullptr) ||
      (postings_ && f.function_min > f.function_max)) {
    done_ = true;
    return;
  }
  thread_end_ = static_cast<uint32_t>(last + 1);
  const uint32_t first_thread = static_cast<uint32_t>(first);
  if (postings_) {
    // Visit functions from function_min: the first key >= function_min.
    uint32_t key;
    bool found = f.function_min == 0
                     ? index_->FirstKey(&key)
                     : index_->NextKey(f.function_min - 1, &key);
    if (!found || key > f.function_max) {
      done_ = true;
      return;
    }
    function_ = key;
  }
  thread_ = first_thread;
  if (!EnterThread()) Advance();
}

bool RowScan::EnterThread() {
  const ScanFilter& f = filter_;
  const uint64_t n = source_->size(thread_);
  // Index range [lo, hi) allowed by the id and time bounds.
  const uint64_t first_id = MakeRowId(thread_, 0);
  const uint64_t last_id = MakeRowId(thread_, kRowIdIndexMask);
  uint64_t lo = 0, hi = n;
  if (f.id_min > first_id) lo = source_->LowerBoundId(thread_, f.id_min);
  if (f.id_max < last_id) hi = source_->LowerBoundId(thread_, f.id_max + 1);
  if (lo < hi && f.ts_min > 0)
    lo = std::max(lo, source_->LowerBoundNs(thread_, f.ts_min));
  if (lo < hi && f.ts_max < std::numeric_limits<uint64_t>::max())
    hi = std::min(hi, source_->LowerBoundNs(thread_, f.ts_max + 1));
  if (lo >= hi) return false;
  if (!postings_) {
    i_ = lo;
    end_ = hi;
    return true;
  }
  std::span<const uint64_t> list = index_->Get(function_, thread_);
  const uint64_t* b =
      std::lower_bound(list.data(), list.data() + list.size(), lo);
  const uint64_t* e = std::lower_bound(b, list.data() + list.size(), hi);
  post_ = b;
  post_end_ = e;
  return b != e;
}

void RowScan::Advance() {
  const uint32_t first_thread = static_cast<uint32_t>(
      std::max<uint64_t>(filter_.thread_min, RowIdThread(filter_.id_min)));
  for (;;) {
    if (++thread_ >= thread_end_) {
      if (!postings_ || !index_->NextKey(function_, &function_) ||
          function_ > filter_.function_max) {
        done_ = true;
        return;
      }
      thread_ = first_thread;
    }
    if (EnterThread()) return;
  }
}

uint32_t EventSource::thread_count() const {
  return static_cast<uint32_t>(trace_.threads().size());
}

uint64_t EventSource::size(uint32_t thread) const {
  return trace_.events(thread).size();
}

uint64_t EventSource::LowerBoundId(uint32_t thread, uint64_t id) const {
  const uint64_t n = size(thread);
  const uint64_t base = trace_.events_first(thread);
  if (id <= MakeRowId(thread, base)) return 0;
  if (RowIdThread(id) > thread) return n;
  return std::min(n, RowIdIndex(id) - base);
}

uint64_t EventSource::LowerBoundNs(uint32_t thread, uint64_t ns) const {
  auto events = trace_.events(thread);
  auto it = std::partition_point(
      events.begin(), events.end(), [&](const format::EventRecord& e) {
        return time_.ToNs(format::EventTicks(e)) < ns;
      });
  return static_cast<uint64_t>(it - events.begin());
}

}  // namespace internal

void IndexEventFunctions(const TraceReader& trace, PostingIndex& index) {
  const uint32_t threads = static_cast<uint32_t>(
      std::min<size_t>(trace.threads().size(), kMaxRowIdThreads));
  const uint32_t dense_limit = static_cast<uint32_t>(trace.functions().size());
  for (uint32_t t = 0; t < threads; ++t) {
    auto events = trace.events(t);
    if (index.indexed(t) >= events.size()) continue;
    index.Extend(t, events.size(), dense_limit,
                 [&](uint64_t i) { return events[i].function; });
  }
}

EventScan::EventScan(const TraceReader& trace, const TimeScale& time,
                     const ScanFilter& filter, const PostingIndex* functions)
    : trace_(trace), source_(trace, time), scan_(&source_, filter, functions) {}

}  // namespace tracestore
