// TraceLogging decoding: walks the metadata field by field and takes each
// value's bytes from the payload.

#include "etwbridge/decode.h"

#include <cstring>

#include "utf.h"

namespace etwbridge {
namespace {

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  bool done() const { return pos_ == bytes_.size(); }
  size_t left() const { return bytes_.size() - pos_; }

  bool U8(uint8_t* v) {
    if (left() < 1) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool Uint(size_t size, uint64_t* v) {
    if (left() < size) return false;
    *v = 0;
    for (size_t i = 0; i < size; ++i) {
      *v |= uint64_t{static_cast<uint8_t>(bytes_[pos_ + i])} << (8 * i);
    }
    pos_ += size;
    return true;
  }
  bool Bytes(size_t size, std::vector<std::byte>* out) {
    if (left() < size) return false;
    out->assign(bytes_.begin() + pos_, bytes_.begin() + pos_ + size);
    pos_ += size;
    return true;
  }
  bool CString(std::string* out) {
    for (size_t i = pos_; i < bytes_.size(); ++i) {
      if (bytes_[i] == std::byte{0}) {
        out->assign(reinterpret_cast<const char*>(bytes_.data() + pos_),
                    i - pos_);
        pos_ = i + 1;
        return true;
      }
    }
    return false;
  }
  bool Utf16String(std::string* out) {
    std::u16string units;
    for (;;) {
      uint64_t u;
      if (!Uint(2, &u)) return false;
      if (u == 0) break;
      units.push_back(static_cast<char16_t>(u));
    }
    *out = internal::Utf16ToUtf8(units);
    return true;
  }
  bool Tag(uint32_t* tag) {
    *tag = 0;
    for (int i = 0; i < 4; ++i) {
      uint8_t b;
      if (!U8(&b)) return false;
      *tag |= uint32_t{b & 0x7Fu} << (21 - 7 * i);
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }

 private:
  std::span<const std::byte> bytes_;
  size_t pos_ = 0;
};

Status Bad(std::string_view what) {
  return InvalidArgumentError("bad TraceLogging event: " + std::string(what));
}

}  // namespace

int64_t DecodedField::AsInt64() const {
  if (auto* v = std::get_if<int64_t>(&value)) return *v;
  if (auto* v = std::get_if<uint64_t>(&value)) return static_cast<int64_t>(*v);
  if (auto* v = std::get_if<double>(&value)) return static_cast<int64_t>(*v);
  return 0;
}

uint64_t DecodedField::AsUInt64() const {
  if (auto* v = std::get_if<uint64_t>(&value)) return *v;
  if (auto* v = std::get_if<int64_t>(&value)) return static_cast<uint64_t>(*v);
  if (auto* v = std::get_if<double>(&value)) return static_cast<uint64_t>(*v);
  return 0;
}

std::string DecodedField::AsString() const {
  if (auto* v = std::get_if<std::string>(&value)) return *v;
  return "";
}

const DecodedField* DecodedEvent::Find(std::string_view field_name) const {
  for (const DecodedField& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

StatusOr<DecodedEvent> DecodeTraceLogging(std::span<const std::byte> metadata,
                                          std::span<const std::byte> payload) {
  Reader meta(metadata);
  uint64_t size;
  if (!meta.Uint(2, &size)) return Bad("metadata shorter than its size field");
  if (size != metadata.size()) return Bad("metadata size field mismatch");
  DecodedEvent event;
  if (!meta.Tag(&event.tag)) return Bad("event tag");
  if (!meta.CString(&event.name)) return Bad("event name");
  Reader data(payload);
  while (!meta.done()) {
    DecodedField f;
    uint8_t in = 0, out = 0;
    if (!meta.CString(&f.name) || !meta.U8(&in)) return Bad("field metadata");
    if (in & kInTypeChain) {
      if (!meta.U8(&out)) return Bad("field out-type");
      if ((out & kOutTypeChain) && !meta.Tag(&f.tag)) return Bad("field tag");
    }
    if (in & (kInTypeConstCount | kInTypeVarCount)) {
      return UnimplementedError("array fields are not decoded");
    }
    f.in_type = static_cast<InType>(in & 0x1F);
    f.out_type = static_cast<OutType>(out & 0x7F);
    uint64_t u = 0;
    bool ok = true;
    const auto signed_value = [&](size_t n) {
      ok = data.Uint(n, &u);
      const int shift = static_cast<int>(64 - 8 * n);
      f.value = static_cast<int64_t>(u << shift) >> shift;
    };
    const auto unsigned_value = [&](size_t n) {
      ok = data.Uint(n, &u);
      f.value = u;
    };
    switch (f.in_type) {
      case InType::kUnicodeString: {
        std::string s;
        ok = data.Utf16String(&s);
        f.value = std::move(s);
        break;
      }
      case InType::kAnsiString: {
        std::string s;
        ok = data.CString(&s);
        f.value = std::move(s);
        break;
      }
      case InType::kInt8:
        signed_value(1);
        break;
      case InType::kInt16:
        signed_value(2);
        break;
      case InType::kInt32:
        signed_value(4);
        break;
      case InType::kInt64:
        signed_value(8);
        break;
      case InType::kUInt8:
        unsigned_value(1);
        break;
      case InType::kUInt16:
        unsigned_value(2);
        break;
      case InType::kUInt32:
      case InType::kHexInt32:
      case InType::kBool32:
        unsigned_value(4);
        break;
      case InType::kUInt64:
      case InType::kHexInt64:
      case InType::kFileTime:
        unsigned_value(8);
        break;
      case InType::kFloat: {
        ok = data.Uint(4, &u);
        const uint32_t bits = static_cast<uint32_t>(u);
        float v;
        std::memcpy(&v, &bits, 4);
        f.value = double{v};
        break;
      }
      case InType::kDouble: {
        ok = data.Uint(8, &u);
        double v;
        std::memcpy(&v, &u, 8);
        f.value = v;
        break;
      }
      case InType::kGuid:
      case InType::kSystemTime: {
        std::vector<std::byte> b;
        ok = data.Bytes(16, &b);
        f.value = std::move(b);
        break;
      }
      case InType::kCountedString: {
        std::vector<std::byte> b;
        ok = data.Uint(2, &u) && u % 2 == 0 && data.Bytes(u, &b);
        std::u16string units;
        for (size_t i = 0; ok && i + 1 < b.size(); i += 2) {
          units.push_back(
              static_cast<char16_t>(static_cast<uint8_t>(b[i]) |
                                    static_cast<uint8_t>(b[i + 1]) << 8));
        }
        f.value = internal::Utf16ToUtf8(units);
        break;
      }
      case InType::kCountedAnsiString: {
        std::vector<std::byte> b;
        ok = data.Uint(2, &u) && data.Bytes(u, &b);
        f.value =
            std::string(reinterpret_cast<const char*>(b.data()), b.size());
        break;
      }
      case InType::kCountedBinary: {
        std::vector<std::byte> b;
        ok = data.Uint(2, &u) && data.Bytes(u, &b);
        f.value = std::move(b);
        break;
      }
      case InType::kStruct:
        f.value = uint64_t{out & 0x7Fu};
        break;
      default:
        return UnimplementedError("in-type " + std::to_string(in & 0x1F) +
                                  " is not decoded");
    }
    if (!ok) return Bad("payload too short for field " + f.name);
    event.fields.push_back(std::move(f));
  }
  if (!data.done()) return Bad("payload longer than its fields");
  return event;
}

}  // namespace etwbridge
