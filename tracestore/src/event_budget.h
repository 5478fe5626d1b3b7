// EventBudget: the flight recorder's bound on the event stores of a trace
// (TraceOptions::max_event_bytes), counted in chunks, shared by the ring
// stores of one trace.
//
// The policy (docs/FORMAT.md, "Ring event stores"): every event store is a
// ring of its own, so a noisy thread overwrites only its own oldest events
// and a quiet thread keeps its recent ones however busy the others are.
//   - A new store takes kMinSlots chunks (and one more for its header) at
//     once; without room for them the thread is not recorded, and the trace
//     header counts it (unrecorded_threads).
//   - A store grows one chunk at a time while the chunks in use stay below
//     three quarters of the budget; the last quarter is kept for the
//     minimum rings of threads that start later.
//   - A store that may not grow (or has kMaxRingSlots slots) fixes its ring
//     at the slots it has and from then on reuses its oldest chunk.
// So the event files never hold more than the budget, and the stores that
// were busiest while the budget was still free get the largest rings.
//
// Thread-safety: all methods are thread-safe.

#ifndef TRACESTORE_SRC_EVENT_BUDGET_H_
#define TRACESTORE_SRC_EVENT_BUDGET_H_

#include <cstdint>
#include <mutex>

namespace tracestore::internal {

class EventBudget {
 public:
  // A ring needs the chunk being written, the two the filler prepares ahead
  // and at least one full chunk of history.
  static constexpr uint64_t kMinSlots = 4;

  EventBudget(uint64_t max_bytes, uint64_t chunk_bytes)
      : chunks_(max_bytes / chunk_bytes) {}

  // For a new store: kMinSlots chunks plus one for its header (the header
  // is far smaller than a chunk; counting a chunk keeps the bound simple).
  bool TakeStore() {
    std::lock_guard<std::mutex> lock(mu_);
    if (used_ + kMinSlots + 1 > chunks_) return false;
    used_ += kMinSlots + 1;
    return true;
  }
  // One more chunk for a growing store.
  bool TakeGrowth() {
    std::lock_guard<std::mutex> lock(mu_);
    if (used_ + 1 > chunks_ - chunks_ / 4) return false;
    ++used_;
    return true;
  }
  uint64_t chunks() const { return chunks_; }

 private:
  const uint64_t chunks_;
  std::mutex mu_;
  uint64_t used_ = 0;
};

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_EVENT_BUDGET_H_
