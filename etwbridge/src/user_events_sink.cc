// The user_events sink: tracepoint names and commands, EventHeader framing,
// registration bookkeeping and Poll. Portable: only user_events_file.cc
// touches the kernel.

#include "etwbridge/user_events_sink.h"

#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

#include "eventheader.h"

namespace etwbridge {
namespace {

static_assert(std::endian::native == std::endian::little,
              "EventHeader events are written in host order; the flags "
              "below claim little-endian");

constexpr uint8_t kHeaderFlags =
    internal::kEhFlagLittleEndian | internal::kEhFlagExtension |
    (sizeof(void*) == 8 ? internal::kEhFlagPointer64 : 0);

// eventheader (8 bytes) + eventheader_extension (4 bytes).
struct Prefix {
  std::byte bytes[12];
};

Prefix EncodePrefix(const EventView& event) {
  Prefix p;
  const auto put16 = [&](size_t at, uint16_t v) {
    p.bytes[at] = static_cast<std::byte>(v & 0xFF);
    p.bytes[at + 1] = static_cast<std::byte>(v >> 8);
  };
  p.bytes[0] = std::byte{kHeaderFlags};
  p.bytes[1] = std::byte{event.descriptor.version};
  put16(2, event.descriptor.id);
  put16(4, static_cast<uint16_t>(event.tag));
  p.bytes[6] = std::byte{event.descriptor.opcode};
  p.bytes[7] = std::byte{event.descriptor.level};
  put16(8, static_cast<uint16_t>(event.eventheader_metadata.size()));
  put16(10, internal::kEhExtensionMetadata);
  return p;
}

bool ValidProviderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string TracepointName(std::string_view provider, uint8_t level,
                           uint64_t keyword) {
  char suffix[40];
  std::snprintf(suffix, sizeof(suffix), "_L%xK%llx", unsigned{level},
                static_cast<unsigned long long>(keyword));
  return std::string(provider) + suffix;
}

std::string TracepointCommand(std::string_view tracepoint_name) {
  return std::string(tracepoint_name) +
         " u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; "
         "u8 level";
}

std::vector<std::byte> EncodeEventHeaderEvent(const EventView& event) {
  const Prefix prefix = EncodePrefix(event);
  const size_t meta = event.eventheader_metadata.size();
  std::vector<std::byte> out(sizeof(prefix.bytes) + meta +
                             event.payload.size());
  std::memcpy(out.data(), prefix.bytes, sizeof(prefix.bytes));
  if (meta != 0) {
    std::memcpy(out.data() + sizeof(prefix.bytes),
                event.eventheader_metadata.data(), meta);
  }
  if (!event.payload.empty()) {
    std::memcpy(out.data() + sizeof(prefix.bytes) + meta, event.payload.data(),
                event.payload.size());
  }
  return out;
}

UserEventsSink::UserEventsSink(std::string_view provider_name,
                               std::unique_ptr<UserEventsFile> file,
                               const Guid* group)
    : Sink(provider_name, group), file_(std::move(file)) {}

StatusOr<std::unique_ptr<UserEventsSink>> UserEventsSink::Open(
    std::string_view provider_name, const Guid* group) {
  auto file = OpenUserEventsFile();
  if (!file.ok()) return file.status();
  return Create(provider_name, std::move(*file), group);
}

StatusOr<std::unique_ptr<UserEventsSink>> UserEventsSink::Create(
    std::string_view provider_name, std::unique_ptr<UserEventsFile> file,
    const Guid* group) {
  if (!ValidProviderName(provider_name)) {
    return InvalidArgumentError(
        "a user_events provider name may hold only [A-Za-z0-9_]: \"" +
        std::string(provider_name) + "\"");
  }
  if (file == nullptr) return InvalidArgumentError("no user_events file");
  return std::unique_ptr<UserEventsSink>(
      new UserEventsSink(provider_name, std::move(file), group));
}

UserEventsSink::~UserEventsSink() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Registered& r : registered_) {
    file_->Unregister(&r.set->enable_word);
    r.set->enable_word.store(0, std::memory_order_relaxed);
  }
}

Status UserEventsSink::Register(EventSet* set) {
  const std::string name =
      TracepointName(provider_name(), set->level, set->keyword);
  uint32_t write_index = 0;
  const int err =
      file_->Register(TracepointCommand(name), &set->enable_word, &write_index);
  if (err != 0) {
    return InternalError("cannot register user_events tracepoint " + name +
                         ": " + std::strerror(err));
  }
  set->sink_handle = write_index;
  std::lock_guard<std::mutex> lock(mu_);
  registered_.push_back({set, set->enabled()});
  return OkStatus();
}

int UserEventsSink::Write(const EventSet& set, const EventView& event) {
  if (set.sink_handle < 0) return EBADF;
  const uint32_t write_index = static_cast<uint32_t>(set.sink_handle);
  const Prefix prefix = EncodePrefix(event);
  const IoSlice slices[4] = {
      {&write_index, sizeof(write_index)},
      {prefix.bytes, sizeof(prefix.bytes)},
      {event.eventheader_metadata.data(), event.eventheader_metadata.size()},
      {event.payload.data(), event.payload.size()},
  };
  return file_->Write(slices);
}

void UserEventsSink::Poll() {
  bool newly_enabled = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Registered& r : registered_) {
      const bool now = r.set->enabled();
      if (now && !r.was_enabled) newly_enabled = true;
      r.was_enabled = now;
    }
  }
  if (newly_enabled) NotifyEnabled();
}

}  // namespace etwbridge
