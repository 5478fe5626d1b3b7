// CallTree: incremental matching of call/return events into slices.

#include "tracestore/calls.h"

#include <algorithm>
#include <type_traits>

namespace tracestore {

static_assert(std::is_trivially_copyable_v<CallSlice> &&
              sizeof(CallSlice) == 56);

using format::EventKind;

CallTree::CallTree() = default;
CallTree::~CallTree() = default;

std::vector<uint32_t> FramesOpenAtWindowStart(
    std::span<const format::EventRecord> events) {
  std::vector<uint32_t> orphans;  // innermost first
  std::vector<uint32_t> stack;    // functions opened in the window
  for (const format::EventRecord& e : events) {
    switch (format::GetEventKind(e)) {
      case EventKind::kCall:
      case EventKind::kResume:
      case EventKind::kCCall:
        stack.push_back(e.function);
        break;
      case EventKind::kReturn:
      case EventKind::kUnwind:
      case EventKind::kYield:
      case EventKind::kCReturn: {
        // CallTree::Close's search: the innermost open call of the
        // function (any, for function 0) within kMaxCloseSearch levels.
        size_t pos = stack.size();
        const size_t floor = stack.size() > CallTree::kMaxCloseSearch
                                 ? stack.size() - CallTree::kMaxCloseSearch
                                 : 0;
        while (pos > floor) {
          if (e.function == 0 || stack[pos - 1] == e.function) break;
          --pos;
        }
        if (pos > floor || (pos > 0 && e.function == 0)) {
          stack.resize(pos - 1);
        } else if (stack.size() < CallTree::kMaxCloseSearch) {
          // A call below every one opened here: it closes them all.
          orphans.push_back(e.function);
          stack.clear();
        }
        break;
      }
      default:
        break;
    }
  }
  return {orphans.rbegin(), orphans.rend()};
}

void CallTree::Update(const TraceReader& trace,
                      std::span<const uint64_t> thread_ended) {
  if (trace.window_moves() != window_moves_) {
    // The window start moved: what was built over the old one is stale.
    window_moves_ = trace.window_moves();
    threads_.clear();
    if (functions_) functions_ = std::make_unique<PostingIndex>();
  }
  const size_t threads =
      std::min<size_t>(trace.threads().size(), kMaxRowIdThreads);
  if (threads_.size() < threads) threads_.resize(threads);
  bool rebuilt = false;
  for (size_t i = 0; i < threads; ++i) {
    ThreadCalls& t = threads_[i];
    auto events = trace.events(static_cast<uint32_t>(i));
    if (t.processed == 0 && t.slices.empty()) {
      t.base = trace.events_first(static_cast<uint32_t>(i));
      t.truncated = trace.window_truncated(static_cast<uint32_t>(i));
    }
    if (t.processed < events.size()) Process(t, events);
    if (t.rebuild) {
      // A close below the frames known open at the window start: start the
      // thread over, with that frame among them.
      const uint64_t base = t.base;
      t = ThreadCalls();
      t.base = base;
      t.truncated = true;
      Process(t, events);
      t.rebuild = false;
      rebuilt = true;
    }
    const uint64_t ended = i < thread_ended.size() ? thread_ended[i] : 0;
    if (ended != 0 && !t.finished) {
      CloseAbove(t, 0, ended);
      t.finished = true;
    }
  }
  if (functions_ && rebuilt) functions_ = std::make_unique<PostingIndex>();
  if (functions_) IndexFunctions(trace);
}

void CallTree::Process(ThreadCalls& t,
                       std::span<const format::EventRecord> events) {
  // At most one slice per two events when calls are balanced: reserve for
  // a big batch at once (a closed trace), keep doubling for small ones.
  const size_t want = t.slices.size() + (events.size() - t.processed) / 2;
  if (want > t.slices.capacity())
    t.slices.reserve(std::max(want, t.slices.capacity() * 2));
  if (t.processed == 0 && t.truncated && !events.empty()) {
    // The calls open at the window start, as slices starting there.
    const std::vector<uint32_t> frames = FramesOpenAtWindowStart(events);
    const uint64_t ticks = format::EventTicks(events.front());
    for (size_t k = 0; k < frames.size(); ++k) {
      CallSlice s{};
      const uint64_t before = frames.size() - k;
      s.open_index = t.base >= before ? t.base - before : 0;
      s.start_ticks = ticks;
      s.end_ticks = CallSlice::kOpen;
      s.parent = k == 0 ? 0 : t.slices.size();
      s.function = frames[k];
      s.depth = static_cast<uint32_t>(k);
      s.open_kind = static_cast<uint8_t>(EventKind::kCall);
      s.flags = kSliceStartsBeforeWindow;
      Open(t, s);
      ++t.before_window;
    }
  }
  for (uint64_t i = t.processed; i < events.size(); ++i) {
    const format::EventRecord& e = events[i];
    const EventKind kind = format::GetEventKind(e);
    switch (kind) {
      case EventKind::kCall:
      case EventKind::kResume:
      case EventKind::kCCall: {
        CallSlice s{};
        s.open_index = t.base + i;
        s.start_ticks = format::EventTicks(e);
        s.end_ticks = CallSlice::kOpen;
        s.parent = t.stack.empty() ? 0 : t.stack.back() + 1;
        s.function = e.function;
        s.call_line = e.value;
        s.depth =
            static_cast<uint32_t>(std::min<size_t>(t.stack.size(), UINT32_MAX));
        s.open_kind = static_cast<uint8_t>(kind);
        Open(t, s);
        break;
      }
      case EventKind::kReturn:
      case EventKind::kUnwind:
      case EventKind::kYield:
      case EventKind::kCReturn:
        Close(t, e.function, format::EventTicks(e));
        break;
      default:
        break;  // line, mark, or a damaged kind: not a slice
    }
  }
  t.processed = events.size();
}

// Pushes slice `s` onto the thread's open stack, flagged recursive when a
// slice of its function is open below it; CloseAbove undoes the count.
void CallTree::Open(ThreadCalls& t, CallSlice s) {
  if (OpenIn(t, s.function)) s.flags |= kSliceRecursive;
  if (s.function < kDenseActive) {
    if (t.active.size() <= s.function) t.active.resize(s.function + 1);
    ++t.active[s.function];
  }
  t.stack.push_back(t.slices.size());
  t.slices.push_back(s);
}

void CallTree::Close(ThreadCalls& t, uint32_t function, uint64_t ticks) {
  // On a truncated thread, a close that matches nothing is a call that
  // opened before the window and that the frames known so far missed.
  if (t.stack.empty()) {
    ++t.unmatched;
    if (t.truncated) t.rebuild = true;
    return;
  }
  size_t pos = t.stack.size() - 1;
  if (function != 0) {
    const size_t floor =
        t.stack.size() > kMaxCloseSearch ? t.stack.size() - kMaxCloseSearch : 0;
    for (;;) {
      if (t.slices[t.stack[pos]].function == function) break;
      if (pos == floor) {
        ++t.unmatched;
        if (t.truncated && floor == 0) t.rebuild = true;
        return;
      }
      --pos;
    }
  }
  CloseAbove(t, pos, ticks);
}

// Closes the open slices at stack positions >= keep, innermost first, at
// `ticks`, and adds each one's duration to its parent's child time.
void CallTree::CloseAbove(ThreadCalls& t, size_t keep, uint64_t ticks) {
  while (t.stack.size() > keep) {
    CallSlice& s = t.slices[t.stack.back()];
    t.stack.pop_back();
    s.end_ticks = std::max(ticks, s.start_ticks);
    if (s.function < kDenseActive) --t.active[s.function];
    if (s.parent != 0) t.slices[s.parent - 1].child_ticks += s.dur_ticks();
  }
}

// Whether a slice of `function` is open in the thread. A damaged id past
// the dense range is looked for in the top kMaxCloseSearch levels only, so
// that such input cannot make it quadratic.
bool CallTree::OpenIn(const ThreadCalls& t, uint32_t function) {
  if (function < kDenseActive)
    return function < t.active.size() && t.active[function] != 0;
  const size_t n = t.stack.size();
  for (size_t k = n > kMaxCloseSearch ? n - kMaxCloseSearch : 0; k < n; ++k)
    if (t.slices[t.stack[k]].function == function) return true;
  return false;
}

void CallTree::EnableFunctionIndex(const TraceReader& trace) {
  if (functions_) return;
  functions_ = std::make_unique<PostingIndex>();
  IndexFunctions(trace);
}

void CallTree::IndexFunctions(const TraceReader& trace) {
  const uint32_t dense_limit = static_cast<uint32_t>(trace.functions().size());
  for (uint32_t i = 0; i < threads_.size(); ++i) {
    const std::vector<CallSlice>& slices = threads_[i].slices;
    if (functions_->indexed(i) >= slices.size()) continue;
    functions_->Extend(i, slices.size(), dense_limit,
                       [&](uint64_t k) { return slices[k].function; });
  }
}

uint64_t CallTree::size() const {
  uint64_t n = 0;
  for (const auto& t : threads_) n += t.slices.size();
  return n;
}

uint64_t CallTree::unmatched() const {
  uint64_t n = 0;
  for (const auto& t : threads_) n += t.unmatched;
  return n;
}

uint64_t CallTree::started_before_window() const {
  uint64_t n = 0;
  for (const auto& t : threads_) n += t.before_window;
  return n;
}

namespace internal {

uint64_t CallSource::LowerBoundId(uint32_t thread, uint64_t id) const {
  auto slices = calls_.slices(thread);
  auto it = std::partition_point(
      slices.begin(), slices.end(),
      [&](const CallSlice& s) { return MakeRowId(thread, s.open_index) < id; });
  return static_cast<uint64_t>(it - slices.begin());
}

uint64_t CallSource::LowerBoundNs(uint32_t thread, uint64_t ns) const {
  auto slices = calls_.slices(thread);
  auto it = std::partition_point(
      slices.begin(), slices.end(),
      [&](const CallSlice& s) { return time_.ToNs(s.start_ticks) < ns; });
  return static_cast<uint64_t>(it - slices.begin());
}

}  // namespace internal

CallScan::CallScan(const CallTree& calls, const TimeScale& time,
                   const CallFilter& filter)
    : calls_(calls),
      source_(calls, time),
      scan_(&source_, filter, calls.function_index()),
      depth_min_(filter.depth_min),
      depth_max_(filter.depth_max) {
  SkipByDepth();
}

}  // namespace tracestore
