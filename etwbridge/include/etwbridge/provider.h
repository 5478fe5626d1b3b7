// A TraceLogging provider for any events: the C++ counterpart of the
// traceloggingdynamic package's Provider, over ETW on Windows and
// user_events on Linux (or any Sink).
//
//   auto provider = etwbridge::Provider::Open("MyCompany.MyComponent");
//   if (!provider.ok()) return;                 // status() says why
//   if ((*provider)->IsEnabled(etwbridge::kLevelVerbose, 0x21)) {
//     etwbridge::EventBuilder eb;
//     eb.Reset("MyEventName", etwbridge::kLevelVerbose, 0x21);
//     eb.AddBool32("MyFieldName", true);
//     (*provider)->Write(eb);
//   }
//
// Each distinct (level, keyword) becomes an EventSet the first time it is
// asked about or written (a tracepoint on Linux). For a fixed set of hot
// events, PythonEvents-style classes that hold their EventSets directly are
// cheaper: IsEnabled here takes a lock and a map lookup.
//
// Thread-safety: every method may be called from any thread.

#ifndef ETWBRIDGE_PROVIDER_H_
#define ETWBRIDGE_PROVIDER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>

#include "etwbridge/sink.h"
#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

class Provider {
 public:
  // The platform provider (OpenPlatformSink). `id` defaults to
  // ProviderIdFromName(name).
  static StatusOr<std::unique_ptr<Provider>> Open(
      std::string_view name, std::optional<Guid> id = std::nullopt,
      const Guid* group = nullptr);
  explicit Provider(std::unique_ptr<Sink> sink);
  ~Provider();

  const std::string& name() const { return sink_->provider_name(); }
  Sink& sink() const { return *sink_; }

  // Whether a session wants events of this level and keyword.
  bool IsEnabled(uint8_t level, uint64_t keyword);

  // Writes the builder's event if its (level, keyword) is enabled; OK and
  // nothing written if not. Fails on a builder in error state or a write the
  // platform refused.
  Status Write(const EventBuilder& eb);

 private:
  EventSet* SetFor(uint8_t level, uint64_t keyword, Status* status);

  std::mutex mu_;
  // Declared before sink_: the sets outlive the sink's registrations.
  std::map<std::pair<uint8_t, uint64_t>, std::unique_ptr<EventSet>> sets_;
  std::unique_ptr<Sink> sink_;
};

}  // namespace etwbridge

#endif  // ETWBRIDGE_PROVIDER_H_
