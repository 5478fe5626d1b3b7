// The AVX2 lookup kernel of StringTable. This file is compiled for baseline
// x86-64; only the functions marked TRACESTORE_TARGET_AVX2 use AVX2, and they
// run only after CpuHasAvx2() said yes (see string_table.cc).

#include "string_table_kernels.h"

#if defined(TRACESTORE_HAVE_AVX2_KERNEL)

#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#define TRACESTORE_TARGET_AVX2 __attribute__((target("avx2")))

namespace tracestore::internal {
namespace {

// Any page size is a multiple of 4 KiB, so a 16-byte load whose address is at
// most 4080 bytes into a 4 KiB block cannot touch the next page.
constexpr uintptr_t kMinPageSize = 4096;

bool Load16StaysInPage(const char* p) {
  return (reinterpret_cast<uintptr_t>(p) & (kMinPageSize - 1)) <=
         kMinPageSize - 16;
}

// Loads 16 bytes at `p` although the string may end sooner (or, from
// LoadShortHeadAtPageEnd, start later). The caller has checked that the load
// cannot touch a page without string bytes, so it cannot fault; the bytes
// outside the string are never used (the length tests mask them). It is
// excluded from AddressSanitizer, which would otherwise report the harmless
// over-read (with ASan this function is simply not inlined).
__attribute__((no_sanitize_address)) inline __m128i LoadHeadMayOverread(
    const char* p) {
  return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
}

// A string of 1 to 15 bytes that starts in the last 15 bytes of a 4 KiB
// block, where a 16-byte load could run into the next page: load the 16 bytes
// that end where the string ends instead, then shift the string down to byte
// 0 with vpshufb. That load starts inside the string's first block (at least
// 4081 + 1 - 16 bytes into it) and ends at the string's end, so every byte it
// touches lies in a page that holds string bytes. Bytes past the end come out
// as don't-cares, as with the direct load.
TRACESTORE_TARGET_AVX2 inline __m128i LoadShortHeadAtPageEnd(const char* p,
                                                             size_t length) {
  const char* window_start = reinterpret_cast<const char*>(
      reinterpret_cast<uintptr_t>(p) + length - 16);
  const __m128i window = LoadHeadMayOverread(window_start);
  const __m128i shift = _mm_add_epi8(
      _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
      _mm_set1_epi8(static_cast<char>(16 - length)));
  return _mm_shuffle_epi8(window, shift);
}

TRACESTORE_TARGET_AVX2 inline uint32_t Equal16Mask(const char* a,
                                                   const char* b) {
  const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a));
  const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b));
  return static_cast<uint32_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)));
}

TRACESTORE_TARGET_AVX2 inline bool Equal32(const char* a, const char* b) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b));
  return static_cast<uint32_t>(_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, y))) ==
         0xFFFFFFFFu;
}

// Compares bytes [16, length) of `text` and `prefix`; the first 16 are known
// to be equal and length > 16. Every load lies inside [0, length), which is
// inside both strings: the last chunk is loaded so that it ends at `length`,
// overlapping bytes already compared, instead of reading past the end.
TRACESTORE_TARGET_AVX2 __attribute__((noinline)) bool TailEqual(
    const char* text, const char* prefix, uint32_t length) {
  if (length <= 32) {
    return Equal16Mask(text + length - 16, prefix + length - 16) == 0xFFFFu;
  }
  for (uint32_t offset = 16; offset + 32 < length; offset += 32) {
    if (!Equal32(text + offset, prefix + offset)) return false;
  }
  return Equal32(text + length - 32, prefix + length - 32);
}

// Confirms each candidate in full; usually there is one. Its first 16 bytes
// are compared against the head register under the slot's mask. Out of line
// (a tail call) so the miss path stays a leaf without a stack frame.
TRACESTORE_TARGET_AVX2 __attribute__((noinline)) uint32_t ConfirmCandidates(
    const StringTableLayout& table, __m128i head, const char* data,
    size_t length, uint32_t candidates) {
  uint32_t matches = 0;
  do {
    const int slot = __builtin_ctz(candidates);
    candidates &= candidates - 1;
    const uint32_t slot_length = table.lengths[slot];
    const __m128i slot_head =
        _mm_load_si128(reinterpret_cast<const __m128i*>(table.heads[slot]));
    const uint32_t equal_bytes = static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(head, slot_head)));
    const uint32_t needed = table.head_masks[slot];
    // The vector test compared lengths clamped to 255; this one is exact.
    if (slot_length > length || (equal_bytes & needed) != needed) continue;
    if (slot_length > 16 &&
        !TailEqual(data, table.prefixes[slot], slot_length)) {
      continue;
    }
    matches |= 1u << slot;
  } while (candidates != 0);
  return matches;
}

}  // namespace

TRACESTORE_TARGET_AVX2 uint32_t MatchAllAvx2(const StringTableLayout& table,
                                             std::string_view text) {
  const char* data = text.data();
  const size_t length = text.size();

  // The first 16 bytes of the text, in a register. Bytes past its end are
  // don't-cares. A 16-byte load from a short string could run into an
  // unmapped page (a name ending right before a guard page), so short
  // strings near the end of a page are loaded backwards from their end.
  __m128i head;
  if (length >= 16 || (length != 0 && Load16StaysInPage(data))) {
    head = LoadHeadMayOverread(data);
  } else if (length == 0) {
    return 0;  // prefixes are never empty
  } else {
    head = LoadShortHeadAtPageEnd(data, length);
  }

  // Candidate pass: slot i survives when text[position_i] == byte_i and
  // length_i <= text length (both clamped to 255; exact check later). Unused
  // slots have position 0x80, for which vpshufb yields 0, and byte 1: never
  // equal.
  const __m128i positions =
      _mm_load_si128(reinterpret_cast<const __m128i*>(table.unique_positions));
  const __m128i bytes =
      _mm_load_si128(reinterpret_cast<const __m128i*>(table.unique_bytes));
  const __m128i slot_lengths =
      _mm_load_si128(reinterpret_cast<const __m128i*>(table.clamped_lengths));
  const __m128i text_length = _mm_set1_epi8(
      static_cast<char>(static_cast<uint8_t>(std::min<size_t>(length, 255))));

  const __m128i byte_equal =
      _mm_cmpeq_epi8(_mm_shuffle_epi8(head, positions), bytes);
  const __m128i length_fits =
      _mm_cmpeq_epi8(_mm_min_epu8(slot_lengths, text_length), slot_lengths);
  uint32_t candidates = static_cast<uint32_t>(
      _mm_movemask_epi8(_mm_and_si128(byte_equal, length_fits)));
  if (__builtin_expect(candidates == 0, 1)) return 0;

  return ConfirmCandidates(table, head, data, length, candidates);
}

}  // namespace tracestore::internal

#endif  // TRACESTORE_HAVE_AVX2_KERNEL
