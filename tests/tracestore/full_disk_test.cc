// A full disk stops recording with one clear message; the program goes on;
// the trace up to that point stays valid. On a real tmpfs (when root can
// mount one) and through fault injection (always).

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fault_env.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

constexpr uint32_t kFunctions = 8;

// Records until the writer stops (or a bound), then closes; checks the
// message, the stop reason, and that what was kept is exact and verifies.
void RecordUntilFullAndCheck(TraceOptions options) {
  ::testing::internal::CaptureStderr();
  auto trace = TraceWriter::Create(options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  TraceWriter& w = **trace;
  for (uint32_t i = 0; i < kFunctions; ++i)
    w.AddFunction({"m", absl::StrCat("f", i), "m.py", i});
  w.AddCodeRange(1, 0x7f0000001000, 64);
  EventWriter* events = w.StartThread(1, "main");
  ASSERT_NE(events, nullptr);
  uint64_t appended = 0;
  constexpr uint64_t kBound = 20'000'000;  // 320 MB: far past any budget here
  for (; appended < kBound && !w.stopped(); ++appended) {
    const auto e = testing::PatternEvent(appended, kFunctions);
    events->AppendAt(format::EventTicks(e), format::GetEventKind(e),
                     e.function, e.value);
  }
  // The stop reaches each writer at its next chunk boundary: appends go on
  // into pages already provisioned, then are dropped, never a crash.
  for (const uint64_t end = appended + 100000; appended < end; ++appended) {
    const auto e = testing::PatternEvent(appended, kFunctions);
    events->AppendAt(format::EventTicks(e), format::GetEventKind(e),
                     e.function, e.value);
  }
  w.AddMark(0, "after-stop", format::MarkKind::kPoint);
  w.AddFunction({"m", "after", "m.py", 1});
  w.AddCodeRange(2, 0x7f0000001040, 64);
  EXPECT_TRUE(w.stopped()) << "the disk never filled";
  (void)w.Close();  // may report the full disk; must not crash
  trace->reset();
  const std::string err = ::testing::internal::GetCapturedStderr();

  // One clear message.
  EXPECT_NE(err.find("recording stopped"), std::string::npos) << err;
  EXPECT_NE(err.find("No space left on device"), std::string::npos) << err;
  size_t count = 0;
  for (size_t p = 0; (p = err.find("recording stopped", p)) != std::string::npos;
       ++p)
    ++count;
  EXPECT_EQ(count, 1u) << err;

  auto reader = TraceReader::Open(options.path, options.env);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->stop_reason(), format::StopReason::kDiskFull);
  auto kept = (*reader)->events(0);
  EXPECT_GT(kept.size(), 0u);
  EXPECT_LE(kept.size(), appended);
  for (uint64_t i = 0; i < kept.size(); ++i)
    ASSERT_TRUE(testing::MatchesPattern(kept[i], i, kFunctions)) << i;
  EXPECT_GT((*reader)->event_store(0)->dropped(), 0u);
  // The range recorded before the stop is kept.
  ASSERT_GE((*reader)->code_ranges().size(), 1u);
  EXPECT_EQ((*reader)->code_ranges()[0].function, 1u);
  EXPECT_EQ((*reader)->code_ranges()[0].begin, 0x7f0000001000u);
  auto report = VerifyTrace(options.path, options.env);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok()) << report->errors.front();
  std::printf("kept %zu of %llu events before the disk filled\n", kept.size(),
              static_cast<unsigned long long>(appended));
}

TEST(FullDisk, InjectedEnospcFromFallocate) {
  testing::ScratchDir dir;
  testing::FaultInjectionEnv env(Env::Default(), 6 << 20,
                                 testing::FaultInjectionEnv::Fault::kAllocate);
  TraceOptions options;
  options.path = dir / "t.trace";
  options.env = &env;
  options.event_chunk_shift = 18;
  RecordUntilFullAndCheck(options);
}

TEST(FullDisk, InjectedUnbackablePages) {
  testing::ScratchDir dir;
  testing::FaultInjectionEnv env(Env::Default(), 6 << 20,
                                 testing::FaultInjectionEnv::Fault::kPopulate);
  TraceOptions options;
  options.path = dir / "t.trace";
  options.env = &env;
  options.event_chunk_shift = 18;
  RecordUntilFullAndCheck(options);
}

// The first code range after recording stopped creates no store on the full
// disk: it is dropped, and the trace stays sound.
TEST(FullDisk, FirstCodeRangeAfterStopIsDropped) {
  testing::ScratchDir dir;
  testing::FaultInjectionEnv env(Env::Default(), 2 << 20,
                                 testing::FaultInjectionEnv::Fault::kAllocate);
  TraceOptions options;
  options.path = dir / "t.trace";
  options.env = &env;
  options.event_chunk_shift = 18;
  options.quiet = true;
  auto trace = TraceWriter::Create(options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  TraceWriter& w = **trace;
  const uint32_t f = w.AddFunction({"m", "f", "m.py", 1});
  ASSERT_NE(f, 0u);
  EventWriter* events = w.StartThread(1, "main");
  ASSERT_NE(events, nullptr);
  for (uint64_t i = 0; i < 20'000'000 && !w.stopped(); ++i)
    events->AppendAt(i, format::EventKind::kLine, f, 1);
  ASSERT_TRUE(w.stopped());
  w.AddCodeRange(f, 0x7f0000001000, 64);
  (void)w.Close();
  // Not even tried: no store, and no temporary file of one.
  const std::string store = options.path + "/" + kCodeRangesFile;
  EXPECT_FALSE(Env::Default()->FileExists(store));
  EXPECT_FALSE(Env::Default()->FileExists(store + ".new"));
  auto reader = TraceReader::Open(options.path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_TRUE((*reader)->code_ranges().empty());
  EXPECT_TRUE((*reader)->problems().empty());
  auto report = VerifyTrace(options.path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors.front();
}

TEST(FullDisk, RealTmpfs) {
  testing::ScratchDir dir;
  const std::string mnt = dir / "mnt";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  if (::mount("tracestore-test", mnt.c_str(), "tmpfs", 0, "size=4m") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs (" << std::strerror(errno)
                 << "): run as root to test a real full disk";
  }
  TraceOptions options;
  options.path = mnt + "/t.trace";
  options.event_chunk_shift = 18;
  RecordUntilFullAndCheck(options);
  EXPECT_EQ(::umount(mnt.c_str()), 0);
}

// A disk that fills while the trace is being created (issue 14): creating
// fails, and the header says the trace never started (state 0), not that
// it is closed: readers say so instead of showing an empty, sound trace.
TEST(FullDisk, FullAtStartLeavesANeverStartedTrace) {
  testing::ScratchDir dir;
  testing::FaultInjectionEnv env(Env::Default(), 100 << 10,
                                 testing::FaultInjectionEnv::Fault::kAllocate);
  TraceOptions options;
  options.path = dir / "t.trace";
  options.env = &env;
  options.quiet = true;
  auto w = TraceWriter::Create(options);
  ASSERT_FALSE(w.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(w.status())) << w.status();
  auto reader = TraceReader::Open(options.path);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(reader.status().message().find("never started"),
            std::string::npos)
      << reader.status();
}

}  // namespace
}  // namespace tracestore
