// CallStream: CallTree's matching rules over a stack of open calls only.

#include "tracestore/call_stream.h"

#include <algorithm>
#include <type_traits>

#include "tracestore/calls.h"
#include "tracestore/event_scan.h"

namespace tracestore {

static_assert(std::is_trivially_copyable_v<OpenCall>);

using format::EventKind;

void CallStream::Update(const TraceReader& trace,
                        std::span<const uint64_t> thread_ended,
                        CallVisitor& visitor, const Progress& progress) {
  const size_t threads =
      std::min<size_t>(trace.threads().size(), kMaxRowIdThreads);
  uint64_t next_report = processed_events_ + kProgressEvents;
  for (size_t i = 0; i < threads; ++i) {
    const uint64_t ended = i < thread_ended.size() ? thread_ended[i] : 0;
    const auto thread = static_cast<uint32_t>(i);
    if (!progress) {
      UpdateThread(trace, thread, ended, visitor);
      continue;
    }
    while (UpdateThread(trace, thread, ended, visitor, kProgressEvents) != 0) {
      if (processed_events_ >= next_report) {
        progress(processed_events_);
        next_report = processed_events_ + kProgressEvents;
      }
    }
  }
}

uint64_t CallStream::UpdateThread(const TraceReader& trace, uint32_t thread,
                                  uint64_t ended_ticks, CallVisitor& visitor,
                                  uint64_t max_events) {
  if (thread >= kMaxRowIdThreads) return 0;
  if (threads_.size() <= thread) threads_.resize(size_t{thread} + 1);
  ThreadState& t = threads_[thread];
  const auto events = trace.events(thread);
  const uint64_t end = events.size() - t.processed > max_events
                           ? t.processed + max_events
                           : events.size();
  const uint64_t begin = t.processed;
  if (begin == 0 && end > 0 && t.stack.empty() &&
      trace.window_truncated(thread)) {
    // The calls open at the window start (calls.h).
    const std::vector<uint32_t> frames = FramesOpenAtWindowStart(events);
    for (uint32_t f : frames) {
      OpenCall c{};
      c.start_ticks = format::EventTicks(events[0]);
      c.function = f;
      c.open_kind = static_cast<uint8_t>(EventKind::kCall);
      c.flags = kSliceStartsBeforeWindow;
      t.stack.push_back(c);
      visitor.OnOpen(thread, t.stack);
    }
  }
  for (uint64_t i = begin; i < end; ++i) {
    const format::EventRecord& e = events[i];
    const EventKind kind = format::GetEventKind(e);
    switch (kind) {
      case EventKind::kCall:
      case EventKind::kResume:
      case EventKind::kCCall: {
        OpenCall c{};
        c.open_index = i;
        c.start_ticks = format::EventTicks(e);
        c.child_ticks = 0;
        c.function = e.function;
        c.call_line = e.value;
        c.open_kind = static_cast<uint8_t>(kind);
        t.stack.push_back(c);
        visitor.OnOpen(thread, t.stack);
        break;
      }
      case EventKind::kReturn:
      case EventKind::kUnwind:
      case EventKind::kYield:
      case EventKind::kCReturn:
        Close(thread, t, e.function, format::EventTicks(e), visitor);
        break;
      default:
        break;  // line, mark, or a damaged kind: not a call
    }
  }
  if (end > begin) t.last_ticks = format::EventTicks(events[end - 1]);
  t.processed = end;
  processed_events_ += end - begin;
  if (ended_ticks != 0 && !t.finished && t.processed == events.size()) {
    CloseAbove(thread, t, 0, ended_ticks, visitor);
    t.finished = true;
  }
  return end - begin;
}

void CallStream::Close(uint32_t thread, ThreadState& t, uint32_t function,
                       uint64_t ticks, CallVisitor& visitor) {
  if (t.stack.empty()) {
    ++unmatched_;
    return;
  }
  size_t pos = t.stack.size() - 1;
  if (function != 0) {
    const size_t floor = t.stack.size() > CallTree::kMaxCloseSearch
                             ? t.stack.size() - CallTree::kMaxCloseSearch
                             : 0;
    for (;;) {
      if (t.stack[pos].function == function) break;
      if (pos == floor) {
        ++unmatched_;
        return;
      }
      --pos;
    }
  }
  CloseAbove(thread, t, pos, ticks, visitor);
}

// Closes the open calls at stack positions >= keep, innermost first, at
// `ticks`, and adds each one's duration to its parent's child time.
void CallStream::CloseAbove(uint32_t thread, ThreadState& t, size_t keep,
                            uint64_t ticks, CallVisitor& visitor) {
  while (t.stack.size() > keep) {
    const OpenCall& c = t.stack.back();
    const uint64_t end = std::max(ticks, c.start_ticks);
    visitor.OnClose(thread, t.stack, end);
    const uint64_t dur = end - c.start_ticks;
    t.stack.pop_back();
    if (!t.stack.empty()) t.stack.back().child_ticks += dur;
  }
}

uint64_t CallStream::FinishThread(uint32_t thread, CallVisitor& visitor) {
  if (thread >= threads_.size()) return 0;
  ThreadState& t = threads_[thread];
  const uint64_t open = t.stack.size();
  if (open != 0) CloseAbove(thread, t, 0, t.last_ticks, visitor);
  t.finished = true;
  return open;
}

uint64_t CallStream::FinishAll(CallVisitor& visitor) {
  uint64_t closed = 0;
  for (uint32_t i = 0; i < threads_.size(); ++i)
    closed += FinishThread(i, visitor);
  return closed;
}

absl::Status RefreshWithThreadEnds(TraceReader& trace,
                                   std::vector<uint64_t>* ended) {
  auto threads = trace.threads();
  ended->resize(threads.size());
  for (size_t i = 0; i < threads.size(); ++i)
    (*ended)[i] = trace.ThreadEndTicks(threads[i]);
  return trace.Refresh();
}

}  // namespace tracestore
