// ProtoEncoder: the few protobuf wire-format primitives the Perfetto export
// writes (varints, length-delimited fields, nested messages), appended to a
// std::string. Nested messages get the shortest length prefix: the body is
// written after a one-byte placeholder and moved when its length needs
// more. Private to the exporters.
//
//   std::string bytes;
//   ProtoEncoder e(&bytes);
//   const size_t packet = e.BeginNested(1);   // Trace.packet
//   e.VarintField(8, timestamp);              // TracePacket.timestamp
//   e.EndNested(packet);
//
// Wire format: https://protobuf.dev/programming-guides/encoding/ (tag =
// field << 3 | wire type; varints little-endian base 128).

#ifndef TRACESTORE_SRC_EXPORT_PROTO_ENCODER_H_
#define TRACESTORE_SRC_EXPORT_PROTO_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tracestore::internal {

class ProtoEncoder {
 public:
  enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLength = 2 };

  explicit ProtoEncoder(std::string* out) : out_(out) {}

  // Writes v's varint into buf (10 bytes); returns its length.
  static size_t EncodeVarint(uint64_t v, char* buf) {
    size_t n = 0;
    while (v >= 0x80) {
      buf[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    buf[n++] = static_cast<char>(v);
    return n;
  }
  void Varint(uint64_t v) {
    char buf[10];
    out_->append(buf, EncodeVarint(v, buf));
  }
  void Tag(uint32_t field, WireType type) {
    Varint(uint64_t{field} << 3 | type);
  }
  void VarintField(uint32_t field, uint64_t v) {
    Tag(field, kVarint);
    Varint(v);
  }
  void BytesField(uint32_t field, std::string_view bytes) {
    Tag(field, kLength);
    Varint(bytes.size());
    out_->append(bytes);
  }

  // A nested message: its fields go between BeginNested and EndNested.
  size_t BeginNested(uint32_t field) {
    Tag(field, kLength);
    out_->push_back('\0');  // the length, one byte for now
    return out_->size();
  }
  void EndNested(size_t body) {
    const size_t len = out_->size() - body;
    if (len < 0x80) {
      (*out_)[body - 1] = static_cast<char>(len);
      return;
    }
    char buf[10];
    const size_t n = EncodeVarint(len, buf);
    // Make room for the longer prefix, then write it.
    out_->insert(body - 1, n - 1, '\0');
    std::memcpy(out_->data() + body - 1, buf, n);
  }

 private:
  std::string* out_;
};

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_EXPORT_PROTO_ENCODER_H_
