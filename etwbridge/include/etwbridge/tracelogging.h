// TraceLogging encoding in portable C++: the EVENT_DESCRIPTOR, provider
// traits, event metadata (name, tags, fields with in-type, out-type and tag)
// and payload, plus the provider-id-from-name hash. No Windows headers: the
// bytes are the same on every platform, so they are built and tested on
// Linux too. A small counterpart of the traceloggingdynamic package's
// EventBuilder:
//
//   etwbridge::EventBuilder eb;
//   eb.Reset("MyEvent", etwbridge::kLevelVerbose, /*keyword=*/0x21);
//   eb.AddInt32("Count", 42);
//   eb.AddUnicodeString("Path", "C:\\temp\\x.txt");
//   provider.Write(eb);  // etwbridge/provider.h
//
// Each event carries its metadata in two encodings built side by side: the
// TraceLogging one (for ETW) and the EventHeader one (for Linux user_events,
// see user_events_sink.h). The payload is the same bytes for both, which is
// why the builder offers only types whose payload the two formats share.
//
// Wire format (all little-endian; see ../shared/TRACELOGGING.md):
//   traits   = u16 size, name "\0", [u16 size, u8 type, data]...
//   metadata = u16 size, tag bytes (0x00 if none), name "\0",
//              { name "\0", u8 in_type [| 0x80], [u8 out_type [| 0x80]],
//                [tag bytes] }...
//   payload  = the field values, packed; strings NUL-terminated.
//
// Thread-safety: an EventBuilder is used by one thread at a time; the free
// functions are thread-safe.

#ifndef ETWBRIDGE_TRACELOGGING_H_
#define ETWBRIDGE_TRACELOGGING_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "etwbridge/status.h"

namespace etwbridge {

// Event levels (WINEVENT_LEVEL_*).
inline constexpr uint8_t kLevelCritical = 1;
inline constexpr uint8_t kLevelError = 2;
inline constexpr uint8_t kLevelWarning = 3;
inline constexpr uint8_t kLevelInfo = 4;
inline constexpr uint8_t kLevelVerbose = 5;

// Opcodes (WINEVENT_OPCODE_*); EventHeader uses the same values.
inline constexpr uint8_t kOpcodeInfo = 0;
inline constexpr uint8_t kOpcodeStart = 1;
inline constexpr uint8_t kOpcodeStop = 2;

// The channel every TraceLogging event uses (WINEVENT_CHANNEL_TRACELOGGING).
inline constexpr uint8_t kChannelTraceLogging = 11;

// Limits that keep an event from being dropped by ETW or by decoders.
inline constexpr size_t kMaxMetadataBytes = 32 * 1024;
inline constexpr size_t kMaxPayloadBytes = 64 * 1024 - 1;
inline constexpr int kMaxFields = 128;

// TraceLogging field in-types (the low 5 bits of the in-type byte).
enum class InType : uint8_t {
  kUnicodeString = 1,  // NUL-terminated UTF-16LE
  kAnsiString = 2,     // NUL-terminated 8-bit string
  kInt8 = 3,
  kUInt8 = 4,
  kInt16 = 5,
  kUInt16 = 6,
  kInt32 = 7,
  kUInt32 = 8,
  kInt64 = 9,
  kUInt64 = 10,
  kFloat = 11,
  kDouble = 12,
  kBool32 = 13,
  kBinary = 14,
  kGuid = 15,
  kFileTime = 17,
  kSystemTime = 18,
  kSid = 19,
  kHexInt32 = 20,
  kHexInt64 = 21,
  kCountedString = 22,
  kCountedAnsiString = 23,
  kStruct = 24,  // the out-type byte holds the member count
  kCountedBinary = 25,
};

// Flags in the in-type byte.
inline constexpr uint8_t kInTypeConstCount = 0x20;  // u16 count in metadata
inline constexpr uint8_t kInTypeVarCount = 0x40;    // u16 count in payload
inline constexpr uint8_t kInTypeChain = 0x80;       // an out-type byte follows
inline constexpr uint8_t kOutTypeChain = 0x80;      // tag bytes follow

// TraceLogging field out-types (formatting hints).
enum class OutType : uint8_t {
  kDefault = 0,
  kNoPrint = 1,
  kString = 2,
  kBoolean = 3,
  kHex = 4,
  kPid = 5,
  kTid = 6,
  kPort = 7,
  kIpv4 = 8,
  kIpv6 = 9,
  kSocketAddress = 10,
  kXml = 11,
  kJson = 12,
  kWin32Error = 13,
  kNtStatus = 14,
  kHResult = 15,
  kFileTime = 16,
  kSigned = 17,
  kUnsigned = 18,
  kUtf8 = 35,
  kPkcs7WithTypeInfo = 36,
  kCodePointer = 37,
  kDateTimeUtc = 38,
};

// EVENT_DESCRIPTOR: 16 bytes, the same layout as Windows' struct.
struct EventDescriptor {
  uint16_t id = 0;
  uint8_t version = 0;
  uint8_t channel = kChannelTraceLogging;
  uint8_t level = kLevelVerbose;
  uint8_t opcode = kOpcodeInfo;
  uint16_t task = 0;
  uint64_t keyword = 0;

  // The 16 bytes as ETW reads them (little-endian).
  std::array<std::byte, 16> Bytes() const;
  friend bool operator==(const EventDescriptor&,
                         const EventDescriptor&) = default;
};
static_assert(std::is_trivially_copyable_v<EventDescriptor> &&
              sizeof(EventDescriptor) == 16);

// A GUID, with Windows' field split (data1..data3 little-endian on the wire).
struct Guid {
  uint32_t data1 = 0;
  uint16_t data2 = 0;
  uint16_t data3 = 0;
  std::array<uint8_t, 8> data4{};

  // Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", optionally in braces.
  static std::optional<Guid> Parse(std::string_view text);
  // The 16 bytes in Windows byte order (as in a GUID struct in memory).
  static Guid FromBytes(std::span<const uint8_t, 16> bytes);
  std::array<uint8_t, 16> Bytes() const;
  // Lower-case "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
  std::string ToString() const;

  friend bool operator==(const Guid&, const Guid&) = default;
};
static_assert(std::is_trivially_copyable_v<Guid> && sizeof(Guid) == 16);

// The provider id ETW tools derive from a provider name (.NET EventSource,
// WinRT LoggingChannel, `tracelog -guid *Name`): SHA-1 over the EventSource
// namespace bytes and the upper-cased name in UTF-16BE, truncated to 16
// bytes, version nibble 5. `name` is UTF-8.
Guid ProviderIdFromName(std::string_view name);

// Provider traits: u16 size, the UTF-8 name with a NUL, and, if `group` is
// given, the provider-group trait (u16 19, u8 1, the group GUID).
std::vector<std::byte> EncodeProviderTraits(std::string_view name,
                                            const Guid* group = nullptr);

// Appends a 28-bit tag in TraceLogging's chained form: 7 bits a byte, high
// bits first, 0x80 on every byte but the last, no trailing zero groups; a
// zero tag is the single byte 0x00.
void AppendTagBytes(uint32_t tag, std::vector<std::byte>* out);

// One encoded event as a Sink receives it. The spans point into storage
// owned by the caller for the duration of the Write call.
struct EventView {
  EventDescriptor descriptor;
  uint32_t tag = 0;  // event tag; EventHeader carries its low 16 bits
  std::span<const std::byte> metadata;              // TraceLogging form
  std::span<const std::byte> eventheader_metadata;  // EventHeader form
  std::span<const std::byte> payload;
};

// Builds one event at a time: Reset, then one Add call per field, then hand
// it to Provider::Write (or View() to a Sink). Reuse the builder: its buffers
// keep their capacity. Errors (a NUL in a name, more than kMaxFields fields,
// metadata or payload over the limits) put the builder in an error state
// that status() reports and Write refuses; Reset clears it.
class EventBuilder {
 public:
  EventBuilder();

  // Starts an event. `tag` must fit in 28 bits.
  void Reset(std::string_view name, uint8_t level = kLevelVerbose,
             uint64_t keyword = 0x1, uint8_t opcode = kOpcodeInfo,
             uint32_t tag = 0);
  // Optional descriptor parts TraceLogging normally leaves at 0.
  void SetIdVersion(uint16_t id, uint8_t version);
  void SetTask(uint16_t task);
  void SetChannel(uint8_t channel);

  void AddInt8(std::string_view name, int8_t value,
               OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddUInt8(std::string_view name, uint8_t value,
                OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddInt16(std::string_view name, int16_t value,
                OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddUInt16(std::string_view name, uint16_t value,
                 OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddInt32(std::string_view name, int32_t value,
                OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddUInt32(std::string_view name, uint32_t value,
                 OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddInt64(std::string_view name, int64_t value,
                OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddUInt64(std::string_view name, uint64_t value,
                 OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddHexInt32(std::string_view name, uint32_t value,
                   OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddHexInt64(std::string_view name, uint64_t value,
                   OutType out = OutType::kDefault, uint32_t tag = 0);
  // A pointer-sized value: HEXINT64 (this library targets 64-bit builds).
  void AddPointer(std::string_view name, uint64_t value,
                  OutType out = OutType::kDefault, uint32_t tag = 0) {
    AddHexInt64(name, value, out, tag);
  }
  void AddFloat32(std::string_view name, float value,
                  OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddFloat64(std::string_view name, double value,
                  OutType out = OutType::kDefault, uint32_t tag = 0);
  void AddBool32(std::string_view name, bool value,
                 OutType out = OutType::kDefault, uint32_t tag = 0);
  // UNICODESTRING from UTF-8 (converted to UTF-16LE; it ends at a NUL).
  void AddUnicodeString(std::string_view name, std::string_view utf8,
                        OutType out = OutType::kDefault, uint32_t tag = 0);
  // UNICODESTRING from UTF-16 code units (it ends at a NUL unit).
  void AddUnicodeString(std::string_view name, std::u16string_view utf16,
                        OutType out = OutType::kDefault, uint32_t tag = 0);
  // ANSISTRING holding UTF-8 (out-type UTF8 unless told otherwise).
  void AddAnsiString(std::string_view name, std::string_view bytes,
                     OutType out = OutType::kUtf8, uint32_t tag = 0);
  // A struct: the next `member_count` (1..127) fields are its members.
  void AddStruct(std::string_view name, uint8_t member_count, uint32_t tag = 0);

  // A field of any in-type whose payload the caller appends with
  // AppendPayload. For types the Add methods do not cover; EventHeader gets
  // its closest encoding (see user_events_sink.h).
  void AddFieldMetadata(std::string_view name, InType in_type, OutType out,
                        uint32_t tag = 0);
  void AppendPayload(std::span<const std::byte> bytes);

  const Status& status() const { return status_; }
  const EventDescriptor& descriptor() const { return descriptor_; }
  uint32_t tag() const { return tag_; }
  const std::string& name() const { return name_; }
  int field_count() const { return field_count_; }
  std::span<const std::byte> metadata() const { return metadata_; }
  std::span<const std::byte> eventheader_metadata() const {
    return eventheader_metadata_;
  }
  std::span<const std::byte> payload() const { return payload_; }
  EventView View() const;

 private:
  bool CheckName(std::string_view name);
  void AddField(std::string_view name, uint8_t in_type, uint8_t out_type,
                uint32_t tag);
  template <typename T>
  void AddScalar(std::string_view name, InType in, OutType out, uint32_t tag,
                 T value);
  void Fail(Status status);

  EventDescriptor descriptor_;
  uint32_t tag_ = 0;
  std::string name_;
  int field_count_ = 0;
  Status status_;
  std::vector<std::byte> metadata_;
  std::vector<std::byte> eventheader_metadata_;
  std::vector<std::byte> payload_;
};

}  // namespace etwbridge

#endif  // ETWBRIDGE_TRACELOGGING_H_
