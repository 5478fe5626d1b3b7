// The trace clock: rdtsc where the TSC is invariant, CLOCK_MONOTONIC otherwise.
//
//   Clock clock = Clock::Detect();          // calibrates (about 10 ms)
//   uint64_t t0 = clock.Now();              // raw ticks
//   ...
//   uint64_t ns = clock.TicksToNs(clock.Now() - t0);
//
// Thread-safety: a Clock is immutable after Detect(); Now() is safe from any
// thread and never blocks.

#ifndef TRACESTORE_CLOCK_H_
#define TRACESTORE_CLOCK_H_

#include <time.h>

#include <cstdint>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define TRACESTORE_HAVE_RDTSC 1
#else
#define TRACESTORE_HAVE_RDTSC 0
#endif

#include "tracestore/format.h"

namespace tracestore {

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

inline uint64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

// Converts ticks of a clock running at `ticks_per_second` to nanoseconds,
// without overflow for any 64-bit tick count.
inline uint64_t TicksToNs(uint64_t ticks, uint64_t ticks_per_second) {
  if (ticks_per_second == 1000000000u || ticks_per_second == 0) return ticks;
  // Saturates rather than wraps: a hostile header may claim a slow clock
  // that no real trace has.
  const unsigned __int128 ns =
      static_cast<unsigned __int128>(ticks) * 1000000000u / ticks_per_second;
  constexpr uint64_t kMaxNs = ~uint64_t{0};
  return ns > kMaxNs ? kMaxNs : static_cast<uint64_t>(ns);
}

class Clock {
 public:
  // Uses the TSC when the CPU says it is invariant (and `allow_tsc`),
  // calibrating it against CLOCK_MONOTONIC; otherwise CLOCK_MONOTONIC.
  static Clock Detect(bool allow_tsc = true);
  // A clock that is CLOCK_MONOTONIC in nanoseconds.
  static Clock Monotonic();

  // True when the CPU has an invariant TSC (CPUID 0x80000007 EDX bit 8).
  static bool HasInvariantTsc();

  uint64_t Now() const {
#if TRACESTORE_HAVE_RDTSC
    if (source_ == format::ClockSource::kTsc) return __rdtsc();
#endif
    return MonotonicNs();
  }

  // A simultaneous reading of this clock and the system clocks.
  format::ClockAnchor Anchor() const;

  format::ClockSource source() const { return source_; }
  uint64_t ticks_per_second() const { return ticks_per_second_; }
  uint64_t TicksToNs(uint64_t ticks) const {
    return tracestore::TicksToNs(ticks, ticks_per_second_);
  }

  // The frequency implied by two anchors taken far apart; more exact than the
  // start-up calibration. Returns `fallback` when they are too close.
  static uint64_t FrequencyBetween(const format::ClockAnchor& a,
                                   const format::ClockAnchor& b,
                                   uint64_t fallback,
                                   uint64_t min_ns = 5000000u);

 private:
  static Clock CalibrateTsc();
  Clock(format::ClockSource source, uint64_t ticks_per_second)
      : source_(source), ticks_per_second_(ticks_per_second) {}

  format::ClockSource source_;
  uint64_t ticks_per_second_;
};

}  // namespace tracestore

#endif  // TRACESTORE_CLOCK_H_
