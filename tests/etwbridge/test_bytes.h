// Byte helpers for the etwbridge tests: expected bytes are written out as
// integer lists and compared as hex strings, so a mismatch prints readably.

#ifndef ETWBRIDGE_TESTS_TEST_BYTES_H_
#define ETWBRIDGE_TESTS_TEST_BYTES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace etwbridge::testing {

inline std::vector<std::byte> Bytes(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

// "1a 00 50 ..." (lower case, one space between bytes).
inline std::string Hex(std::span<const std::byte> bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::snprintf(buf, sizeof(buf), i == 0 ? "%02x" : " %02x",
                  static_cast<unsigned>(bytes[i]));
    out += buf;
  }
  return out;
}

template <size_t N>
std::string Hex(const std::array<std::byte, N>& bytes) {
  return Hex(std::span<const std::byte>(bytes));
}
inline std::string Hex(const std::vector<std::byte>& bytes) {
  return Hex(std::span<const std::byte>(bytes));
}
inline std::string Hex(std::initializer_list<int> values) {
  return Hex(Bytes(values));
}

}  // namespace etwbridge::testing

#endif  // ETWBRIDGE_TESTS_TEST_BYTES_H_
