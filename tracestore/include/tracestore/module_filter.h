// Module and path filters: which code the recorder traces.
//
// The Python hook asks once per code object whether its module (and its
// file) is traced, then caches the answer with the code object. These
// classes answer that question exactly, for include and exclude lists of any
// size, on top of StringTable (string_table.h).
//
// Semantics (docs/MODULE_FILTER.md has the details):
//  - A prefix matches at a separator boundary: with separator '.', "numpy"
//    matches "numpy" and "numpy.linalg" but never "numpyx". With '/',
//    "/usr/lib/python3.12" matches that directory and every file below it,
//    but not "/usr/lib/python3.12-dev/x.py". Matching is byte-wise and
//    case-sensitive; callers pass normalised absolute paths with '/'.
//  - A trailing separator is allowed and changes nothing ("numpy." is
//    "numpy", "/usr/lib/" is "/usr/lib"). Duplicates are allowed.
//  - An empty prefix, or one made only of separators ("", ".", "/"), is an
//    error: it would silently match everything.
//  - ModuleFilter/PathFilter: a name is traced when it matches an include
//    prefix (or the include list is empty) and matches no exclude prefix.
//    Exclude wins: -i numpy -x numpy.testing traces numpy.linalg but not
//    numpy.testing.utils.
//
// Example:
//   absl::StatusOr<tracestore::ModuleFilter> filter =
//       tracestore::ModuleFilter::Create({"myapp", "pandas"},
//                                         {"pandas.io"});
//   filter->IsTraced("pandas.core.frame");  // true
//   filter->IsTraced("pandas.io.parsers");  // false: excluded
//   filter->IsTraced("pandasx");            // false: not a "pandas" module
//
//   // --exclude-stdlib: the interpreter's library directories.
//   absl::StatusOr<tracestore::PathFilter> paths =
//       tracestore::PathFilter::Create({}, {"/usr/lib/python3.12"});
//   paths->IsTraced("/usr/lib/python3.12/json/decoder.py");  // false
//
// Ownership, lifetime, thread safety: filters copy the prefixes they are
// given. A built filter is immutable; any number of threads may query it
// concurrently. Queries never allocate and never fail. Copies are cheap-ish
// (they copy the tables, sharing the prefix bytes) and independent.

#ifndef TRACESTORE_MODULE_FILTER_H_
#define TRACESTORE_MODULE_FILTER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "tracestore/string_table.h"

namespace tracestore {

// Any number of prefixes, matched at a separator boundary. Prefixes are
// grouped by their first byte and each group is split into StringTables of
// up to 16, so a lookup runs one candidate pass per table of its group:
// a handful of cycles for a few prefixes, still well under a microsecond
// for thousands. Prefixes covered by a shorter one ("numpy.linalg" next to
// "numpy") are dropped at build time since they cannot change an answer.
class PrefixSet {
 public:
  // The empty set: matches nothing.
  PrefixSet();

  // InvalidArgument for an empty (or separators-only) prefix or one longer
  // than StringTable::kMaxPrefixLength; FailedPrecondition if
  // options.kernel is not supported by this CPU.
  static absl::StatusOr<PrefixSet> Build(
      absl::Span<const std::string_view> prefixes, char separator,
      StringTableOptions options = {});

  // True when some prefix P satisfies: name == P, or name starts with P
  // followed by the separator.
  bool Matches(std::string_view name) const;

  bool empty() const { return prefix_count_ == 0; }
  // Prefixes kept after removing duplicates and covered ones.
  size_t size() const { return prefix_count_; }
  size_t table_count() const { return tables_.size(); }
  char separator() const { return separator_; }

 private:
  std::vector<StringTable> tables_;
  // The tables of the prefixes starting with byte b are
  // tables_[first_table_[b], first_table_[b + 1]).
  std::array<uint32_t, 257> first_table_{};
  size_t prefix_count_ = 0;
  char separator_ = '.';
};

// Decides whether a module (a dotted name such as "pkg.sub.mod") is traced.
class ModuleFilter {
 public:
  // Traces every module.
  ModuleFilter() = default;

  // `include` empty means every module not excluded. Errors as for
  // PrefixSet::Build(), naming the list the bad prefix was in.
  static absl::StatusOr<ModuleFilter> Create(
      absl::Span<const std::string_view> include,
      absl::Span<const std::string_view> exclude,
      StringTableOptions options = {});

  bool IsTraced(std::string_view module_name) const {
    return (include_.empty() || include_.Matches(module_name)) &&
           !exclude_.Matches(module_name);
  }

  const PrefixSet& include() const { return include_; }
  const PrefixSet& exclude() const { return exclude_; }

 private:
  PrefixSet include_;
  PrefixSet exclude_;
};

// The same decision for source file paths, with '/' as the boundary; used
// for --exclude-stdlib (exclude the interpreter's library directories).
class PathFilter {
 public:
  // Traces every path.
  PathFilter();

  static absl::StatusOr<PathFilter> Create(
      absl::Span<const std::string_view> include_directories,
      absl::Span<const std::string_view> exclude_directories,
      StringTableOptions options = {});

  bool IsTraced(std::string_view file_path) const {
    return (include_.empty() || include_.Matches(file_path)) &&
           !exclude_.Matches(file_path);
  }

  const PrefixSet& include() const { return include_; }
  const PrefixSet& exclude() const { return exclude_; }

 private:
  PrefixSet include_;
  PrefixSet exclude_;
};

}  // namespace tracestore

#endif  // TRACESTORE_MODULE_FILTER_H_
