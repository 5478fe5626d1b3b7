// The ETW sink (Windows only): a TraceLogging provider registered with
// EventRegister under a fixed provider id, with its traits set through
// EventSetInformation(EventProviderSetTraits), writing each event with
// EventWriteTransfer as
//   descriptor 0 = provider traits (type 2),
//   descriptor 1 = event metadata  (type 1),
//   descriptor 2 = payload         (type 0).
// The type goes in the descriptor's reserved word: mingw-w64's
// EVENT_DATA_DESCRIPTOR has no Type union, and the bits are the same.
//
//   auto sink = etwbridge::EtwSink::Open("Python",
//   etwbridge::kPythonProviderId);
//
// The enable callback keeps every registered EventSet's word current, so a
// disabled event costs one compare, and calls the enable listener on an
// enable or capture-state request (that is where a rundown goes).
//
// Thread-safety: as Sink. The destructor unregisters the provider, which
// waits for a running enable callback to finish.

#ifndef ETWBRIDGE_ETW_SINK_H_
#define ETWBRIDGE_ETW_SINK_H_

#ifdef _WIN32

#include <cstdint>
#include <memory>
#include <string_view>

#include "etwbridge/sink.h"
#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

class EtwSink final : public Sink {
 public:
  static StatusOr<std::unique_ptr<EtwSink>> Open(std::string_view provider_name,
                                                 const Guid& id,
                                                 const Guid* group = nullptr);
  ~EtwSink() override;

  Status Register(EventSet* set) override;
  int Write(const EventSet& set, const EventView& event) override;

  // What the ETW enable callback does with its arguments (control code 0
  // disable, 1 enable, 2 capture state). Public so that tests can play a
  // session: wine's ETW never calls the callback.
  void HandleEnableCallback(uint32_t control_code, uint8_t level,
                            uint64_t match_any, uint64_t match_all);

  uint64_t reg_handle() const { return reg_handle_; }
  const Guid& id() const { return id_; }

 private:
  EtwSink(std::string_view provider_name, const Guid& id, const Guid* group);

  const Guid id_;
  uint64_t reg_handle_ = 0;
  internal::EnableTracker tracker_;
};

// Test seams. EVENT_DATA_DESCRIPTOR as the sink fills it: `reserved` holds
// the descriptor type (2 traits, 1 metadata, 0 data).
struct EtwDataDescriptor {
  uint64_t ptr;
  uint32_t size;
  uint32_t reserved;
};
static_assert(sizeof(EtwDataDescriptor) == 16);

// Stand-ins for EventWriteTransfer and EventSetInformation, same arguments
// with portable types; they return a Win32 error code.
using EtwWriteTransferFn = uint32_t (*)(uint64_t reg_handle,
                                        const EventDescriptor* descriptor,
                                        const Guid* activity_id,
                                        const Guid* related_activity_id,
                                        uint32_t count,
                                        EtwDataDescriptor* data);
using EtwSetInformationFn = uint32_t (*)(uint64_t reg_handle,
                                         uint32_t information_class,
                                         const void* information,
                                         uint32_t size);

// Replace the function the sinks call (nullptr restores the real one);
// return the previous replacement (nullptr if none). For tests only: not
// synchronised with writes in flight.
EtwWriteTransferFn SetEtwWriteTransferForTesting(EtwWriteTransferFn fn);
EtwSetInformationFn SetEtwSetInformationForTesting(EtwSetInformationFn fn);

}  // namespace etwbridge

#endif  // _WIN32
#endif  // ETWBRIDGE_ETW_SINK_H_
