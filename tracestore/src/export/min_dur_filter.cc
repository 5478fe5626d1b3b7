// MinDurFilter: forwards the calls that last long enough.

#include "export/min_dur_filter.h"

namespace tracestore::internal {

MinDurFilter::Thread& MinDurFilter::Get(uint32_t thread) {
  if (threads_.size() <= thread) threads_.resize(size_t{thread} + 1);
  return threads_[thread];
}

void MinDurFilter::OnOpen(uint32_t thread, std::span<const OpenCall> stack) {
  Thread& t = Get(thread);
  OpenCall c = stack.back();
  c.child_ticks = 0;
  t.calls.push_back(c);
  t.forwarded.push_back(0);
  t.dropped.push_back(0);
}

void MinDurFilter::OnClose(uint32_t thread, std::span<const OpenCall> stack,
                           uint64_t end_ticks) {
  (void)stack;
  Thread& t = Get(thread);
  if (t.calls.empty()) return;  // not opened through us
  const size_t top = t.calls.size() - 1;
  const OpenCall& c = t.calls[top];
  const uint64_t dur_ns = time_.ToNs(end_ticks) - time_.ToNs(c.start_ticks);
  const bool resume =
      c.open_kind == static_cast<uint8_t>(format::EventKind::kResume);
  if (dur_ns >= min_ns_) {
    // The callers not forwarded yet, outermost first, then this call
    // (unless a callee of it, closing earlier, forwarded it already).
    size_t first = t.forwarded[top] ? top + 1 : top;
    while (first > 0 && first <= top && !t.forwarded[first - 1]) --first;
    for (size_t i = first; i <= top; ++i) {
      t.forwarded[i] = 1;
      inner_.OnOpen(thread, std::span<const OpenCall>(t.calls.data(), i + 1));
    }
    inner_.OnClose(thread, std::span<const OpenCall>(t.calls), end_ticks);
    dropped_ns_ += t.dropped[top];
    if (top > 0) t.calls[top - 1].child_ticks += end_ticks - c.start_ticks;
  } else {
    ++(resume ? dropped_resumes_ : dropped_calls_);
    // Its dropped children are inside it: only the outermost dropped call
    // counts, once its caller is kept (or it has none).
    if (top > 0) {
      t.dropped[top - 1] += dur_ns;
    } else {
      dropped_ns_ += dur_ns;
    }
  }
  t.calls.pop_back();
  t.forwarded.pop_back();
  t.dropped.pop_back();
}

}  // namespace tracestore::internal
