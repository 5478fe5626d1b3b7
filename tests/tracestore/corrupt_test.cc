// Truncated and bit-flipped traces give clear errors, never a crash (this
// test also runs under ASan+UBSan), and the native CLI exits non-zero.

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
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

std::string WriteGoodTrace(const ScratchDir& dir, const std::string& name) {
  TraceOptions o;
  o.path = dir / name;
  o.event_chunk_shift = 12;
  o.metadata_chunk_shift = 12;
  o.properties = {{"command_line", "x.py"}};
  auto w = TraceWriter::Create(o);
  EXPECT_TRUE(w.ok());
  for (uint32_t i = 0; i < kFunctions; ++i)
    (*w)->AddFunction({"mod", absl::StrCat("function_", i), "mod.py", i});
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

TEST(Corrupt, GoodTraceIsSound) {
  ScratchDir dir;
  const std::string path = WriteGoodTrace(dir, "t.trace");
  EXPECT_TRUE(ReadEverything(path).ok());
  EXPECT_EQ(RunCli("verify " + path), 0);
  EXPECT_EQ(RunCli("info " + path), 0);
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
  EXPECT_EQ(RunCli("info " + path), 0);  // info still shows what is there
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
  testing::FlipBit(events2, testing::FileSize(events2) - 5, 0);
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
                         kStringBytesFile, kThreadsFile, kMarksFile,
                         "events.0.store"};
  std::mt19937 rng(12345);
  int detected = 0;
  constexpr int kFlips = 300;
  for (int i = 0; i < kFlips; ++i) {
    const std::string path = dir / "flip.trace";
    std::system(absl::StrCat("rm -rf ", path, " && cp -r ", good, " ", path)
                    .c_str());
    const std::string file = path + "/" + files[rng() % 7];
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

}  // namespace
}  // namespace tracestore
