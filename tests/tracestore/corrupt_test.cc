// Truncated and bit-flipped traces give clear errors, never a crash (this
// test also runs under ASan+UBSan), and the native CLI exits non-zero.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <random>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

constexpr uint64_t kEvents = 20000;  // 80 chunks of 4 KiB in events.0
constexpr uint32_t kFunctions = 50;
// Each function gets a code range (coderanges.store: 50 records, all in the
// tail).
constexpr uint64_t kFirstSlot = 0x7f1200000000;
constexpr uint32_t kSlotBytes = 32;

std::string WriteGoodTrace(const ScratchDir& dir, const std::string& name) {
  TraceOptions o;
  o.path = dir / name;
  o.event_chunk_shift = 12;
  o.metadata_chunk_shift = 12;
  o.properties = {{"command_line", "x.py"}};
  auto w = TraceWriter::Create(o);
  EXPECT_TRUE(w.ok());
  for (uint32_t i = 0; i < kFunctions; ++i) {
    const uint32_t f =
        (*w)->AddFunction({"mod", absl::StrCat("function_", i), "mod.py", i});
    (*w)->AddCodeRange(f, kFirstSlot + uint64_t{i} * kSlotBytes, kSlotBytes);
  }
  EventWriter* e = (*w)->StartThread(1, "main");
  for (uint64_t i = 0; i < kEvents; ++i) {
    const auto r = testing::PatternEvent(i, kFunctions);
    e->AppendAt(format::EventTicks(r), format::GetEventKind(r), r.function,
                r.value);
  }
  (*w)->AddMark(0, "m", format::MarkKind::kPoint);
  EXPECT_TRUE((*w)->Close().ok());
  return o.path;
}

// Opens, verifies, and reads every record and string: what a tool does.
// Returns the verify report (or the open error as a one-error report).
VerifyReport ReadEverything(const std::string& path) {
  auto trace = TraceReader::Open(path);
  if (trace.ok()) {
    const TraceReader& t = **trace;
    uint64_t sink = 0;
    for (const auto& f : t.functions())
      sink += t.String(f.qualname).size() + t.String(f.module).size();
    for (uint32_t i = 0; i < t.threads().size(); ++i)
      for (const auto& e : t.events(i)) sink += e.function;
    for (const auto& m : t.marks()) sink += t.String(m.name).size();
    for (const auto& r : t.code_ranges()) sink += r.begin + r.function;
    (void)t.ToNs(t.DurationTicks());
    ::testing::Test::RecordProperty("sink", static_cast<int>(sink & 1));
  }
  auto report = VerifyTrace(path);
  if (!report.ok()) {
    VerifyReport r;
    r.errors.push_back(std::string(report.status().message()));
    return r;
  }
  return *report;
}

int RunCli(const std::string& args) {
  const std::string cmd =
      absl::StrCat(TRACESTORE_CLI, " ", args, " >/dev/null 2>&1");
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// What the CLI prints on stdout and stderr.
std::string CliOutput(const std::string& args) {
  const std::string cmd = absl::StrCat(TRACESTORE_CLI, " ", args, " 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;)
    out.append(buf, n);
  ::pclose(p);
  return out;
}

TEST(Corrupt, GoodTraceIsSound) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  EXPECT_TRUE(ReadEverything(path).ok());
  EXPECT_EQ(RunCli("verify " + path), 0);
  EXPECT_EQ(RunCli("info " + path), 0);
  EXPECT_THAT(CliOutput("info " + path),
              HasSubstr(absl::StrCat("code ranges  ", kFunctions, "\n")));
}

TEST(Corrupt, TraceWithoutCodeRangesIsSound) {
  ScratchDir dir;
  TraceOptions o;
  o.path = dir / "plain.trace";
  auto w = TraceWriter::Create(o);
  ASSERT_TRUE(w.ok());
  (*w)->AddFunction({"mod", "f", "mod.py", 1});
  (*w)->StartThread(1, "main")->Append(format::EventKind::kCall, 1, 0);
  ASSERT_TRUE((*w)->Close().ok());
  auto t = TraceReader::Open(o.path);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*t)->problems().empty());
  EXPECT_TRUE(ReadEverything(o.path).ok());
  EXPECT_EQ(RunCli("verify " + o.path), 0);
  const std::string info = CliOutput("info " + o.path);
  EXPECT_THAT(info, HasSubstr("functions    1\n"));
  EXPECT_THAT(info, ::testing::Not(HasSubstr("code ranges")));
  EXPECT_THAT(info, ::testing::Not(HasSubstr("problem")));
}

TEST(Corrupt, TruncatedCodeRangesKeepTheRest) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  const std::string ranges = path + "/" + kCodeRangesFile;
  ASSERT_EQ(::truncate(ranges.c_str(), format::kStoreHeaderBytes + 20 * 16 + 5),
            0);
  auto t = TraceReader::Open(path);
  ASSERT_TRUE(t.ok()) << t.status();
  // The ranges before the cut are there; everything else is whole.
  ASSERT_EQ((*t)->code_ranges().size(), 20u);
  for (uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ((*t)->code_ranges()[i].function, i + 1);
    EXPECT_EQ((*t)->code_ranges()[i].begin, kFirstSlot + i * kSlotBytes);
  }
  EXPECT_EQ((*t)->functions().size(), kFunctions);
  EXPECT_EQ((*t)->String((*t)->functions()[49].qualname), "function_49");
  ASSERT_EQ((*t)->events(0).size(), kEvents);
  EXPECT_TRUE(testing::MatchesPattern((*t)->events(0)[kEvents - 1], kEvents - 1,
                                      kFunctions));
  EXPECT_EQ((*t)->marks().size(), 1u);
  ASSERT_EQ((*t)->problems().size(), 1u);
  EXPECT_THAT((*t)->problems()[0], HasSubstr("coderanges.store: truncated"));
  auto report = ReadEverything(path);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.errors[0], HasSubstr("coderanges.store"));
  EXPECT_EQ(report.events, kEvents);
  EXPECT_EQ(RunCli("verify " + path), 1);
  EXPECT_THAT(CliOutput("verify " + path), HasSubstr("NOT sound"));
  // info still shows what is there, and says the trace is damaged.
  EXPECT_EQ(RunCli("info " + path), 3);
  EXPECT_THAT(CliOutput("info " + path), HasSubstr("code ranges  20\n"));
}

TEST(Corrupt, DamagedCodeRangesStoreIsLeftOut) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  testing::FlipBit(path + "/" + kCodeRangesFile, 2, 1);  // the magic
  auto t = TraceReader::Open(path);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_TRUE((*t)->code_ranges().empty());
  EXPECT_EQ((*t)->functions().size(), kFunctions);
  EXPECT_EQ((*t)->events(0).size(), kEvents);
  ASSERT_EQ((*t)->problems().size(), 1u);
  EXPECT_THAT((*t)->problems()[0],
              HasSubstr("coderanges.store: not a tracestore store"));
  EXPECT_FALSE(ReadEverything(path).ok());
  EXPECT_EQ(RunCli("verify " + path), 1);
  const std::string info = CliOutput("info " + path);
  EXPECT_THAT(info, HasSubstr("problem"));
  EXPECT_THAT(info, ::testing::Not(HasSubstr("code ranges  ")));
}

TEST(Corrupt, CodeRangeCrossReferences) {
  ScratchDir dir;
  {
    // A flipped bit in a range: its checksum fails, and the function id it
    // now names does not exist.
    const std::string path = WriteGoodTrace(dir, "flip.trace");
    testing::FlipBit(path + "/" + kCodeRangesFile,
                     format::kStoreHeaderBytes + 7 * 16 + 15, 7);
    auto report = ReadEverything(path);
    ASSERT_FALSE(report.ok());
    std::string all;
    for (const auto& e : report.errors) all += e + "\n";
    EXPECT_THAT(all, HasSubstr("checksum mismatch in the last chunk"));
    EXPECT_THAT(all, HasSubstr("code range 7 names an unknown function"));
    EXPECT_EQ(RunCli("verify " + path), 1);
  }
  {
    // Overlapping ranges (the writer does not check) and one that runs past
    // the end of the address space: sound checksums, unsound contents.
    TraceOptions o;
    o.path = dir / "overlap.trace";
    auto w = TraceWriter::Create(o);
    ASSERT_TRUE(w.ok());
    const uint32_t a = (*w)->AddFunction({"m", "a", "m.py", 1});
    const uint32_t b = (*w)->AddFunction({"m", "b", "m.py", 2});
    (*w)->AddCodeRange(a, 0x1000, 0x100);
    (*w)->AddCodeRange(b, 0x2000, 0x100);
    (*w)->AddCodeRange(b, 0x10f0, 0x20);  // overlaps a's
    (*w)->AddCodeRange(a, 0x3000, 0);     // empty: overlaps nothing
    (*w)->AddCodeRange(a, UINT64_MAX - 8, 16);
    ASSERT_TRUE((*w)->Close().ok());
    auto report = VerifyTrace(o.path);
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->code_ranges, 5u);
    EXPECT_THAT(report->errors, ::testing::UnorderedElementsAre(
                                    HasSubstr("code range 4 runs past the end"),
                                    HasSubstr("code ranges 0 and 2 overlap")));
    EXPECT_EQ(RunCli("verify " + o.path), 1);
  }
}

TEST(Corrupt, NotATrace) {
  ScratchDir dir;
  auto missing = TraceReader::Open(dir / "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("nope"));

  auto empty = TraceReader::Open(dir.path());
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(std::string(empty.status().message()),
              HasSubstr("is not a trace"));

  testing::WriteFile(dir / "file", "hello");
  auto file = TraceReader::Open(dir / "file");
  ASSERT_FALSE(file.ok());
  EXPECT_THAT(std::string(file.status().message()), HasSubstr("not a trace"));

  EXPECT_EQ(RunCli("verify " + dir / "nope"), 2);
  EXPECT_EQ(RunCli("verify"), 2);
  EXPECT_EQ(RunCli("frobnicate x"), 2);
}

TEST(Corrupt, TruncatedTraceHeader) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  const std::string header = path + "/" + kTraceHeaderFile;
  ASSERT_EQ(::truncate(header.c_str(), 100), 0);
  auto t = TraceReader::Open(path);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(std::string(t.status().message()), HasSubstr("truncated"));
  EXPECT_EQ(RunCli("verify " + path), 2);
}

TEST(Corrupt, TruncatedEventStoreKeepsThePrefix) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  const std::string events = path + "/" + EventsFileName(0);
  // Cut mid-record, in the middle of the trace.
  const uint64_t keep = format::kStoreHeaderBytes + 12345 * 16 + 7;
  ASSERT_EQ(::truncate(events.c_str(), keep), 0);
  auto t = TraceReader::Open(path);
  ASSERT_TRUE(t.ok()) << t.status();
  auto e = (*t)->events(0);
  ASSERT_EQ(e.size(), 12345u);
  for (uint64_t i = 0; i < e.size(); ++i)
    ASSERT_TRUE(testing::MatchesPattern(e[i], i, kFunctions));
  ASSERT_FALSE((*t)->problems().empty());
  EXPECT_THAT((*t)->problems()[0], HasSubstr("truncated"));
  EXPECT_FALSE(ReadEverything(path).ok());
  EXPECT_EQ(RunCli("verify " + path), 1);
  // info still shows what is there, and says the trace is damaged.
  EXPECT_EQ(RunCli("info " + path), 3);
}

TEST(Corrupt, StoreShorterThanItsHeaderIsLeftOut) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  ASSERT_EQ(::truncate((path + "/" + kFunctionsFile).c_str(), 1000), 0);
  auto t = TraceReader::Open(path);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE((*t)->functions().empty());
  EXPECT_EQ((*t)->events(0).size(), kEvents);
  ASSERT_FALSE((*t)->problems().empty());
  EXPECT_THAT((*t)->problems()[0], HasSubstr("shorter than"));
  EXPECT_FALSE(ReadEverything(path).ok());
}

TEST(Corrupt, MissingStore) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  ASSERT_EQ(::unlink((path + "/" + EventsFileName(0)).c_str()), 0);
  auto report = ReadEverything(path);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.errors[0], HasSubstr("events.0.store"));
}

TEST(Corrupt, FlippedDataBitFailsItsChecksum) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  const std::string events = path + "/" + EventsFileName(0);
  // A bit in chunk 3 (sealed), and one in the tail.
  testing::FlipBit(events, format::kStoreHeaderBytes + 3 * 4096 + 100, 2);
  auto report = ReadEverything(path);
  ASSERT_FALSE(report.ok());
  EXPECT_THAT(report.errors[0], HasSubstr("checksum mismatch in chunk 3"));
  EXPECT_EQ(RunCli("verify " + path), 1);

  const std::string path2 = WriteGoodTrace(dir, "t2.trace");
  const std::string events2 = path2 + "/" + EventsFileName(0);
  // Inside the last record (the file may keep space allocated ahead).
  testing::FlipBit(
      events2, format::kStoreHeaderBytes + kEvents * sizeof(format::EventRecord) - 5,
      0);
  auto report2 = ReadEverything(path2);
  ASSERT_FALSE(report2.ok());
  EXPECT_THAT(report2.errors[0], HasSubstr("last chunk"));
}

TEST(Corrupt, FlippedHeaderFields) {
  ScratchDir dir;
  struct Case {
    const char* file;
    uint64_t byte;
    const char* expect;
  } cases[] = {
      {kTraceHeaderFile, 0, "bad magic"},
      {kTraceHeaderFile, 8, "format version"},
      {kTraceHeaderFile, 20, "clock"},
      {kTraceHeaderFile, 89, "properties"},
      {kFunctionsFile, 1, "bad magic"},
      {kFunctionsFile, 12, "store kind"},
      {kFunctionsFile, 16, "record size"},
      {kFunctionsFile, 20, "chunk size"},
      {kCodeRangesFile, 1, "bad magic"},
      {kCodeRangesFile, 12, "store kind"},
      {kCodeRangesFile, 16, "record size"},
      {"events.0.store", 71, "truncated"},        // committed, huge
      {"events.0.store", 130, "sealed chunks"},   // sealed_chunks, huge
      {kStringsFile, format::kStoreHeaderBytes + 3 * 16 + 12, "hash"},
      {kStringsFile, format::kStoreHeaderBytes + 16 + 6, "string"},
  };
  int n = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.file, " byte ", c.byte));
    const std::string path = WriteGoodTrace(dir, absl::StrCat("h", n++));
    testing::FlipBit(path + "/" + c.file, c.byte, 6);
    auto report = ReadEverything(path);
    ASSERT_FALSE(report.ok());
    bool found = false;
    for (const auto& e : report.errors)
      found |= e.find(c.expect) != std::string::npos;
    EXPECT_TRUE(found) << report.errors[0];
    EXPECT_NE(RunCli("verify " + path), 0);
  }
}

TEST(Corrupt, RandomBitFlipsNeverCrash) {
  ScratchDir dir;
  const std::string good = WriteGoodTrace(dir, "good.trace");
  const char* files[] = {kTraceHeaderFile, kFunctionsFile, kStringsFile,
                         kStringBytesFile, kThreadsFile,   kMarksFile,
                         "events.0.store", kCodeRangesFile};
  std::mt19937 rng(12345);
  int detected = 0;
  constexpr int kFlips = 300;
  for (int i = 0; i < kFlips; ++i) {
    const std::string path = dir / "flip.trace";
    std::system(absl::StrCat("rm -rf ", path, " && cp -r ", good, " ", path)
                    .c_str());
    const std::string file = path + "/" + files[rng() % std::size(files)];
    const uint64_t size = testing::FileSize(file);
    // Half the flips in the first 4 KiB (headers), half anywhere.
    const uint64_t byte = (i % 2 ? rng() % std::min<uint64_t>(size, 4096)
                                 : rng() % size);
    testing::FlipBit(file, byte, static_cast<int>(rng() % 8));
    detected += !ReadEverything(path).ok();
  }
  // Reserved fields and padding must be zero, so nearly every flip shows;
  // the few that do not land in fields any value of which is valid (a
  // thread id, a counter).
  std::printf("%d of %d random bit flips detected\n", detected, kFlips);
  EXPECT_GE(detected, kFlips * 9 / 10);
}

// Many errors of one kind (every string of a store whose bytes were cut
// short) are one line of `verify`: the count and the first few.
TEST(Corrupt, VerifySummarisesEachKindOfError) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  const std::string bytes = path + "/" + kStringBytesFile;
  ASSERT_EQ(::truncate(bytes.c_str(), format::kStoreHeaderBytes), 0);
  auto report = ReadEverything(path);
  size_t past = 0;
  for (const auto& e : report.errors)
    past += e.find("points past the string bytes") != std::string::npos;
  ASSERT_GT(past, 10u);
  const std::string out = CliOutput("verify " + path);
  EXPECT_THAT(out, HasSubstr(absl::StrCat(
                       "error: ", past, " like: ", path,
                       ": string 1 points past the string bytes; ")));
  EXPECT_THAT(out, HasSubstr(absl::StrCat(" (and ", past - 3, " more)\n")));
  size_t lines = 0, mentions = 0;
  for (size_t at = 0; (at = out.find('\n', at)) != std::string::npos; ++at)
    ++lines;
  for (size_t at = 0; (at = out.find("points past", at)) != std::string::npos;
       ++at)
    ++mentions;
  EXPECT_EQ(mentions, 3u) << out;
  EXPECT_LT(lines, 10u) << out;
  EXPECT_EQ(RunCli("verify " + path), 1);
}

}  // namespace
}  // namespace tracestore
