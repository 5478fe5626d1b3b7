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

}  // namespace
}  // namespace tracestore
