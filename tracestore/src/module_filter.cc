// PrefixSet, ModuleFilter and PathFilter: boundary-aware prefix matching over
// chained StringTables.

#include "tracestore/module_filter.h"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace tracestore {
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

// True when `name` starts with a kept prefix that ends at a separator of
// `name`, i.e. `name` is redundant next to that prefix.
bool CoveredByShorter(std::string_view name, char separator,
                      const std::vector<std::string_view>& sorted) {
  for (size_t end = 1; end < name.size(); ++end) {
    if (name[end] == separator &&
        std::binary_search(sorted.begin(), sorted.end(), name.substr(0, end))) {
      return true;
    }
  }
  return false;
}

absl::Status WithList(const absl::Status& status, std::string_view list) {
  return absl::Status(status.code(),
                      absl::StrCat(absl::string_view(list.data(), list.size()),
                                   ": ", status.message()));
}

}  // namespace

PrefixSet::PrefixSet() = default;

absl::StatusOr<PrefixSet> PrefixSet::Build(
    absl::Span<const std::string_view> prefixes, char separator,
    StringTableOptions options) {
  if (!StringTable::IsKernelSupported(options.kernel)) {
    return absl::FailedPreconditionError(
        "the AVX2 StringTable kernel needs a CPU with AVX2");
  }
  // Normalise: a trailing separator means the same as none.
  std::vector<std::string_view> sorted;
  sorted.reserve(prefixes.size());
  for (std::string_view prefix : prefixes) {
    std::string_view stripped = prefix;
    while (!stripped.empty() && stripped.back() == separator) {
      stripped.remove_suffix(1);
    }
    if (stripped.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prefix ", Quote(prefix),
          " is empty or only separators; it would match everything"));
    }
    if (stripped.size() > StringTable::kMaxPrefixLength) {
      return absl::InvalidArgumentError(
          absl::StrCat("prefix ", Quote(prefix), " is longer than ",
                       StringTable::kMaxPrefixLength, " bytes"));
    }
    sorted.push_back(stripped);
  }
  // Byte-wise order (char_traits<char> compares as unsigned char), so each
  // first byte's prefixes are contiguous and neighbours share beginnings,
  // which keeps unrelated names out of each other's tables.
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

  std::vector<std::string_view> kept;
  kept.reserve(sorted.size());
  for (std::string_view name : sorted) {
    if (!CoveredByShorter(name, separator, sorted)) kept.push_back(name);
  }

  PrefixSet set;
  set.separator_ = separator;
  set.prefix_count_ = kept.size();
  size_t group_begin = 0;
  for (int byte = 0; byte < 256; ++byte) {
    set.first_table_[byte] = static_cast<uint32_t>(set.tables_.size());
    size_t group_end = group_begin;
    while (group_end < kept.size() &&
           static_cast<uint8_t>(kept[group_end][0]) == byte) {
      ++group_end;
    }
    for (size_t chunk = group_begin; chunk < group_end;
         chunk += StringTable::kMaxPrefixes) {
      const size_t chunk_size =
          std::min<size_t>(group_end - chunk, StringTable::kMaxPrefixes);
      absl::StatusOr<StringTable> table = StringTable::Build(
          absl::MakeConstSpan(kept).subspan(chunk, chunk_size), options);
      if (!table.ok()) return table.status();
      set.tables_.push_back(*std::move(table));
    }
    group_begin = group_end;
  }
  set.first_table_[256] = static_cast<uint32_t>(set.tables_.size());
  return set;
}

bool PrefixSet::Matches(std::string_view name) const {
  if (name.empty()) return false;
  const uint8_t first_byte = static_cast<uint8_t>(name[0]);
  const uint32_t end = first_table_[first_byte + 1];
  for (uint32_t t = first_table_[first_byte]; t < end; ++t) {
    const StringTable& table = tables_[t];
    uint32_t matches = table.MatchingSlots(name);
    while (matches != 0) {
      const int slot = std::countr_zero(matches);
      matches &= matches - 1;
      // A match guarantees length <= name.size(), so name[length] is only
      // read when it exists.
      const size_t length = table.prefix(slot).size();
      if (length == name.size() || name[length] == separator_) return true;
    }
  }
  return false;
}

absl::StatusOr<ModuleFilter> ModuleFilter::Create(
    absl::Span<const std::string_view> include,
    absl::Span<const std::string_view> exclude, StringTableOptions options) {
  ModuleFilter filter;
  absl::StatusOr<PrefixSet> include_set =
      PrefixSet::Build(include, '.', options);
  if (!include_set.ok()) {
    return WithList(include_set.status(), "module include list");
  }
  absl::StatusOr<PrefixSet> exclude_set =
      PrefixSet::Build(exclude, '.', options);
  if (!exclude_set.ok()) {
    return WithList(exclude_set.status(), "module exclude list");
  }
  filter.include_ = *std::move(include_set);
  filter.exclude_ = *std::move(exclude_set);
  return filter;
}

PathFilter::PathFilter() {
  // Default-constructed sets use '.'; the path sets are empty anyway, but
  // keep separator() truthful.
  include_ = *PrefixSet::Build({}, '/');
  exclude_ = *PrefixSet::Build({}, '/');
}

absl::StatusOr<PathFilter> PathFilter::Create(
    absl::Span<const std::string_view> include_directories,
    absl::Span<const std::string_view> exclude_directories,
    StringTableOptions options) {
  PathFilter filter;
  absl::StatusOr<PrefixSet> include_set =
      PrefixSet::Build(include_directories, '/', options);
  if (!include_set.ok()) {
    return WithList(include_set.status(), "path include list");
  }
  absl::StatusOr<PrefixSet> exclude_set =
      PrefixSet::Build(exclude_directories, '/', options);
  if (!exclude_set.ok()) {
    return WithList(exclude_set.status(), "path exclude list");
  }
  filter.include_ = *std::move(include_set);
  filter.exclude_ = *std::move(exclude_set);
  return filter;
}

}  // namespace tracestore
