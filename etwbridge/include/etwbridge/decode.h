// Decodes a TraceLogging event (metadata + payload) back into named values:
// what the tests, and the recorder's tests on Linux, use to read the events
// a CaptureSink caught.
//
//   auto ev = etwbridge::DecodeTraceLogging(captured.metadata,
//   captured.payload); ASSERT_TRUE(ev.ok()); EXPECT_EQ(ev->name,
//   "PythonFunctionPush"); EXPECT_EQ(ev->Find("FunctionID")->AsUInt64(), 7u);
//
// Scalars, strings (UNICODESTRING and COUNTEDSTRING become UTF-8), bool,
// float, GUID and binary are decoded; arrays are refused (Unimplemented).
// A struct field decodes to its member count; its members follow it.

#ifndef ETWBRIDGE_DECODE_H_
#define ETWBRIDGE_DECODE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

struct DecodedField {
  std::string name;
  InType in_type = InType::kUnicodeString;
  OutType out_type = OutType::kDefault;
  uint32_t tag = 0;
  // Signed integers as int64, unsigned/hex/bool/struct counts as uint64,
  // floats as double, strings as UTF-8, GUID and binary as raw bytes.
  std::variant<int64_t, uint64_t, double, std::string, std::vector<std::byte>>
      value;

  // The value converted (0 / "" when it holds another kind).
  int64_t AsInt64() const;
  uint64_t AsUInt64() const;
  std::string AsString() const;
};

struct DecodedEvent {
  std::string name;
  uint32_t tag = 0;
  std::vector<DecodedField> fields;

  // The first field named `name`, or nullptr.
  const DecodedField* Find(std::string_view name) const;
};

// Fails (InvalidArgument) on metadata or payload that is truncated, has a
// wrong size prefix or trailing bytes.
StatusOr<DecodedEvent> DecodeTraceLogging(std::span<const std::byte> metadata,
                                          std::span<const std::byte> payload);

}  // namespace etwbridge

#endif  // ETWBRIDGE_DECODE_H_
