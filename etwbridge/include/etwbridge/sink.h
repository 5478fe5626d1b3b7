// Where encoded events go: the Sink interface, and the EventSet a session
// enables. Implementations: EtwSink (Windows, etw_sink.h), UserEventsSink
// (Linux user_events, user_events_sink.h), CaptureSink (in memory, for tests,
// capture_sink.h).
//
//   auto sink = etwbridge::OpenPlatformSink("MyProvider",
//                                           etwbridge::ProviderIdFromName("MyProvider"));
//   if (!sink.ok()) { ... sink.status().message() ... }
//   etwbridge::EventSet verbose(etwbridge::kLevelVerbose, 0x1);
//   (*sink)->Register(&verbose);          // `verbose` must outlive the sink
//   if (verbose.enabled()) (*sink)->Write(verbose, builder.View());
//
// An EventSet is all events of one level and keyword. That is the unit both
// platforms enable: ETW decides per level/keyword from the session's
// parameters, and a user_events tracepoint ("Name_L5K400") is exactly one
// level and keyword. The sink keeps the set's enable word current (for
// user_events the kernel itself writes it), so asking whether an event is
// wanted is one relaxed load and a compare.

#ifndef ETWBRIDGE_SINK_H_
#define ETWBRIDGE_SINK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

// All events of one level and keyword. Not copyable or movable: a sink (or
// the kernel) holds its address from Register until the sink is destroyed.
struct EventSet {
  EventSet(uint8_t level_in, uint64_t keyword_in)
      : level(level_in), keyword(keyword_in) {}
  EventSet(const EventSet&) = delete;
  EventSet& operator=(const EventSet&) = delete;

  // True while some session wants these events. One relaxed load.
  bool enabled() const {
    return enable_word.load(std::memory_order_relaxed) != 0;
  }

  // Nonzero while enabled. Written by the sink, or for user_events by the
  // kernel (bit 0); read by anyone.
  std::atomic<uint32_t> enable_word{0};
  const uint8_t level;
  const uint64_t keyword;
  // The sink's handle for the set (user_events: the tracepoint's write
  // index); -1 until registered.
  int64_t sink_handle = -1;
};
static_assert(std::atomic<uint32_t>::is_always_lock_free);

// A provider's destination for events. Thread-safe: Write, Poll and the
// listener may run concurrently from any threads.
class Sink {
 public:
  // `group`, if given, is the provider group written into the traits.
  explicit Sink(std::string_view provider_name, const Guid* group = nullptr);
  virtual ~Sink();
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  const std::string& provider_name() const { return provider_name_; }
  // The provider traits every event carries (EncodeProviderTraits).
  std::span<const std::byte> traits() const { return traits_; }

  // Starts keeping `set->enable_word` current. `set` must stay at its
  // address until this sink is destroyed.
  virtual Status Register(EventSet* set) = 0;

  // Writes one event of `set`; the descriptor's level and keyword must be
  // the set's. Does not look at set.enabled(): callers check that before
  // they encode. Returns 0, or the platform's error code (a Win32 error for
  // ETW, an errno value for user_events).
  virtual int Write(const EventSet& set, const EventView& event) = 0;

  // Looks for enable changes the platform does not announce (user_events
  // has no callback) and calls the listener when a set became enabled.
  // ETW and the capture sink announce changes themselves: nothing to do.
  virtual void Poll() {}

  // Called after a session enabled the provider: ETW's enable and
  // capture-state callbacks (on an ETW thread), a set found newly enabled by
  // Poll (user_events), CaptureSink::Enable/CaptureState. It may run
  // concurrently with writes and must not call SetEnableListener.
  void SetEnableListener(std::function<void()> listener);

 protected:
  void NotifyEnabled();

 private:
  const std::string provider_name_;
  const std::vector<std::byte> traits_;
  std::mutex listener_mu_;
  std::shared_ptr<const std::function<void()>> listener_;
};

// The platform's provider: ETW on Windows (registered with `id`), Linux
// user_events in EventHeader form elsewhere (named by provider; `id` is not
// used). Fails with a one-line reason when the platform offers neither, e.g.
// "user_events is not available on this kernel (no
// /sys/kernel/tracing/user_events_data)".
StatusOr<std::unique_ptr<Sink>> OpenPlatformSink(std::string_view provider_name,
                                                 const Guid& id,
                                                 const Guid* group = nullptr);

namespace internal {

// ETW's enable rule, for the sinks that apply it themselves (ETW, capture):
// a set is enabled while the provider is, its level is at most the session
// level (0 = every level), and its keyword is 0 or has a bit of `match_any`
// and every bit of `match_all`.
class EnableTracker {
 public:
  void Add(EventSet* set);
  // control_code: 0 disable, 1 enable (level and keywords), 2 capture state
  // (no change). Returns true if this was an enable or capture-state
  // request, i.e. the listener should run.
  bool Update(uint32_t control_code, uint8_t level, uint64_t match_any,
              uint64_t match_all);

 private:
  bool On(const EventSet& set) const;

  std::mutex mu_;
  std::vector<EventSet*> sets_;
  uint32_t level_plus1_ = 0;  // 0 = provider disabled
  uint64_t match_any_ = 0;
  uint64_t match_all_ = 0;
};

}  // namespace internal
}  // namespace etwbridge

#endif  // ETWBRIDGE_SINK_H_
