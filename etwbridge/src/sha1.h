// SHA-1 (FIPS 180-4), for the provider-id-from-name hash only. Not for
// anything that needs a secure hash.
//
//   internal::Sha1 sha;
//   sha.Update(bytes);
//   std::array<uint8_t, 20> digest = sha.Finish();

#ifndef ETWBRIDGE_SRC_SHA1_H_
#define ETWBRIDGE_SRC_SHA1_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace etwbridge::internal {

class Sha1 {
 public:
  Sha1();
  void Update(std::span<const uint8_t> data);
  // Pads, returns the digest. The object must not be used afterwards.
  std::array<uint8_t, 20> Finish();

 private:
  void Block(const uint8_t* block);

  std::array<uint32_t, 5> h_;
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace etwbridge::internal

#endif  // ETWBRIDGE_SRC_SHA1_H_
