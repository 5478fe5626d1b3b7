// TraceLogging encoding: descriptor bytes, GUIDs and the name hash, provider
// traits, and the EventBuilder (TraceLogging and EventHeader metadata built
// side by side over one payload).

#include "etwbridge/tracelogging.h"

#include <algorithm>
#include <cstring>

#include "eventheader.h"
#include "sha1.h"
#include "utf.h"

namespace etwbridge {
namespace {

template <typename T>
void AppendLe(std::vector<std::byte>* out, T value) {
  static_assert(std::is_integral_v<T>);
  using U = std::make_unsigned_t<T>;
  U v = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<std::byte>(v & 0xFF));
    if constexpr (sizeof(T) > 1) v = static_cast<U>(v >> 8);
  }
}

void AppendString(std::vector<std::byte>* out, std::string_view s) {
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  out->insert(out->end(), p, p + s.size());
  out->push_back(std::byte{0});
}

void PatchU16(std::vector<std::byte>* out, size_t at, uint16_t v) {
  (*out)[at] = static_cast<std::byte>(v & 0xFF);
  (*out)[at + 1] = static_cast<std::byte>(v >> 8);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The .NET EventSource namespace the provider-id hash starts from.
constexpr uint8_t kEventSourceNamespace[16] = {
    0x48, 0x2C, 0x2D, 0xB2, 0xC3, 0x90, 0x47, 0xC8,
    0x87, 0xF8, 0x1A, 0x15, 0xBF, 0xC1, 0x30, 0xFB};

}  // namespace

std::array<std::byte, 16> EventDescriptor::Bytes() const {
  std::vector<std::byte> v;
  v.reserve(16);
  AppendLe(&v, id);
  AppendLe(&v, version);
  AppendLe(&v, channel);
  AppendLe(&v, level);
  AppendLe(&v, opcode);
  AppendLe(&v, task);
  AppendLe(&v, keyword);
  std::array<std::byte, 16> out;
  std::memcpy(out.data(), v.data(), 16);
  return out;
}

std::optional<Guid> Guid::Parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  }
  if (text.size() != 36) return std::nullopt;
  uint8_t b[16];
  size_t n = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = HexValue(text[i]), lo = HexValue(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    b[n++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  Guid g;
  g.data1 =
      uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
  g.data2 = static_cast<uint16_t>(b[4] << 8 | b[5]);
  g.data3 = static_cast<uint16_t>(b[6] << 8 | b[7]);
  std::memcpy(g.data4.data(), b + 8, 8);
  return g;
}

Guid Guid::FromBytes(std::span<const uint8_t, 16> b) {
  Guid g;
  g.data1 =
      uint32_t{b[3]} << 24 | uint32_t{b[2]} << 16 | uint32_t{b[1]} << 8 | b[0];
  g.data2 = static_cast<uint16_t>(b[5] << 8 | b[4]);
  g.data3 = static_cast<uint16_t>(b[7] << 8 | b[6]);
  std::memcpy(g.data4.data(), b.data() + 8, 8);
  return g;
}

std::array<uint8_t, 16> Guid::Bytes() const {
  std::array<uint8_t, 16> b;
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(data1 >> (8 * i));
  for (int i = 0; i < 2; ++i) {
    b[4 + i] = static_cast<uint8_t>(data2 >> (8 * i));
    b[6 + i] = static_cast<uint8_t>(data3 >> (8 * i));
  }
  std::memcpy(b.data() + 8, data4.data(), 8);
  return b;
}

std::string Guid::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  const auto put = [&](uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i)
      s.push_back(kHex[(v >> (4 * i)) & 0xF]);
  };
  put(data1, 8);
  s.push_back('-');
  put(data2, 4);
  s.push_back('-');
  put(data3, 4);
  s.push_back('-');
  put(data4[0], 2);
  put(data4[1], 2);
  s.push_back('-');
  for (int i = 2; i < 8; ++i) put(data4[i], 2);
  return s;
}

Guid ProviderIdFromName(std::string_view name) {
  internal::Sha1 sha;
  sha.Update(kEventSourceNamespace);
  for (char16_t unit : internal::Utf8ToUtf16(name)) {
    const char16_t up = internal::ToUpperInvariant(unit);
    const uint8_t be[2] = {static_cast<uint8_t>(up >> 8),
                           static_cast<uint8_t>(up & 0xFF)};
    sha.Update(be);
  }
  const std::array<uint8_t, 20> digest = sha.Finish();
  std::array<uint8_t, 16> b;
  std::memcpy(b.data(), digest.data(), 16);
  b[7] = static_cast<uint8_t>((b[7] & 0x0F) | 0x50);
  return Guid::FromBytes(b);
}

std::vector<std::byte> EncodeProviderTraits(std::string_view name,
                                            const Guid* group) {
  std::vector<std::byte> out;
  AppendLe<uint16_t>(&out, 0);  // total size, patched below
  AppendString(&out, name);
  if (group != nullptr) {
    AppendLe<uint16_t>(&out, 2 + 1 + 16);
    AppendLe<uint8_t>(&out, 1);  // EtwProviderTraitTypeGroup
    for (uint8_t b : group->Bytes()) out.push_back(std::byte{b});
  }
  PatchU16(&out, 0, static_cast<uint16_t>(out.size()));
  return out;
}

void AppendTagBytes(uint32_t tag, std::vector<std::byte>* out) {
  tag &= 0x0FFFFFFF;
  for (;;) {
    const uint8_t top7 = static_cast<uint8_t>((tag >> 21) & 0x7F);
    if ((tag & 0x001FFFFF) == 0) {
      out->push_back(std::byte{top7});
      return;
    }
    out->push_back(std::byte{static_cast<uint8_t>(top7 | 0x80)});
    tag = (tag << 7) & 0x0FFFFFFF;
  }
}

// ---------------------------------------------------------------------------
// EventBuilder

EventBuilder::EventBuilder() {
  metadata_.reserve(128);
  eventheader_metadata_.reserve(128);
  payload_.reserve(128);
  Reset("");
}

void EventBuilder::Fail(Status status) {
  if (status_.ok()) status_ = std::move(status);
}

bool EventBuilder::CheckName(std::string_view name) {
  if (name.find('\0') != std::string_view::npos) {
    Fail(InvalidArgumentError("a name contains a NUL byte"));
    return false;
  }
  return true;
}

void EventBuilder::Reset(std::string_view name, uint8_t level, uint64_t keyword,
                         uint8_t opcode, uint32_t tag) {
  status_ = Status();
  descriptor_ = EventDescriptor{};
  descriptor_.level = level;
  descriptor_.keyword = keyword;
  descriptor_.opcode = opcode;
  tag_ = tag;
  name_.assign(name);
  field_count_ = 0;
  metadata_.clear();
  eventheader_metadata_.clear();
  payload_.clear();
  if (tag > 0x0FFFFFFF) Fail(InvalidArgumentError("a tag must fit in 28 bits"));
  CheckName(name);
  AppendLe<uint16_t>(&metadata_, 0);  // size, patched as fields are added
  AppendTagBytes(tag, &metadata_);
  AppendString(&metadata_, name);
  PatchU16(&metadata_, 0, static_cast<uint16_t>(metadata_.size()));
  AppendString(&eventheader_metadata_, name);
}

void EventBuilder::SetIdVersion(uint16_t id, uint8_t version) {
  descriptor_.id = id;
  descriptor_.version = version;
}

void EventBuilder::SetTask(uint16_t task) { descriptor_.task = task; }

void EventBuilder::SetChannel(uint8_t channel) {
  descriptor_.channel = channel;
}

void EventBuilder::AddField(std::string_view name, uint8_t in_type,
                            uint8_t out_type, uint32_t tag) {
  if (!CheckName(name)) return;
  if (++field_count_ > kMaxFields) {
    Fail(ResourceExhaustedError("more than 128 fields in one event"));
    return;
  }
  if (tag > 0x0FFFFFFF) {
    Fail(InvalidArgumentError("a tag must fit in 28 bits"));
    return;
  }
  // TraceLogging: name, in-type [| chain], [out-type [| chain], [tag]].
  AppendString(&metadata_, name);
  if (tag != 0) {
    metadata_.push_back(
        std::byte{static_cast<uint8_t>(in_type | kInTypeChain)});
    metadata_.push_back(
        std::byte{static_cast<uint8_t>(out_type | kOutTypeChain)});
    AppendTagBytes(tag, &metadata_);
  } else if (out_type != 0) {
    metadata_.push_back(
        std::byte{static_cast<uint8_t>(in_type | kInTypeChain)});
    metadata_.push_back(std::byte{out_type});
  } else {
    metadata_.push_back(std::byte{in_type});
  }
  // EventHeader: name, encoding [| chain], [format [| chain], [u16 tag]].
  const internal::EhFieldType eh =
      internal::EventHeaderFieldType(in_type, out_type);
  AppendString(&eventheader_metadata_, name);
  if (tag != 0) {
    eventheader_metadata_.push_back(std::byte{
        static_cast<uint8_t>(eh.encoding | internal::kEhEncodingChain)});
    eventheader_metadata_.push_back(
        std::byte{static_cast<uint8_t>(eh.format | internal::kEhFormatChain)});
    AppendLe<uint16_t>(&eventheader_metadata_, static_cast<uint16_t>(tag));
  } else if (eh.format != 0) {
    eventheader_metadata_.push_back(std::byte{
        static_cast<uint8_t>(eh.encoding | internal::kEhEncodingChain)});
    eventheader_metadata_.push_back(std::byte{eh.format});
  } else {
    eventheader_metadata_.push_back(std::byte{eh.encoding});
  }
  if (metadata_.size() > kMaxMetadataBytes ||
      eventheader_metadata_.size() > kMaxMetadataBytes) {
    Fail(ResourceExhaustedError("event metadata over 32 KiB"));
    return;
  }
  PatchU16(&metadata_, 0, static_cast<uint16_t>(metadata_.size()));
}

void EventBuilder::AddFieldMetadata(std::string_view name, InType in_type,
                                    OutType out, uint32_t tag) {
  AddField(name, static_cast<uint8_t>(in_type), static_cast<uint8_t>(out), tag);
}

void EventBuilder::AppendPayload(std::span<const std::byte> bytes) {
  if (payload_.size() + bytes.size() > kMaxPayloadBytes) {
    Fail(ResourceExhaustedError("event payload over 64 KiB"));
    return;
  }
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
}

template <typename T>
void EventBuilder::AddScalar(std::string_view name, InType in, OutType out,
                             uint32_t tag, T value) {
  AddField(name, static_cast<uint8_t>(in), static_cast<uint8_t>(out), tag);
  std::byte bytes[sizeof(T)];
  if constexpr (std::is_floating_point_v<T>) {
    std::memcpy(bytes, &value, sizeof(T));  // IEEE 754, little-endian hosts
  } else {
    using U = std::make_unsigned_t<T>;
    U v = static_cast<U>(value);
    for (size_t i = 0; i < sizeof(T); ++i) {
      bytes[i] = static_cast<std::byte>(v & 0xFF);
      if constexpr (sizeof(T) > 1) v = static_cast<U>(v >> 8);
    }
  }
  AppendPayload(bytes);
}

void EventBuilder::AddInt8(std::string_view n, int8_t v, OutType o,
                           uint32_t t) {
  AddScalar(n, InType::kInt8, o, t, v);
}
void EventBuilder::AddUInt8(std::string_view n, uint8_t v, OutType o,
                            uint32_t t) {
  AddScalar(n, InType::kUInt8, o, t, v);
}
void EventBuilder::AddInt16(std::string_view n, int16_t v, OutType o,
                            uint32_t t) {
  AddScalar(n, InType::kInt16, o, t, v);
}
void EventBuilder::AddUInt16(std::string_view n, uint16_t v, OutType o,
                             uint32_t t) {
  AddScalar(n, InType::kUInt16, o, t, v);
}
void EventBuilder::AddInt32(std::string_view n, int32_t v, OutType o,
                            uint32_t t) {
  AddScalar(n, InType::kInt32, o, t, v);
}
void EventBuilder::AddUInt32(std::string_view n, uint32_t v, OutType o,
                             uint32_t t) {
  AddScalar(n, InType::kUInt32, o, t, v);
}
void EventBuilder::AddInt64(std::string_view n, int64_t v, OutType o,
                            uint32_t t) {
  AddScalar(n, InType::kInt64, o, t, v);
}
void EventBuilder::AddUInt64(std::string_view n, uint64_t v, OutType o,
                             uint32_t t) {
  AddScalar(n, InType::kUInt64, o, t, v);
}
void EventBuilder::AddHexInt32(std::string_view n, uint32_t v, OutType o,
                               uint32_t t) {
  AddScalar(n, InType::kHexInt32, o, t, v);
}
void EventBuilder::AddHexInt64(std::string_view n, uint64_t v, OutType o,
                               uint32_t t) {
  AddScalar(n, InType::kHexInt64, o, t, v);
}
void EventBuilder::AddFloat32(std::string_view n, float v, OutType o,
                              uint32_t t) {
  AddScalar(n, InType::kFloat, o, t, v);
}
void EventBuilder::AddFloat64(std::string_view n, double v, OutType o,
                              uint32_t t) {
  AddScalar(n, InType::kDouble, o, t, v);
}
void EventBuilder::AddBool32(std::string_view n, bool v, OutType o,
                             uint32_t t) {
  AddScalar(n, InType::kBool32, o, t, static_cast<int32_t>(v ? 1 : 0));
}

void EventBuilder::AddUnicodeString(std::string_view name,
                                    std::string_view utf8, OutType out,
                                    uint32_t tag) {
  AddField(name, static_cast<uint8_t>(InType::kUnicodeString),
           static_cast<uint8_t>(out), tag);
  // Room for the string and its NUL within the payload limit.
  const size_t room =
      kMaxPayloadBytes - std::min(payload_.size(), kMaxPayloadBytes);
  const size_t max_units = std::min(utf8.size(), room < 2 ? 0 : room / 2 - 1);
  const size_t at = payload_.size();
  payload_.resize(at + 2 * max_units);
  bool complete = false;
  const size_t units =
      internal::Utf8ToUtf16Le(utf8, payload_.data() + at, max_units, &complete);
  payload_.resize(at + 2 * units);
  if (!complete) {
    Fail(ResourceExhaustedError("event payload over 64 KiB"));
    return;
  }
  const std::byte nul[2] = {};
  AppendPayload(nul);
}

void EventBuilder::AddUnicodeString(std::string_view name,
                                    std::u16string_view utf16, OutType out,
                                    uint32_t tag) {
  AddField(name, static_cast<uint8_t>(InType::kUnicodeString),
           static_cast<uint8_t>(out), tag);
  const size_t nul = utf16.find(u'\0');
  if (nul != std::u16string_view::npos) utf16 = utf16.substr(0, nul);
  std::vector<std::byte> bytes;
  bytes.reserve(2 * utf16.size() + 2);
  for (char16_t u : utf16) AppendLe<uint16_t>(&bytes, u);
  AppendLe<uint16_t>(&bytes, 0);
  AppendPayload(bytes);
}

void EventBuilder::AddAnsiString(std::string_view name, std::string_view bytes,
                                 OutType out, uint32_t tag) {
  AddField(name, static_cast<uint8_t>(InType::kAnsiString),
           static_cast<uint8_t>(out), tag);
  const size_t nul = bytes.find('\0');
  if (nul != std::string_view::npos) bytes = bytes.substr(0, nul);
  AppendPayload(std::as_bytes(std::span(bytes.data(), bytes.size())));
  const std::byte zero[1] = {};
  AppendPayload(zero);
}

void EventBuilder::AddStruct(std::string_view name, uint8_t member_count,
                             uint32_t tag) {
  if (member_count == 0 || member_count > 127) {
    Fail(InvalidArgumentError("a struct has 1..127 members"));
    return;
  }
  // The out-type byte holds the member count, so it is always present.
  AddField(name, static_cast<uint8_t>(InType::kStruct) | kInTypeChain,
           member_count, tag);
}

EventView EventBuilder::View() const {
  EventView view;
  view.descriptor = descriptor_;
  view.tag = tag_;
  view.metadata = metadata_;
  view.eventheader_metadata = eventheader_metadata_;
  view.payload = payload_;
  return view;
}

// ---------------------------------------------------------------------------
// TraceLogging type -> EventHeader type

namespace internal {

EhFieldType EventHeaderFieldType(uint8_t in_type, uint8_t out_type) {
  const uint8_t in = in_type & 0x1F;
  const uint8_t out = out_type & 0x7F;
  const uint8_t array_flags =
      in_type & (kInTypeConstCount | kInTypeVarCount);  // same bits in EH
  uint8_t encoding;
  uint8_t format = kEhFormatDefault;
  switch (static_cast<InType>(in)) {
    case InType::kUnicodeString:
      encoding = kEhZStringChar16;
      break;
    case InType::kAnsiString:
      encoding = kEhZStringChar8;
      format = kEhString8;  // an ANSI code page unless out says UTF-8
      break;
    case InType::kInt8:
      encoding = kEhValue8;
      format = kEhSignedInt;
      break;
    case InType::kUInt8:
      encoding = kEhValue8;
      break;
    case InType::kInt16:
      encoding = kEhValue16;
      format = kEhSignedInt;
      break;
    case InType::kUInt16:
      encoding = kEhValue16;
      break;
    case InType::kInt32:
      encoding = kEhValue32;
      format = kEhSignedInt;
      break;
    case InType::kUInt32:
      encoding = kEhValue32;
      break;
    case InType::kInt64:
      encoding = kEhValue64;
      format = kEhSignedInt;
      break;
    case InType::kUInt64:
    case InType::kFileTime:
      encoding = kEhValue64;
      break;
    case InType::kFloat:
      encoding = kEhValue32;
      format = kEhFloat;
      break;
    case InType::kDouble:
      encoding = kEhValue64;
      format = kEhFloat;
      break;
    case InType::kBool32:
      encoding = kEhValue32;
      format = kEhBoolean;
      break;
    case InType::kHexInt32:
      encoding = kEhValue32;
      format = kEhHexInt;
      break;
    case InType::kHexInt64:
      encoding = kEhValue64;
      format = kEhHexInt;
      break;
    case InType::kGuid:
    case InType::kSystemTime:
      encoding = kEhValue128;
      break;
    case InType::kCountedString:
      encoding = kEhStringLength16Char16;
      break;
    case InType::kCountedAnsiString:
      encoding = kEhStringLength16Char8;
      break;
    case InType::kStruct:
      return {static_cast<uint8_t>(kEhStruct | array_flags), out};
    default:  // BINARY, COUNTEDBINARY, SID
      encoding = kEhBinaryLength16Char8;
      break;
  }
  switch (static_cast<OutType>(out)) {
    case OutType::kDefault:
    case OutType::kNoPrint:
      break;
    case OutType::kString:
      format = encoding == kEhValue8 ? kEhString8 : kEhStringUtf;
      break;
    case OutType::kBoolean:
      format = kEhBoolean;
      break;
    case OutType::kHex:
    case OutType::kWin32Error:
    case OutType::kNtStatus:
    case OutType::kHResult:
    case OutType::kCodePointer:
      format = kEhHexInt;
      break;
    case OutType::kPid:
    case OutType::kTid:
      format = kEhPid;
      break;
    case OutType::kPort:
      format = kEhPort;
      break;
    case OutType::kIpv4:
    case OutType::kIpv6:
      format = kEhIpAddress;
      break;
    case OutType::kXml:
      format = kEhStringXml;
      break;
    case OutType::kJson:
      format = kEhStringJson;
      break;
    case OutType::kSigned:
      format = kEhSignedInt;
      break;
    case OutType::kUnsigned:
      format = kEhUnsignedInt;
      break;
    case OutType::kUtf8:
      format = kEhStringUtf;
      break;
    default:
      break;
  }
  // Leave out a format byte that says what the encoding implies anyway.
  const bool is_value = encoding >= kEhValue8 && encoding <= kEhValue64;
  const bool is_string =
      encoding >= kEhZStringChar8 && encoding <= kEhStringLength16Char32;
  if ((is_value && format == kEhUnsignedInt) ||
      (is_string && format == kEhStringUtf)) {
    format = kEhFormatDefault;
  }
  return {static_cast<uint8_t>(encoding | array_flags), format};
}

}  // namespace internal
}  // namespace etwbridge
