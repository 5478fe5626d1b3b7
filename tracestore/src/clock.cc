// Clock detection and TSC calibration.

#include "tracestore/clock.h"

#if TRACESTORE_HAVE_RDTSC
#include <cpuid.h>
#endif

namespace tracestore {

bool Clock::HasInvariantTsc() {
#if TRACESTORE_HAVE_RDTSC
  unsigned eax, ebx, ecx, edx;
  if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000007u) return false;
  __cpuid(0x80000007u, eax, ebx, ecx, edx);
  return (edx & (1u << 8)) != 0;
#else
  return false;
#endif
}

Clock Clock::Monotonic() {
  return Clock(format::ClockSource::kMonotonic, 1000000000u);
}

format::ClockAnchor Clock::Anchor() const {
  // Take the ticks between two monotonic readings; keep the tightest of a few
  // tries so a preemption does not skew the anchor.
  format::ClockAnchor best{};
  uint64_t best_gap = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    uint64_t m0 = MonotonicNs();
    uint64_t t = Now();
    uint64_t m1 = MonotonicNs();
    if (m1 - m0 < best_gap) {
      best_gap = m1 - m0;
      best.ticks = t;
      best.monotonic_ns = m0 + (m1 - m0) / 2;
    }
  }
  best.realtime_ns = RealtimeNs();
  return best;
}

uint64_t Clock::FrequencyBetween(const format::ClockAnchor& a,
                                 const format::ClockAnchor& b,
                                 uint64_t fallback, uint64_t min_ns) {
  if (b.monotonic_ns <= a.monotonic_ns || b.ticks <= a.ticks) return fallback;
  uint64_t dns = b.monotonic_ns - a.monotonic_ns;
  // Too close, and the anchors' jitter would dominate.
  if (dns < min_ns) return fallback;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(b.ticks - a.ticks) *
                               1000000000u / dns);
}

Clock Clock::CalibrateTsc() {
  Clock tsc(format::ClockSource::kTsc, 0);
  format::ClockAnchor a = tsc.Anchor();
  // Spin (not sleep: a sleep can let the CPU clock down, which does not
  // matter to an invariant TSC, but it costs a context switch of jitter).
  // 1 ms, on the traced program's start-up path: good to about 1e-4, and
  // the trace refines it from its start anchor soon after (TraceWriter)
  // and again at close.
  constexpr uint64_t kSpinNs = 1000000u;
  while (MonotonicNs() - a.monotonic_ns < kSpinNs) {
  }
  format::ClockAnchor b = tsc.Anchor();
  uint64_t hz = FrequencyBetween(a, b, 0, kSpinNs);
  if (hz == 0) return Monotonic();
  tsc.ticks_per_second_ = hz;
  return tsc;
}

Clock Clock::Detect(bool allow_tsc) {
  if (!allow_tsc || !HasInvariantTsc()) return Monotonic();
  // Calibrate once per process; traces refine the figure at close anyway.
  static const Clock calibrated = CalibrateTsc();
  return calibrated;
}

}  // namespace tracestore
