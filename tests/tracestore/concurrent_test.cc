// A writer appends 50 M records while a reader in another thread (with its
// own read-only mappings, as another process would have) polls: every prefix
// it observes is consistent and no record is ever torn.

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

constexpr uint64_t kRecords = 50'000'000;
constexpr uint32_t kFunctions = 1000;

TEST(Concurrent, ReaderSeesConsistentPrefixes) {
  testing::ScratchDir dir;
  const std::string path = dir / "c.trace";
  TraceOptions options;
  options.path = path;
  auto writer = TraceWriter::Create(options);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (uint32_t i = 0; i < kFunctions; ++i)
    (*writer)->AddFunction({"m", absl::StrCat("f", i), "m.py", i});
  EventWriter* events = (*writer)->StartThread(1, "writer");
  ASSERT_NE(events, nullptr);

  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) {
      const auto e = testing::PatternEvent(i, kFunctions);
      events->AppendAt(format::EventTicks(e), format::GetEventKind(e),
                       e.function, e.value);
    }
    done.store(true, std::memory_order_release);
  });

  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  uint64_t seen = 0, polls = 0, partial_polls = 0, bad = 0;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    ASSERT_TRUE((*reader)->Refresh().ok());
    ASSERT_EQ((*reader)->functions().size(), kFunctions);
    auto records = (*reader)->events(0);
    ASSERT_GE(records.size(), seen) << "the committed count went backwards";
    for (uint64_t i = seen; i < records.size(); ++i)
      bad += !testing::MatchesPattern(records[i], i, kFunctions);
    ASSERT_EQ(bad, 0u) << "torn or wrong record below the committed count";
    seen = records.size();
    ++polls;
    if (seen > 0 && seen < kRecords) ++partial_polls;
    if (finished) break;
  }
  producer.join();
  EXPECT_EQ(seen, kRecords);
  // The reader really ran alongside the writer.
  EXPECT_GE(partial_polls, 3u) << polls << " polls";
  std::printf("reader polls: %llu, of which %llu saw a partial trace\n",
              static_cast<unsigned long long>(polls),
              static_cast<unsigned long long>(partial_polls));

  ASSERT_TRUE((*writer)->Close().ok());
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors.front();
  EXPECT_EQ(report->events, kRecords);
}

}  // namespace
}  // namespace tracestore
