// The generic provider: event sets on demand, writes from an EventBuilder.

#include "etwbridge/provider.h"

#include <string>

namespace etwbridge {

StatusOr<std::unique_ptr<Provider>> Provider::Open(std::string_view name,
                                                   std::optional<Guid> id,
                                                   const Guid* group) {
  auto sink =
      OpenPlatformSink(name, id ? *id : ProviderIdFromName(name), group);
  if (!sink.ok()) return sink.status();
  return std::make_unique<Provider>(std::move(*sink));
}

Provider::Provider(std::unique_ptr<Sink> sink) : sink_(std::move(sink)) {}

Provider::~Provider() {
  // The sink goes first (member order), unregistering before the sets die.
}

EventSet* Provider::SetFor(uint8_t level, uint64_t keyword, Status* status) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = sets_[{level, keyword}];
  if (slot == nullptr) {
    auto set = std::make_unique<EventSet>(level, keyword);
    Status s = sink_->Register(set.get());
    if (!s.ok()) {
      sets_.erase({level, keyword});
      if (status != nullptr) *status = std::move(s);
      return nullptr;
    }
    slot = std::move(set);
  }
  return slot.get();
}

bool Provider::IsEnabled(uint8_t level, uint64_t keyword) {
  const EventSet* set = SetFor(level, keyword, nullptr);
  return set != nullptr && set->enabled();
}

Status Provider::Write(const EventBuilder& eb) {
  ETWBRIDGE_RETURN_IF_ERROR(eb.status());
  Status status;
  const EventDescriptor& d = eb.descriptor();
  const EventSet* set = SetFor(d.level, d.keyword, &status);
  if (set == nullptr) return status;
  if (!set->enabled()) return OkStatus();
  const int err = sink_->Write(*set, eb.View());
  if (err != 0) {
    return InternalError("writing event " + eb.name() + " failed: error " +
                         std::to_string(err));
  }
  return OkStatus();
}

}  // namespace etwbridge
