// Tests of StringTable: every kernel must agree with a naive reference, on a
// million random (table, string) pairs and on the edge cases that matter for
// a SIMD kernel (lengths around 16 and 32, long prefixes, strings ending at
// an unmapped page, non-ASCII bytes).

#include "tracestore/string_table.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace tracestore {
namespace {

uint32_t NaiveMatchingSlots(const std::vector<std::string>& prefixes,
                            std::string_view text) {
  uint32_t matches = 0;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (text.starts_with(prefixes[i])) matches |= 1u << i;
  }
  return matches;
}

int NaiveLongest(const std::vector<std::string>& prefixes,
                 std::string_view text) {
  int longest = StringTable::kNoMatch;
  for (size_t i = 0; i < prefixes.size(); ++i) {
    if (text.starts_with(prefixes[i]) &&
        (longest == StringTable::kNoMatch ||
         prefixes[i].size() > prefixes[longest].size())) {
      longest = static_cast<int>(i);
    }
  }
  return longest;
}

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

std::vector<StringTable> BuildAll(const std::vector<std::string>& prefixes) {
  std::vector<StringTable> tables;
  for (StringTableKernel kernel : SupportedKernels()) {
    absl::StatusOr<StringTable> table =
        StringTable::Build(Views(prefixes), {.kernel = kernel});
    EXPECT_TRUE(table.ok()) << table.status();
    if (!table.ok()) continue;
    EXPECT_EQ(table->kernel(), kernel);
    tables.push_back(*std::move(table));
  }
  return tables;
}

// Two pages; the second is PROT_NONE, so touching any byte past the first
// page faults. AtEnd() places a string so that it ends exactly at the guard.
class GuardedPage {
 public:
  GuardedPage() {
    page_size_ = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    void* mapping = mmap(nullptr, 2 * page_size_, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    EXPECT_NE(mapping, MAP_FAILED);
    base_ = static_cast<char*>(mapping);
    EXPECT_EQ(mprotect(base_ + page_size_, page_size_, PROT_NONE), 0);
  }
  ~GuardedPage() { munmap(base_, 2 * page_size_); }
  GuardedPage(const GuardedPage&) = delete;
  GuardedPage& operator=(const GuardedPage&) = delete;

  std::string_view AtEnd(std::string_view text) {
    char* start = base_ + page_size_ - text.size();
    std::memcpy(start, text.data(), text.size());
    return {start, text.size()};
  }
  size_t page_size() const { return page_size_; }

 private:
  char* base_ = nullptr;
  size_t page_size_ = 0;
};

void ExpectAllAgree(const std::vector<StringTable>& tables,
                    const std::vector<std::string>& prefixes,
                    std::string_view text) {
  const uint32_t expected = NaiveMatchingSlots(prefixes, text);
  const int expected_longest = NaiveLongest(prefixes, text);
  for (const StringTable& table : tables) {
    ASSERT_EQ(table.MatchingSlots(text), expected)
        << "kernel " << static_cast<int>(table.kernel()) << " text \"" << text
        << "\"";
    ASSERT_EQ(table.FindLongestPrefix(text), expected_longest);
  }
}

TEST(StringTableTest, FindsTheLongestPrefix) {
  for (StringTableKernel kernel : SupportedKernels()) {
    absl::StatusOr<StringTable> table = StringTable::Build(
        {"numpy", "pandas", "myapp", "numpy.linalg"}, {.kernel = kernel});
    ASSERT_TRUE(table.ok()) << table.status();
    EXPECT_EQ(table->size(), 4);
    EXPECT_EQ(table->FindLongestPrefix("pandas.core.frame"), 1);
    EXPECT_EQ(table->FindLongestPrefix("numpy"), 0);
    EXPECT_EQ(table->FindLongestPrefix("numpy.linalg.linalg"), 3);
    EXPECT_EQ(table->MatchingSlots("numpy.linalg.linalg"), 0b1001u);
    EXPECT_EQ(table->FindLongestPrefix("numpyx"), 0);  // raw prefixes
    EXPECT_EQ(table->FindLongestPrefix("nump"), StringTable::kNoMatch);
    EXPECT_EQ(table->FindLongestPrefix("scipy"), StringTable::kNoMatch);
    EXPECT_EQ(table->prefix(2), "myapp");
  }
}

TEST(StringTableTest, AutoPicksAvx2WhenTheCpuHasIt) {
  absl::StatusOr<StringTable> table = StringTable::Build({"a"});
  ASSERT_TRUE(table.ok());
  EXPECT_EQ(table->kernel(),
            StringTable::IsKernelSupported(StringTableKernel::kAvx2)
                ? StringTableKernel::kAvx2
                : StringTableKernel::kScalar);
}

TEST(StringTableTest, RejectsBadPrefixLists) {
  EXPECT_EQ(StringTable::Build({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StringTable::Build({"a", ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StringTable::Build({"a", "b", "a"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  std::vector<std::string> seventeen;
  for (int i = 0; i < 17; ++i) seventeen.push_back(std::to_string(i));
  EXPECT_EQ(StringTable::Build(Views(seventeen)).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::string too_long(StringTable::kMaxPrefixLength + 1, 'x');
  absl::Status status = StringTable::Build({too_long}).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("longer than"), std::string_view::npos);
  const std::string longest(StringTable::kMaxPrefixLength, 'x');
  EXPECT_TRUE(StringTable::Build({longest}).ok());
}

TEST(StringTableTest, EmptyStringMatchesNothing) {
  std::vector<std::string> prefixes = {"a", "b"};
  for (const StringTable& table : BuildAll(prefixes)) {
    EXPECT_EQ(table.MatchingSlots(""), 0u);
    EXPECT_EQ(table.MatchingSlots(std::string_view()), 0u);  // null data
    EXPECT_EQ(table.FindLongestPrefix(std::string_view()),
              StringTable::kNoMatch);
  }
}

// Short strings in heap blocks of exactly their size: under AddressSanitizer
// this checks that the deliberate 16-byte over-read (which cannot fault) is
// kept out of ASan's view rather than reported.
TEST(StringTableTest, ShortStringsInExactSizeHeapBlocks) {
  std::vector<std::string> prefixes = {"a", "ab", "xyz", "abcdefghijklmnop"};
  std::vector<StringTable> tables = BuildAll(prefixes);
  const std::string source = "abcdefghijklmnopq";
  for (size_t length = 1; length <= source.size(); ++length) {
    std::unique_ptr<char[]> block(new char[length]);
    std::memcpy(block.get(), source.data(), length);
    ExpectAllAgree(tables, prefixes, std::string_view(block.get(), length));
  }
}

// Prefix lengths around the 16-byte head, the 32-byte chunks and the 255
// clamp of the length vector; each is checked with the full prefix, one
// byte less, a different last byte and a different byte in each region.
TEST(StringTableTest, LongPrefixesAreComparedInFull) {
  for (size_t length :
       {1,  2,   15,  16,  17,  31,  32,  33,  47,  48,   63,  64,
        65, 127, 128, 200, 254, 255, 256, 257, 300, 1000, 4096}) {
    std::string prefix;
    for (size_t i = 0; i < length; ++i) {
      prefix.push_back(static_cast<char>('a' + (i * 7) % 26));
    }
    // A sibling that shares all but the last byte, and a short one.
    std::string sibling = prefix;
    sibling.back() = '#';
    std::vector<std::string> prefixes = {prefix, sibling, "zz"};
    if (length == 1) prefixes = {prefix, sibling};
    std::vector<StringTable> tables = BuildAll(prefixes);
    std::vector<std::string> texts = {prefix, prefix + "tail",
                                      prefix.substr(0, length - 1), sibling,
                                      sibling + std::string(300, 'q')};
    for (size_t position : {size_t{0}, size_t{15}, size_t{16}, size_t{31},
                            size_t{32}, length / 2, length - 1}) {
      if (position >= length) continue;
      std::string changed = prefix + "xyz";
      changed[position] = '!';
      texts.push_back(changed);
    }
    GuardedPage guarded;
    for (const std::string& text : texts) {
      SCOPED_TRACE(testing::Message() << "length " << length);
      ExpectAllAgree(tables, prefixes, text);
      if (text.size() <= guarded.page_size()) {
        ExpectAllAgree(tables, prefixes, guarded.AtEnd(text));
      }
    }
    for (const StringTable& table : tables) {
      EXPECT_EQ(table.FindLongestPrefix(prefix + ".x"), 0);
    }
  }
}

// Strings that end exactly where a PROT_NONE page begins: a kernel that
// loads 16 bytes from a short string there would crash the test.
TEST(StringTableTest, StringsEndingAtAGuardPageAreSafe) {
  GuardedPage guarded;
  std::vector<std::string> prefixes = {
      "a", "ab", "abc", "q", "0123456789abcdef", "0123456789abcdefg", "x.y.z"};
  std::vector<StringTable> tables = BuildAll(prefixes);
  const std::string source = "0123456789abcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t length = 0; length <= source.size(); ++length) {
    ExpectAllAgree(tables, prefixes, guarded.AtEnd(source.substr(0, length)));
    ExpectAllAgree(tables, prefixes,
                   guarded.AtEnd(std::string("abcdefghijklmnop")
                                     .substr(0, std::min<size_t>(length, 16))));
    ExpectAllAgree(tables, prefixes, guarded.AtEnd(std::string(length, 'q')));
  }
  ASSERT_EQ(tables.back().FindLongestPrefix(guarded.AtEnd("ab")), 1);
  ASSERT_EQ(tables.back().FindLongestPrefix(guarded.AtEnd("x.y.z")), 6);
}

TEST(StringTableTest, NonAsciiUtf8) {
  std::vector<std::string> prefixes = {
      "café", "日本語", "ñ", "caf", "\xff\xfe", "modulé.sous_module"};
  std::vector<StringTable> tables = BuildAll(prefixes);
  for (std::string_view text :
       {"café.crème", "cafe", "caf\xc3", "日本語モジュール", "日本", "ñandú",
        "n", "\xff\xfe\x00", "\xff", "modulé.sous_module.x",
        "modulé.sous_modul", "\xc3\xb1"}) {
    ExpectAllAgree(tables, prefixes, text);
  }
  for (const StringTable& table : tables) {
    EXPECT_EQ(table.FindLongestPrefix("café.crème"), 0);
    EXPECT_EQ(table.FindLongestPrefix("日本語モジュール"), 1);
  }
}

// Zero bytes in the text must not match unused slots (vpshufb gives 0
// there); zero bytes in prefixes are ordinary bytes.
TEST(StringTableTest, ZeroBytesAndFullTable) {
  std::vector<std::string> prefixes;
  for (int i = 0; i < 16; ++i) {
    prefixes.push_back(std::string(1 + i % 4, static_cast<char>('A' + i)));
  }
  prefixes[15] = std::string("\0\0x", 3);
  std::vector<StringTable> tables = BuildAll(prefixes);
  ExpectAllAgree(tables, prefixes, std::string(300, '\0'));
  ExpectAllAgree(tables, prefixes, std::string("\0\0xy", 4));
  ExpectAllAgree(tables, prefixes, "PPPP");

  std::vector<std::string> one = {"k"};
  std::vector<StringTable> single = BuildAll(one);
  ExpectAllAgree(single, one, std::string(40, '\0'));
  ExpectAllAgree(single, one, std::string(3, '\x80'));
}

TEST(StringTableTest, CopiesOutliveTheOriginal) {
  std::vector<std::string> prefixes = {"alpha.beta.gamma.delta.epsilon", "b"};
  std::vector<StringTable> copies;
  {
    std::vector<StringTable> tables = BuildAll(prefixes);
    copies = tables;
  }
  for (const StringTable& table : copies) {
    EXPECT_EQ(table.FindLongestPrefix("alpha.beta.gamma.delta.epsilon.zeta"),
              0);
    EXPECT_EQ(table.prefix(0), prefixes[0]);
  }
}

TEST(StringTableTest, ConcurrentLookups) {
  std::vector<std::string> prefixes = {"numpy", "pandas", "myapp.core"};
  absl::StatusOr<StringTable> table = StringTable::Build(Views(prefixes));
  ASSERT_TRUE(table.ok());
  std::vector<std::thread> threads;
  std::vector<int> hits(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100000; ++i) {
        hits[t] +=
            table->FindLongestPrefix(i % 2 ? "pandas.io" : "os.path") == 1;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int count : hits) EXPECT_EQ(count, 50000);
}

// One million random (table, string) pairs. Small alphabets make prefixes
// share beginnings and make raw-prefix hits common; a quarter of the
// strings are placed at the end of a page followed by a PROT_NONE page.
TEST(StringTableTest, MillionRandomPairsAgreeWithNaiveReference) {
  std::mt19937_64 random(20240603);
  GuardedPage guarded;
  constexpr int kTables = 1000;
  constexpr int kStringsPerTable = 1000;
  const std::string alphabets[] = {"ab", "ab.", "abcdefghijklmnopqrstuvwxyz._",
                                   "ab\xc3\xa9\xe6\x97\xa5"};
  int64_t hits = 0;
  for (int t = 0; t < kTables; ++t) {
    const std::string& alphabet = alphabets[t % 4];
    auto random_byte = [&] {
      return t % 13 == 12 ? static_cast<char>(random() & 0xFF)
                          : alphabet[random() % alphabet.size()];
    };
    auto random_length = [&]() -> size_t {
      switch (random() % 8) {
        case 0:
          return 1 + random() % 3;
        case 1:
          return 14 + random() % 5;  // around 16
        case 2:
          return 30 + random() % 5;  // around 32
        case 3:
          return 100 + random() % 300;  // past the 255 clamp
        default:
          return 1 + random() % 12;
      }
    };
    const size_t count = 1 + random() % 16;
    std::vector<std::string> prefixes;
    while (prefixes.size() < count) {
      std::string prefix;
      if (!prefixes.empty() && random() % 3 == 0) {
        // Extend or cut an existing prefix: nested and sibling prefixes.
        prefix = prefixes[random() % prefixes.size()];
        prefix.resize(1 + random() % (prefix.size() + 4), 'a');
        if (random() % 2) prefix.back() = random_byte();
      } else {
        prefix.resize(random_length());
        for (char& c : prefix) c = random_byte();
      }
      if (std::find(prefixes.begin(), prefixes.end(), prefix) ==
          prefixes.end()) {
        prefixes.push_back(prefix);
      }
    }
    std::vector<StringTable> tables = BuildAll(prefixes);
    ASSERT_EQ(tables.size(), SupportedKernels().size());

    for (int s = 0; s < kStringsPerTable; ++s) {
      std::string text;
      if (random() % 2) {
        text = prefixes[random() % prefixes.size()];
        // Often cut or perturbed so hits and near misses both occur.
        switch (random() % 4) {
          case 0:
            text.resize(random() % (text.size() + 1));
            break;
          case 1:
            text[random() % text.size()] = random_byte();
            break;
          default:
            break;
        }
      }
      const size_t suffix = random() % 4 == 0 ? random() % 40 : 0;
      for (size_t i = 0; i < suffix; ++i) text.push_back(random_byte());
      std::string_view view = text;
      if (random() % 4 == 0) view = guarded.AtEnd(text);
      const uint32_t expected = NaiveMatchingSlots(prefixes, view);
      hits += expected != 0;
      for (const StringTable& table : tables) {
        const uint32_t got = table.MatchingSlots(view);
        if (got != expected) {
          FAIL() << "kernel " << static_cast<int>(table.kernel()) << " table "
                 << t << " got " << got << " expected " << expected;
        }
        ASSERT_EQ(table.FindLongestPrefix(view), NaiveLongest(prefixes, view));
      }
    }
  }
  // Both outcomes must be well represented for the test to mean anything.
  EXPECT_GT(hits, kTables * kStringsPerTable / 5);
  EXPECT_LT(hits, kTables * kStringsPerTable * 4 / 5);
}

}  // namespace
}  // namespace tracestore
