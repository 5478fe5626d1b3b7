// EventHeader field types (LinuxTracepoints' eventheader.h conventions) and
// the mapping from a TraceLogging in-type/out-type to them. Private to
// etwbridge: the builder uses it to encode EventHeader metadata next to the
// TraceLogging metadata, the user_events sink to frame events.

#ifndef ETWBRIDGE_SRC_EVENTHEADER_H_
#define ETWBRIDGE_SRC_EVENTHEADER_H_

#include <cstdint>

namespace etwbridge::internal {

// Field encodings (low 5 bits of the encoding byte).
enum EhEncoding : uint8_t {
  kEhStruct = 1,
  kEhValue8 = 2,
  kEhValue16 = 3,
  kEhValue32 = 4,
  kEhValue64 = 5,
  kEhValue128 = 6,
  kEhZStringChar8 = 7,
  kEhZStringChar16 = 8,
  kEhZStringChar32 = 9,
  kEhStringLength16Char8 = 10,
  kEhStringLength16Char16 = 11,
  kEhStringLength16Char32 = 12,
  kEhBinaryLength16Char8 = 13,
};
inline constexpr uint8_t kEhEncodingCArray = 0x20;
inline constexpr uint8_t kEhEncodingVArray = 0x40;
inline constexpr uint8_t kEhEncodingChain = 0x80;  // a format byte follows

// Field formats (low 7 bits of the format byte).
enum EhFormat : uint8_t {
  kEhFormatDefault = 0,
  kEhUnsignedInt = 1,
  kEhSignedInt = 2,
  kEhHexInt = 3,
  kEhErrno = 4,
  kEhPid = 5,
  kEhTime = 6,
  kEhBoolean = 7,
  kEhFloat = 8,
  kEhHexBytes = 9,
  kEhString8 = 10,
  kEhStringUtf = 11,
  kEhStringUtfBom = 12,
  kEhStringXml = 13,
  kEhStringJson = 14,
  kEhUuid = 15,
  kEhPort = 16,
  kEhIpAddress = 17,
};
inline constexpr uint8_t kEhFormatChain = 0x80;  // a u16 field tag follows

// Header flags.
inline constexpr uint8_t kEhFlagPointer64 = 0x01;
inline constexpr uint8_t kEhFlagLittleEndian = 0x02;
inline constexpr uint8_t kEhFlagExtension = 0x04;

// Header extension kinds.
inline constexpr uint16_t kEhExtensionMetadata = 1;
inline constexpr uint16_t kEhExtensionChain = 0x8000;

struct EhFieldType {
  uint8_t encoding;  // EhEncoding, with the array flags of the in-type
  uint8_t format;    // EhFormat; 0 when the encoding's default applies
};

// The EventHeader type closest to a TraceLogging in-type byte (flags
// included) and out-type (for a struct: its member count).
EhFieldType EventHeaderFieldType(uint8_t in_type, uint8_t out_type);

}  // namespace etwbridge::internal

#endif  // ETWBRIDGE_SRC_EVENTHEADER_H_
