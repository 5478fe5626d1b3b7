// Profile: per-function aggregates over a CallStream.

#include "tracestore/profile.h"

#include <algorithm>
#include <atomic>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "tracestore/clock.h"

namespace tracestore {

namespace {

// Per function, in ticks. `active` counts the function's calls open in the
// thread: a call adds its duration to total_ticks only when it closes as
// the outermost one.
struct Stats {
  uint64_t calls = 0;
  uint64_t resumes = 0;
  uint64_t self_ticks = 0;
  uint64_t total_ticks = 0;
  uint64_t open = 0;  // Functions() only
  uint32_t active = 0;
};

}  // namespace

struct Profile::ThreadData {
  absl::flat_hash_map<uint32_t, Stats> functions;
  uint64_t calls = 0;
};

Profile::Profile() = default;
Profile::~Profile() = default;

Profile::ThreadData& Profile::Thread(uint32_t thread) {
  if (threads_.size() <= thread) threads_.resize(size_t{thread} + 1);
  if (!threads_[thread]) threads_[thread] = std::make_unique<ThreadData>();
  return *threads_[thread];
}

void Profile::Update(const TraceReader& trace,
                     std::span<const uint64_t> thread_ended) {
  if (trace.window_moves() != window_moves_) {
    // A flight recorder's window moved: profile the new window.
    window_moves_ = trace.window_moves();
    stream_.Reset();
    threads_.clear();
  }
  stream_.Update(trace, thread_ended, *this);
}

void Profile::OnOpen(uint32_t thread, std::span<const OpenCall> stack) {
  ThreadData& t = Thread(thread);
  const OpenCall& c = stack.back();
  Stats& s = t.functions[c.function];
  ++s.active;
  if (c.open_kind == static_cast<uint8_t>(format::EventKind::kResume)) {
    ++s.resumes;
    return;
  }
  ++s.calls;
  ++t.calls;
}

void Profile::OnClose(uint32_t thread, std::span<const OpenCall> stack,
                      uint64_t end_ticks) {
  const OpenCall& c = stack.back();
  Stats& s = Thread(thread).functions[c.function];
  const uint64_t dur = end_ticks - c.start_ticks;
  s.self_ticks += dur > c.child_ticks ? dur - c.child_ticks : 0;
  if (s.active > 0) --s.active;
  if (s.active == 0) s.total_ticks += dur;
}

std::vector<FunctionProfile> Profile::Functions(const TraceReader& trace,
                                                uint32_t thread,
                                                uint64_t now_ticks) const {
  absl::flat_hash_map<uint32_t, Stats> merged;
  absl::flat_hash_set<uint32_t> outer;
  for (uint32_t i = 0; i < threads_.size(); ++i) {
    if (thread != kAllThreads && i != thread) continue;
    if (!threads_[i]) continue;
    for (const auto& [function, s] : threads_[i]->functions) {
      Stats& m = merged[function];
      m.calls += s.calls;
      m.resumes += s.resumes;
      m.self_ticks += s.self_ticks;
      m.total_ticks += s.total_ticks;
    }
    // The calls still open, up to now: each one's own time is what is not
    // in its closed children nor in its open child.
    const auto stack = stream_.stack(i);
    if (stack.empty()) continue;
    const uint64_t now = std::max(now_ticks, stream_.last_ticks(i));
    auto elapsed = [&](size_t k) {
      return now > stack[k].start_ticks ? now - stack[k].start_ticks : 0;
    };
    outer.clear();
    for (size_t k = 0; k < stack.size(); ++k) {
      Stats& m = merged[stack[k].function];
      const uint64_t mine = elapsed(k);
      const uint64_t inner =
          stack[k].child_ticks + (k + 1 < stack.size() ? elapsed(k + 1) : 0);
      m.self_ticks += mine > inner ? mine - inner : 0;
      if (outer.insert(stack[k].function).second) m.total_ticks += mine;
      ++m.open;
    }
  }
  std::vector<FunctionProfile> out;
  out.reserve(merged.size());
  for (const auto& [function, m] : merged) {
    FunctionProfile f;
    f.function = function;
    f.calls = m.calls;
    f.resumes = m.resumes;
    f.open = m.open;
    f.self_ns = trace.ToNs(m.self_ticks);
    f.total_ns = trace.ToNs(m.total_ticks);
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(),
            [](const FunctionProfile& a, const FunctionProfile& b) {
              return a.function < b.function;
            });
  return out;
}

uint64_t Profile::calls(uint32_t thread) const {
  uint64_t n = 0;
  for (uint32_t i = 0; i < threads_.size(); ++i)
    if (threads_[i] && (thread == kAllThreads || i == thread))
      n += threads_[i]->calls;
  return n;
}

uint64_t LiveNowTicks(const TraceReader& trace) {
  if (!trace.writer_alive()) return 0;
  const format::TraceHeader& h = trace.header();
  const uint64_t now = MonotonicNs();
  if (now <= h.start.monotonic_ns) return 0;
  const uint64_t tps =
      std::atomic_ref<uint64_t>(const_cast<uint64_t&>(h.ticks_per_second))
          .load(std::memory_order_acquire);
  const unsigned __int128 ticks =
      static_cast<unsigned __int128>(now - h.start.monotonic_ns) * tps /
      1'000'000'000u;
  return static_cast<uint64_t>(ticks);
}

}  // namespace tracestore
