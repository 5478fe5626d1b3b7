// Tests of PrefixSet, ModuleFilter and PathFilter: boundary semantics,
// include/exclude rules, bad input, and 1,000-prefix filters checked against
// a naive reference with every StringTable kernel.

#include "tracestore/module_filter.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace tracestore {
namespace {

std::vector<StringTableKernel> SupportedKernels() {
  std::vector<StringTableKernel> kernels = {StringTableKernel::kScalar};
  if (StringTable::IsKernelSupported(StringTableKernel::kAvx2)) {
    kernels.push_back(StringTableKernel::kAvx2);
  }
  return kernels;
}

std::vector<std::string_view> Views(const std::vector<std::string>& strings) {
  return {strings.begin(), strings.end()};
}

// The specification, written as plainly as possible.
bool NaiveMatches(const std::vector<std::string>& prefixes, char separator,
                  std::string_view name) {
  for (std::string_view prefix : prefixes) {
    while (!prefix.empty() && prefix.back() == separator) {
      prefix.remove_suffix(1);
    }
    if (name == prefix) return true;
    if (name.size() > prefix.size() && name.starts_with(prefix) &&
        name[prefix.size()] == separator) {
      return true;
    }
  }
  return false;
}

ModuleFilter MakeModuleFilter(
    std::vector<std::string_view> include,
    std::vector<std::string_view> exclude,
    StringTableKernel kernel = StringTableKernel::kAuto) {
  absl::StatusOr<ModuleFilter> filter =
      ModuleFilter::Create(include, exclude, {.kernel = kernel});
  EXPECT_TRUE(filter.ok()) << filter.status();
  return filter.ok() ? *std::move(filter) : ModuleFilter();
}

TEST(ModuleFilterTest, MatchesAtDottedBoundaries) {
  for (StringTableKernel kernel : SupportedKernels()) {
    ModuleFilter filter = MakeModuleFilter({"numpy"}, {}, kernel);
    EXPECT_TRUE(filter.IsTraced("numpy"));
    EXPECT_TRUE(filter.IsTraced("numpy.linalg"));
    EXPECT_TRUE(filter.IsTraced("numpy.linalg.linalg"));
    EXPECT_FALSE(filter.IsTraced("numpyx"));
    EXPECT_FALSE(filter.IsTraced("numpy_financial.x"));
    EXPECT_FALSE(filter.IsTraced("nump"));
    EXPECT_FALSE(filter.IsTraced("scipy"));
    EXPECT_FALSE(filter.IsTraced(""));
    EXPECT_FALSE(filter.IsTraced("xnumpy"));
  }
}

// A raw match that fails the boundary must not hide another prefix of the
// same table that passes it ("numpyx" vs "numpy" for "numpyx.core").
TEST(ModuleFilterTest, ChecksEveryRawMatchForTheBoundary) {
  ModuleFilter filter = MakeModuleFilter({"numpy", "numpyx", "a.b", "a-b"}, {});
  EXPECT_TRUE(filter.IsTraced("numpyx.core"));
  EXPECT_TRUE(filter.IsTraced("numpy.core"));
  EXPECT_FALSE(filter.IsTraced("numpyxy"));
  EXPECT_TRUE(filter.IsTraced("a.b.c"));
  EXPECT_FALSE(filter.IsTraced("a.bc"));
  EXPECT_FALSE(filter.IsTraced("a"));
}

TEST(ModuleFilterTest, ExcludeWinsOverInclude) {
  ModuleFilter filter =
      MakeModuleFilter({"numpy", "myapp"}, {"numpy.testing", "myapp"});
  EXPECT_TRUE(filter.IsTraced("numpy.linalg"));
  EXPECT_FALSE(filter.IsTraced("numpy.testing"));
  EXPECT_FALSE(filter.IsTraced("numpy.testing.utils"));
  EXPECT_TRUE(filter.IsTraced("numpy.testingx"));
  EXPECT_FALSE(filter.IsTraced("myapp.main"));

  // An exclude broader than the include removes it entirely.
  ModuleFilter broad = MakeModuleFilter({"numpy.linalg"}, {"numpy"});
  EXPECT_FALSE(broad.IsTraced("numpy.linalg"));
}

TEST(ModuleFilterTest, EmptyIncludeMeansEverything) {
  ModuleFilter everything;
  EXPECT_TRUE(everything.IsTraced("anything.at.all"));
  EXPECT_TRUE(everything.IsTraced(""));
  ModuleFilter all_but_os = MakeModuleFilter({}, {"os", "importlib"});
  EXPECT_TRUE(all_but_os.IsTraced("json.decoder"));
  EXPECT_TRUE(all_but_os.IsTraced("osx"));
  EXPECT_FALSE(all_but_os.IsTraced("os.path"));
  EXPECT_FALSE(all_but_os.IsTraced("importlib._bootstrap"));
}

TEST(ModuleFilterTest, TrailingSeparatorsDuplicatesAndCoveredPrefixes) {
  ModuleFilter filter = MakeModuleFilter(
      {"pandas.", "pandas", "pandas.core", "pandas.core.frame", "zz"}, {});
  EXPECT_EQ(filter.include().size(), 2u);  // "pandas" and "zz"
  EXPECT_TRUE(filter.IsTraced("pandas"));
  EXPECT_TRUE(filter.IsTraced("pandas.io"));
  EXPECT_FALSE(filter.IsTraced("pandasx"));
  // "pandas.corex" is not covered by "pandas.core", but by "pandas".
  EXPECT_TRUE(filter.IsTraced("pandas.corex"));
}

TEST(ModuleFilterTest, RejectsPrefixesThatWouldMatchEverything) {
  for (std::string_view bad : {"", ".", "..."}) {
    absl::StatusOr<ModuleFilter> filter = ModuleFilter::Create({"ok", bad}, {});
    EXPECT_EQ(filter.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(filter.status().message().find("module include list"),
              std::string_view::npos)
        << filter.status();
  }
  absl::StatusOr<ModuleFilter> filter = ModuleFilter::Create({}, {""});
  EXPECT_NE(filter.status().message().find("module exclude list"),
            std::string_view::npos);
  absl::StatusOr<PathFilter> paths = PathFilter::Create({}, {"/"});
  EXPECT_EQ(paths.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string huge(StringTable::kMaxPrefixLength + 1, 'm');
  EXPECT_EQ(ModuleFilter::Create({huge}, {}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PathFilterTest, MatchesDirectoriesAtSlashBoundaries) {
  for (StringTableKernel kernel : SupportedKernels()) {
    absl::StatusOr<PathFilter> filter = PathFilter::Create(
        {},
        {"/usr/lib/python3.12", "/root/.pyenv/versions/3.12.1/lib/python3.12/"},
        {.kernel = kernel});
    ASSERT_TRUE(filter.ok()) << filter.status();
    EXPECT_FALSE(filter->IsTraced("/usr/lib/python3.12/json/decoder.py"));
    EXPECT_FALSE(filter->IsTraced("/usr/lib/python3.12"));
    EXPECT_TRUE(filter->IsTraced("/usr/lib/python3.12-dev/x.py"));
    EXPECT_TRUE(filter->IsTraced("/usr/lib/python3.1/x.py"));
    EXPECT_FALSE(
        filter->IsTraced("/root/.pyenv/versions/3.12.1/lib/python3.12/os.py"));
    EXPECT_TRUE(
        filter->IsTraced("/root/.pyenv/versions/3.12.1/lib/python3.123/os.py"));
    EXPECT_TRUE(filter->IsTraced("/home/me/app/main.py"));
    EXPECT_TRUE(filter->IsTraced(""));
    EXPECT_EQ(filter->exclude().separator(), '/');
  }
  absl::StatusOr<PathFilter> only_app =
      PathFilter::Create({"/home/me/app"}, {"/home/me/app/vendor"});
  ASSERT_TRUE(only_app.ok());
  EXPECT_TRUE(only_app->IsTraced("/home/me/app/main.py"));
  EXPECT_FALSE(only_app->IsTraced("/home/me/app/vendor/lib.py"));
  EXPECT_FALSE(only_app->IsTraced("/home/me/application.py"));
  EXPECT_TRUE(PathFilter().IsTraced("/anything"));
}

// Names ending at a PROT_NONE page: the boundary check must not read
// name[prefix length] when the prefix is the whole name.
TEST(ModuleFilterTest, NamesEndingAtAGuardPage) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void* mapping = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  char* base = static_cast<char*>(mapping);
  ASSERT_EQ(mprotect(base + page, page, PROT_NONE), 0);
  auto at_end = [&](std::string_view text) {
    std::memcpy(base + page - text.size(), text.data(), text.size());
    return std::string_view(base + page - text.size(), text.size());
  };
  for (StringTableKernel kernel : SupportedKernels()) {
    ModuleFilter filter =
        MakeModuleFilter({"numpy", "a", "averyveryverylongpackagename.sub"},
                         {"numpy.x"}, kernel);
    EXPECT_TRUE(filter.IsTraced(at_end("numpy")));
    EXPECT_TRUE(filter.IsTraced(at_end("a")));
    EXPECT_FALSE(filter.IsTraced(at_end("numpy.x")));
    EXPECT_FALSE(filter.IsTraced(at_end("numpyx")));
    EXPECT_TRUE(filter.IsTraced(at_end("averyveryverylongpackagename.sub")));
    EXPECT_FALSE(filter.IsTraced(at_end("averyveryverylongpackagename.su")));
    EXPECT_FALSE(filter.IsTraced(at_end("")));
  }
  munmap(base, 2 * page);
}

// Appends parts instead of using operator+ on literals, which trips a
// false -Wrestrict warning in GCC 12.
std::string Concat(std::string_view a, std::string_view b,
                   std::string_view c = "") {
  std::string joined;
  joined.append(a).append(b).append(c);
  return joined;
}

std::string RandomName(std::mt19937_64& random, char separator,
                       const std::string& letters) {
  std::string name;
  const int parts = 1 + random() % 3;
  for (int p = 0; p < parts; ++p) {
    if (p) name.push_back(separator);
    const int length = 1 + random() % 6;
    for (int i = 0; i < length; ++i) {
      name.push_back(letters[random() % letters.size()]);
    }
  }
  return name;
}

// 1,000 prefixes (the brief's "bad input" example) against the naive
// reference: once with varied first bytes, once all sharing one first byte
// so a single group chains 63 tables.
TEST(ModuleFilterTest, ThousandPrefixesAgreeWithNaiveReference) {
  std::mt19937_64 random(7);
  for (const std::string letters : {"abcdefghijklmnopqrstuvwxyz_", "ab"}) {
    for (bool same_first_byte : {false, true}) {
      std::vector<std::string> include;
      std::vector<std::string> exclude;
      for (int i = 0; i < 1000; ++i) {
        std::string name = RandomName(random, '.', letters);
        if (same_first_byte) name = Concat("m", name);
        include.push_back(name);
        if (i % 4 == 0) {
          exclude.push_back(
              Concat(name, ".", RandomName(random, '.', letters)));
        }
      }
      for (StringTableKernel kernel : SupportedKernels()) {
        absl::StatusOr<ModuleFilter> filter = ModuleFilter::Create(
            Views(include), Views(exclude), {.kernel = kernel});
        ASSERT_TRUE(filter.ok()) << filter.status();
        int traced = 0;
        for (int s = 0; s < 20000; ++s) {
          std::string name = s % 2 ? include[random() % include.size()]
                                   : RandomName(random, '.', letters);
          if (same_first_byte && s % 4 == 0) name = Concat("m", name);
          if (random() % 3 == 0) {
            name = Concat(name, ".", RandomName(random, '.', letters));
          }
          if (random() % 5 == 0) name.push_back(letters[0]);
          const bool expected = NaiveMatches(include, '.', name) &&
                                !NaiveMatches(exclude, '.', name);
          ASSERT_EQ(filter->IsTraced(name), expected) << name;
          traced += expected;
        }
        EXPECT_GT(traced, 1000);
        EXPECT_LT(traced, 19000);
      }
    }
  }
}

TEST(PrefixSetTest, RandomPathsAgreeWithNaiveReference) {
  std::mt19937_64 random(11);
  std::vector<std::string> directories;
  for (int i = 0; i < 300; ++i) {
    directories.push_back(Concat("/", RandomName(random, '/', "abc.-")));
  }
  for (StringTableKernel kernel : SupportedKernels()) {
    absl::StatusOr<PrefixSet> set =
        PrefixSet::Build(Views(directories), '/', {.kernel = kernel});
    ASSERT_TRUE(set.ok());
    for (int s = 0; s < 20000; ++s) {
      std::string path = s % 2 ? directories[random() % directories.size()]
                               : Concat("/", RandomName(random, '/', "abc.-"));
      if (random() % 2) {
        path =
            Concat(path, "/", Concat(RandomName(random, '/', "abc.-"), ".py"));
      }
      ASSERT_EQ(set->Matches(path), NaiveMatches(directories, '/', path))
          << path;
    }
  }
}

}  // namespace
}  // namespace tracestore
