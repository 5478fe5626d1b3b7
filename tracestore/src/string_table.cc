// StringTable: building the table, choosing the kernel, and the portable
// scalar kernel. The AVX2 kernel is in string_table_avx2.cc.

#include "tracestore/string_table.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "string_table_kernels.h"

namespace tracestore {
namespace internal {

bool CpuHasAvx2() {
#if defined(TRACESTORE_HAVE_AVX2_KERNEL)
  // libgcc's check covers both the cpuid bit and the OS enabling the YMM
  // state (OSXSAVE + XCR0), so a kernel that disabled AVX is respected.
  static const bool has_avx2 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return has_avx2;
#else
  return false;
#endif
}

uint32_t MatchAllScalar(const StringTableLayout& table, std::string_view text) {
  if (text.empty()) return 0;
  uint32_t candidates =
      table.slots_by_first_byte[static_cast<uint8_t>(text[0])];
  uint32_t matches = 0;
  while (candidates != 0) {
    const int slot = std::countr_zero(candidates);
    candidates &= candidates - 1;
    const uint32_t length = table.lengths[slot];
    if (length > text.size()) continue;
    if (static_cast<uint8_t>(text[table.unique_positions[slot]]) !=
        table.unique_bytes[slot]) {
      continue;
    }
    if (std::memcmp(text.data(), table.prefixes[slot], length) != 0) continue;
    matches |= 1u << slot;
  }
  return matches;
}

}  // namespace internal

namespace {

// Debian's Abseil has its own absl::string_view (not std::string_view).
std::string Quote(std::string_view prefix) {
  constexpr size_t kShown = 60;
  const size_t shown = std::min(prefix.size(), kShown);
  std::string quoted = absl::StrCat(
      "\"", absl::CHexEscape(absl::string_view(prefix.data(), shown)), "\"");
  if (prefix.size() > kShown) {
    absl::StrAppend(&quoted, "... (", prefix.size(), " bytes)");
  }
  return quoted;
}

// Picks the (position, byte) pair of each slot: a position in the slot's
// first min(length, 16) bytes whose byte as few other slots as possible have
// at the same position. With no sharing, a string can be a candidate of
// that slot only when it really has that byte there. Ties go to the later
// position: names that differ from a prefix usually differ late ("test" vs
// "tests"), not at the first byte.
void ChooseUniquePositions(absl::Span<const std::string_view> prefixes,
                           internal::StringTableLayout& layout) {
  const size_t count = prefixes.size();
  for (size_t slot = 0; slot < count; ++slot) {
    const std::string_view own = prefixes[slot];
    const size_t window = std::min<size_t>(own.size(), 16);
    size_t best_position = 0;
    size_t best_sharing = SIZE_MAX;
    for (size_t position = 0; position < window; ++position) {
      size_t sharing = 0;
      for (size_t other = 0; other < count; ++other) {
        if (other == slot) continue;
        const std::string_view theirs = prefixes[other];
        if (position < theirs.size() && theirs[position] == own[position]) {
          ++sharing;
        }
      }
      if (sharing <= best_sharing) {
        best_sharing = sharing;
        best_position = position;
      }
    }
    layout.unique_positions[slot] = static_cast<uint8_t>(best_position);
    layout.unique_bytes[slot] = static_cast<uint8_t>(own[best_position]);
  }
}

}  // namespace

bool StringTable::IsKernelSupported(StringTableKernel kernel) {
  switch (kernel) {
    case StringTableKernel::kAuto:
    case StringTableKernel::kScalar:
      return true;
    case StringTableKernel::kAvx2:
      return internal::CpuHasAvx2();
  }
  return false;
}

absl::StatusOr<StringTable> StringTable::Build(
    absl::Span<const std::string_view> prefixes, StringTableOptions options) {
  if (prefixes.empty() || prefixes.size() > kMaxPrefixes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a StringTable holds 1 to ", kMaxPrefixes,
                     " prefixes, got ", prefixes.size()));
  }
  size_t total_bytes = 0;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    const std::string_view prefix = prefixes[i];
    if (prefix.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix ", i, " is empty; it would match everything"));
    }
    if (prefix.size() > kMaxPrefixLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix ", i, " ", Quote(prefix), " is longer than ",
                       kMaxPrefixLength, " bytes"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (prefixes[j] == prefix) {
        return absl::InvalidArgumentError(absl::StrCat(
            "prefix ", Quote(prefix), " is given twice (", j, " and ", i, ")"));
      }
    }
    total_bytes += prefix.size();
  }

  StringTableKernel kernel = options.kernel;
  if (kernel == StringTableKernel::kAuto) {
    kernel = internal::CpuHasAvx2() ? StringTableKernel::kAvx2
                                    : StringTableKernel::kScalar;
  }
  if (!IsKernelSupported(kernel)) {
    return absl::FailedPreconditionError(
        "the AVX2 StringTable kernel needs a CPU with AVX2");
  }

  StringTable table;
  internal::StringTableLayout& layout = table.layout_;
  layout = internal::StringTableLayout{};
  // Unused slots: vpshufb turns position 0x80 into byte 0, never equal to 1.
  std::memset(layout.unique_positions, 0x80, sizeof(layout.unique_positions));
  std::memset(layout.unique_bytes, 1, sizeof(layout.unique_bytes));

  std::shared_ptr<char[]> storage(new char[std::max<size_t>(total_bytes, 1)]);
  char* next_byte = storage.get();
  for (size_t slot = 0; slot < prefixes.size(); ++slot) {
    const std::string_view prefix = prefixes[slot];
    std::memcpy(next_byte, prefix.data(), prefix.size());
    layout.prefixes[slot] = next_byte;
    next_byte += prefix.size();
    layout.lengths[slot] = static_cast<uint32_t>(prefix.size());
    layout.clamped_lengths[slot] =
        static_cast<uint8_t>(std::min<size_t>(prefix.size(), 255));
    std::memcpy(layout.heads[slot], prefix.data(),
                std::min<size_t>(prefix.size(), 16));
    layout.head_masks[slot] = static_cast<uint16_t>(
        prefix.size() >= 16 ? 0xFFFFu : (1u << prefix.size()) - 1);
    layout.slots_by_first_byte[static_cast<uint8_t>(prefix[0])] |=
        static_cast<uint16_t>(1u << slot);
  }
  ChooseUniquePositions(prefixes, layout);
  layout.slot_count = static_cast<uint32_t>(prefixes.size());

  switch (kernel) {
#if defined(TRACESTORE_HAVE_AVX2_KERNEL)
    case StringTableKernel::kAvx2:
      layout.match_all = &internal::MatchAllAvx2;
      break;
#endif
    default:
      kernel = StringTableKernel::kScalar;
      layout.match_all = &internal::MatchAllScalar;
      break;
  }
  table.kernel_ = kernel;
  table.storage_ = std::move(storage);
  return table;
}

int StringTable::LongestOf(uint32_t matches) const {
  int longest_slot = kNoMatch;
  uint32_t longest_length = 0;
  while (matches != 0) {
    const int slot = std::countr_zero(matches);
    matches &= matches - 1;
    if (layout_.lengths[slot] > longest_length) {
      longest_length = layout_.lengths[slot];
      longest_slot = slot;
    }
  }
  return longest_slot;
}

}  // namespace tracestore
