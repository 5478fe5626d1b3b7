// A sink that keeps every event in memory: descriptor, traits, both
// metadata encodings and the payload, with the writing thread. For tests,
// here and in the recorder (on Linux it stands in for an ETW session to
// check the sequence of events of a recorded Python run).
//
//   auto capture = std::make_unique<etwbridge::CaptureSink>("Python");
//   etwbridge::CaptureSink* seen = capture.get();
//   auto events = etwbridge::PythonEvents::Create(std::move(capture));
//   seen->Enable();                        // like a session at level 5
//   (*events)->Push(2, 1, 10);
//   std::vector<etwbridge::CapturedEvent> got = seen->events();
//   EXPECT_EQ(got[0].name(), "PythonFunctionPush");
//
// Starts disabled, like a provider no session listens to. Enable/Disable
// follow ETW's rule (see internal::EnableTracker).
//
// Thread-safety: every method may be called from any thread.

#ifndef ETWBRIDGE_CAPTURE_SINK_H_
#define ETWBRIDGE_CAPTURE_SINK_H_

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "etwbridge/decode.h"
#include "etwbridge/sink.h"
#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

struct CapturedEvent {
  uint64_t sequence = 0;   // 0, 1, 2, ... in write order (Clear keeps counting)
  uint64_t thread_id = 0;  // OS id of the writing thread (gettid on Linux)
  EventDescriptor descriptor;
  uint32_t tag = 0;
  std::vector<std::byte> traits;
  std::vector<std::byte> metadata;  // TraceLogging
  std::vector<std::byte> eventheader_metadata;
  std::vector<std::byte> payload;

  // The event name from the metadata ("" if malformed).
  std::string name() const;
  StatusOr<DecodedEvent> Decode() const {
    return DecodeTraceLogging(metadata, payload);
  }
};

class CaptureSink final : public Sink {
 public:
  explicit CaptureSink(std::string_view provider_name,
                       const Guid* group = nullptr);

  // As a session enabling the provider (ETW's rule: level 0 = all levels);
  // runs the enable listener.
  void Enable(uint8_t level = kLevelVerbose, uint64_t match_any = ~0ull,
              uint64_t match_all = 0);
  void Disable();
  // An ETW capture-state request: runs the enable listener, no change.
  void CaptureState();

  std::vector<CapturedEvent> events() const;
  size_t size() const;
  void Clear();

  Status Register(EventSet* set) override;
  int Write(const EventSet& set, const EventView& event) override;

 private:
  internal::EnableTracker tracker_;
  mutable std::mutex mu_;
  std::vector<CapturedEvent> events_;
  uint64_t next_sequence_ = 0;
};

}  // namespace etwbridge

#endif  // ETWBRIDGE_CAPTURE_SINK_H_
