// The ETW sink: EventRegister, EventSetInformation(EventProviderSetTraits),
// EventWriteTransfer with the traits and metadata descriptors. Windows only;
// built with MSVC or mingw-w64 (whose headers lack TraceLoggingProvider.h
// and the Type field of EVENT_DATA_DESCRIPTOR, neither of which we need).

#ifdef _WIN32

#include "etwbridge/etw_sink.h"

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
// windows.h first.
#include <evntprov.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <string>

namespace etwbridge {
namespace {

// Our portable structs stand in for Windows' in the seams; same layout.
static_assert(sizeof(EventDescriptor) == sizeof(EVENT_DESCRIPTOR));
static_assert(offsetof(EVENT_DESCRIPTOR, Keyword) ==
              offsetof(EventDescriptor, keyword));
static_assert(offsetof(EVENT_DESCRIPTOR, Level) ==
              offsetof(EventDescriptor, level));
static_assert(sizeof(EtwDataDescriptor) == sizeof(EVENT_DATA_DESCRIPTOR));
static_assert(sizeof(Guid) == sizeof(GUID));

// EVENT_INFO_CLASS value of EventProviderSetTraits (mingw's enum stops
// before it).
constexpr uint32_t kEventProviderSetTraits = 2;

// Descriptor types in EVENT_DATA_DESCRIPTOR's reserved word.
constexpr uint32_t kDescriptorTypeProviderMetadata = 2;
constexpr uint32_t kDescriptorTypeEventMetadata = 1;

GUID ToWindowsGuid(const Guid& g) {
  GUID out;
  const std::array<uint8_t, 16> bytes = g.Bytes();
  std::memcpy(&out, bytes.data(), sizeof(out));
  return out;
}

uint32_t RealWriteTransfer(uint64_t reg_handle,
                           const EventDescriptor* descriptor,
                           const Guid* activity_id,
                           const Guid* related_activity_id, uint32_t count,
                           EtwDataDescriptor* data) {
  return EventWriteTransfer(
      static_cast<REGHANDLE>(reg_handle),
      reinterpret_cast<const EVENT_DESCRIPTOR*>(descriptor),
      reinterpret_cast<const GUID*>(activity_id),
      reinterpret_cast<const GUID*>(related_activity_id), count,
      reinterpret_cast<EVENT_DATA_DESCRIPTOR*>(data));
}

// EventSetInformation exists from Windows 8 on: looked up, not linked, so
// that the provider still registers (with degraded decoding) on Windows 7.
uint32_t RealSetInformation(uint64_t reg_handle, uint32_t information_class,
                            const void* information, uint32_t size) {
  using Fn = ULONG(WINAPI*)(REGHANDLE, EVENT_INFO_CLASS, PVOID, ULONG);
  static const Fn fn = [] {
    HMODULE advapi = GetModuleHandleW(L"advapi32.dll");
    if (advapi == nullptr) return Fn{nullptr};
    return reinterpret_cast<Fn>(
        reinterpret_cast<void*>(GetProcAddress(advapi, "EventSetInformation")));
  }();
  if (fn == nullptr) return ERROR_NOT_SUPPORTED;
  return fn(static_cast<REGHANDLE>(reg_handle),
            static_cast<EVENT_INFO_CLASS>(information_class),
            const_cast<void*>(information), size);
}

std::atomic<EtwWriteTransferFn> g_write_transfer{nullptr};
std::atomic<EtwSetInformationFn> g_set_information{nullptr};

void NTAPI EnableCallbackThunk(LPCGUID /*source_id*/, ULONG control_code,
                               UCHAR level, ULONGLONG match_any,
                               ULONGLONG match_all,
                               PEVENT_FILTER_DESCRIPTOR /*filter*/,
                               PVOID context) {
  if (context == nullptr) return;
  static_cast<EtwSink*>(context)->HandleEnableCallback(control_code, level,
                                                       match_any, match_all);
}

}  // namespace

EtwWriteTransferFn SetEtwWriteTransferForTesting(EtwWriteTransferFn fn) {
  return g_write_transfer.exchange(fn);
}

EtwSetInformationFn SetEtwSetInformationForTesting(EtwSetInformationFn fn) {
  return g_set_information.exchange(fn);
}

EtwSink::EtwSink(std::string_view provider_name, const Guid& id,
                 const Guid* group)
    : Sink(provider_name, group), id_(id) {}

StatusOr<std::unique_ptr<EtwSink>> EtwSink::Open(std::string_view provider_name,
                                                 const Guid& id,
                                                 const Guid* group) {
  if (provider_name.empty() ||
      provider_name.find('\0') != std::string_view::npos) {
    return InvalidArgumentError("a provider name must be non-empty, no NUL");
  }
  std::unique_ptr<EtwSink> sink(new EtwSink(provider_name, id, group));
  const GUID guid = ToWindowsGuid(id);
  REGHANDLE handle = 0;
  // The callback can run before EventRegister returns (a session already
  // listening): the tracker is ready, the sink's address is final.
  const ULONG rc =
      EventRegister(&guid, &EnableCallbackThunk, sink.get(), &handle);
  if (rc != ERROR_SUCCESS) {
    return InternalError("EventRegister failed for provider " +
                         std::string(provider_name) + " {" + id.ToString() +
                         "}: Win32 error " + std::to_string(rc));
  }
  sink->reg_handle_ = handle;
  EtwSetInformationFn set_info = g_set_information.load();
  if (set_info == nullptr) set_info = &RealSetInformation;
  // Without traits decoders fall back to a degraded mode; not fatal.
  (void)set_info(handle, kEventProviderSetTraits, sink->traits().data(),
                 static_cast<uint32_t>(sink->traits().size()));
  return sink;
}

EtwSink::~EtwSink() {
  if (reg_handle_ != 0) EventUnregister(static_cast<REGHANDLE>(reg_handle_));
}

Status EtwSink::Register(EventSet* set) {
  tracker_.Add(set);
  set->sink_handle = 0;
  return OkStatus();
}

int EtwSink::Write(const EventSet& /*set*/, const EventView& event) {
  EtwDataDescriptor data[3];
  const std::span<const std::byte> traits = this->traits();
  data[0] = {reinterpret_cast<uintptr_t>(traits.data()),
             static_cast<uint32_t>(traits.size()),
             kDescriptorTypeProviderMetadata};
  data[1] = {reinterpret_cast<uintptr_t>(event.metadata.data()),
             static_cast<uint32_t>(event.metadata.size()),
             kDescriptorTypeEventMetadata};
  data[2] = {reinterpret_cast<uintptr_t>(event.payload.data()),
             static_cast<uint32_t>(event.payload.size()), 0};
  const uint32_t count = event.payload.empty() ? 2 : 3;
  EtwWriteTransferFn write = g_write_transfer.load(std::memory_order_relaxed);
  if (write == nullptr) write = &RealWriteTransfer;
  return static_cast<int>(
      write(reg_handle_, &event.descriptor, nullptr, nullptr, count, data));
}

void EtwSink::HandleEnableCallback(uint32_t control_code, uint8_t level,
                                   uint64_t match_any, uint64_t match_all) {
  if (tracker_.Update(control_code, level, match_any, match_all)) {
    NotifyEnabled();
  }
}

}  // namespace etwbridge

#endif  // _WIN32
