// StringTable: up to 16 prefixes, answering "which of them is a prefix of this
// string?" in a handful of cycles. It is the building block of the module
// filter (module_filter.h), which the recorder consults once per code object.
//
// The idea is the "Tracer" project's AVX2 prefix string table. At build time
// each slot gets one (position, byte) pair taken from its first 16 bytes and
// chosen so that as few other slots as possible share it. A lookup loads the
// first 16 bytes of the string, gathers the byte at each slot's position with
// one `vpshufb`, compares them with the slots' bytes and the slots' lengths
// with the string's length, and so finds the candidate slots in one pass.
// Only candidates are then compared in full (a masked 16-byte compare, then
// 32-byte compares for prefixes longer than 16 bytes). A miss usually costs
// the one pass. Which code runs is chosen once from the CPU (cpuid): AVX2
// where the CPU has it, a portable scalar kernel otherwise and on non-x86
// builds. docs/MODULE_FILTER.md explains the algorithm.
//
// Example:
//   absl::StatusOr<tracestore::StringTable> table =
//       tracestore::StringTable::Build({"numpy", "pandas", "myapp"});
//   if (!table.ok()) return table.status();
//   int slot = table->FindLongestPrefix("pandas.core.frame");  // 1
//   int none = table->FindLongestPrefix("scipy");              // kNoMatch
//
// StringTable matches raw byte prefixes: "numpy" is a prefix of "numpyx".
// ModuleFilter adds the dotted-name boundary and removes the 16-slot limit.
//
// Ownership, lifetime, thread safety: a StringTable owns copies of its
// prefixes; the views passed to Build() need not outlive the call. A built
// table is immutable, so any number of threads may look strings up in it
// concurrently without synchronisation. Copies share the immutable prefix
// bytes and are independent otherwise. Lookups never allocate, never fail
// and never read a byte that could fault: a string that ends just before an
// unmapped page is safe to look up.

#ifndef TRACESTORE_STRING_TABLE_H_
#define TRACESTORE_STRING_TABLE_H_

#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace tracestore {

// The code that answers lookups. kAuto picks the fastest kernel the CPU
// supports; tests and benchmarks name one explicitly to compare them.
enum class StringTableKernel {
  kAuto,
  kScalar,  // portable; any CPU
  kAvx2,    // x86-64 CPUs with AVX2 (and an OS that saves the YMM state)
};

struct StringTableOptions {
  StringTableKernel kernel = StringTableKernel::kAuto;
};

namespace internal {

// The table as the lookup kernels see it. Public only so that the lookup
// call can be inlined; use StringTable's accessors instead.
struct StringTableLayout;
using StringTableMatchFunction = uint32_t (*)(const StringTableLayout& table,
                                              std::string_view text);

struct alignas(64) StringTableLayout {
  // One byte per slot; these 64 bytes are all an AVX2 miss touches.
  uint8_t unique_bytes[16];      // slot i's byte at unique_positions[i]
  uint8_t unique_positions[16];  // < min(length, 16); 0x80 in unused slots
  uint8_t clamped_lengths[16];   // min(length, 255)
  StringTableMatchFunction match_all;  // the kernel chosen at build time
  uint32_t slot_count;
  uint8_t reserved[4];

  uint8_t heads[16][16];     // the first 16 bytes of each prefix, 0-padded
  uint32_t lengths[16];      // full prefix lengths in bytes
  uint16_t head_masks[16];   // bit b set for b < min(length, 16)
  const char* prefixes[16];  // each prefix's bytes (owned by StringTable)
  uint16_t slots_by_first_byte[256];  // scalar kernel: candidates per byte
};

}  // namespace internal

class StringTable {
 public:
  // Limits of one table. Longer prefixes are fine (the candidate compare
  // continues past 16 bytes); the cap only rejects obvious mistakes.
  static constexpr int kMaxPrefixes = 16;
  static constexpr size_t kMaxPrefixLength = 65535;
  // What FindLongestPrefix() returns when no prefix matches.
  static constexpr int kNoMatch = -1;

  // Builds a table from 1 to 16 distinct, non-empty prefixes of at most
  // kMaxPrefixLength bytes each (any bytes, typically UTF-8). Slot i holds
  // prefixes[i]. Returns InvalidArgument when a rule is broken and
  // FailedPrecondition when options.kernel names a kernel this CPU lacks.
  static absl::StatusOr<StringTable> Build(
      absl::Span<const std::string_view> prefixes,
      StringTableOptions options = {});

  // Whether `kernel` can run on this CPU (kAuto and kScalar always can).
  static bool IsKernelSupported(StringTableKernel kernel);

  // Bit i is set iff prefix i is a prefix of `text` (byte-wise). Any `text`
  // is fine, including an empty one with a null data pointer.
  uint32_t MatchingSlots(std::string_view text) const {
    return layout_.match_all(layout_, text);
  }

  // The slot of the longest prefix of `text` in the table, or kNoMatch.
  int FindLongestPrefix(std::string_view text) const {
    const uint32_t matches = MatchingSlots(text);
    if (matches == 0) return kNoMatch;
    if ((matches & (matches - 1)) == 0) return std::countr_zero(matches);
    return LongestOf(matches);
  }

  int size() const { return static_cast<int>(layout_.slot_count); }
  std::string_view prefix(int slot) const {
    return {layout_.prefixes[slot], layout_.lengths[slot]};
  }
  // The kernel answering lookups (never kAuto).
  StringTableKernel kernel() const { return kernel_; }

 private:
  StringTable() = default;
  int LongestOf(uint32_t matches) const;

  internal::StringTableLayout layout_;
  // Holds the prefix bytes layout_.prefixes points into. Shared and never
  // written after Build(), so copies of the table stay valid.
  std::shared_ptr<const char[]> storage_;
  StringTableKernel kernel_ = StringTableKernel::kScalar;
};

}  // namespace tracestore

#endif  // TRACESTORE_STRING_TABLE_H_
