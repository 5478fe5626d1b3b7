// The Sink base (traits, enable listener), ETW's enable rule, and the
// platform sink factory.

#include "etwbridge/sink.h"

#include <utility>

#ifdef _WIN32
#include "etwbridge/etw_sink.h"
#else
#include "etwbridge/user_events_sink.h"
#endif

namespace etwbridge {

Sink::Sink(std::string_view provider_name, const Guid* group)
    : provider_name_(provider_name),
      traits_(EncodeProviderTraits(provider_name, group)) {}

Sink::~Sink() = default;

void Sink::SetEnableListener(std::function<void()> listener) {
  auto shared =
      listener
          ? std::make_shared<const std::function<void()>>(std::move(listener))
          : nullptr;
  std::lock_guard<std::mutex> lock(listener_mu_);
  listener_ = std::move(shared);
}

void Sink::NotifyEnabled() {
  std::shared_ptr<const std::function<void()>> listener;
  {
    std::lock_guard<std::mutex> lock(listener_mu_);
    listener = listener_;
  }
  // Outside the lock: the listener writes events (a rundown).
  if (listener) (*listener)();
}

StatusOr<std::unique_ptr<Sink>> OpenPlatformSink(std::string_view provider_name,
                                                 const Guid& id,
                                                 const Guid* group) {
#ifdef _WIN32
  auto sink = EtwSink::Open(provider_name, id, group);
#else
  (void)id;
  auto sink = UserEventsSink::Open(provider_name, group);
#endif
  if (!sink.ok()) return sink.status();
  return std::unique_ptr<Sink>(std::move(*sink));
}

namespace internal {

bool EnableTracker::On(const EventSet& set) const {
  if (set.level >= level_plus1_) return false;
  if (set.keyword == 0) return true;
  return (set.keyword & match_any_) != 0 &&
         (set.keyword & match_all_) == match_all_;
}

void EnableTracker::Add(EventSet* set) {
  std::lock_guard<std::mutex> lock(mu_);
  sets_.push_back(set);
  set->enable_word.store(On(*set) ? 1 : 0, std::memory_order_relaxed);
}

bool EnableTracker::Update(uint32_t control_code, uint8_t level,
                           uint64_t match_any, uint64_t match_all) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (control_code) {
    case 0:  // EVENT_CONTROL_CODE_DISABLE_PROVIDER
      level_plus1_ = 0;
      break;
    case 1:  // EVENT_CONTROL_CODE_ENABLE_PROVIDER
      level_plus1_ = level != 0 ? uint32_t{level} + 1 : 256;
      match_any_ = match_any;
      match_all_ = match_all;
      break;
    default:  // 2 = EVENT_CONTROL_CODE_CAPTURE_STATE: a rundown request
      break;
  }
  for (EventSet* set : sets_) {
    set->enable_word.store(On(*set) ? 1 : 0, std::memory_order_relaxed);
  }
  return control_code == 1 || control_code == 2;
}

}  // namespace internal
}  // namespace etwbridge
