// Round trip of every record type through TraceWriter and TraceReader, with
// small chunks so that records cross many chunk boundaries.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/store_paths.h"
#include "tracestore/store_reader.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

using format::EventKind;
using format::MarkKind;
using testing::ScratchDir;

TraceOptions SmallChunks(const std::string& path) {
  TraceOptions o;
  o.path = path;
  o.event_chunk_shift = 12;     // 4 KiB: 256 events per chunk
  o.metadata_chunk_shift = 12;
  o.properties = {{"command_line", "app.py --fast"},
                  {"interpreter", "CPython 3.12.1"},
                  {"include", "app\npandas"}};
  return o;
}

TEST(RoundTrip, EveryRecordType) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  auto writer = TraceWriter::Create(SmallChunks(path));
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;

  // Strings: dedup, empty, non-ASCII, one longer than a chunk.
  const std::string big(10000, 'x');
  EXPECT_EQ(w.InternString(""), 0u);
  const uint32_t s1 = w.InternString("héllo wörld ✓");
  EXPECT_EQ(w.InternString("héllo wörld ✓"), s1);
  const uint32_t s_big = w.InternString(big);
  EXPECT_NE(s_big, s1);

  // Functions: ids count from 1.
  const uint32_t f1 = w.AddFunction(
      {"app.core", "Engine.run", "/src/app/core.py", 42,
       format::kFunctionIsPython | format::kFunctionTraced, 0x1234});
  const uint32_t f2 = w.AddFunction({"builtins", "len", "", 0, 0, 0});
  EXPECT_EQ(f1, 1u);
  EXPECT_EQ(f2, 2u);
  std::vector<uint32_t> many;
  for (int i = 0; i < 500; ++i)
    many.push_back(w.AddFunction({"app.gen", absl::StrCat("f", i),
                                  "/src/app/gen.py", static_cast<uint32_t>(i)}));
  EXPECT_EQ(many.back(), 502u);

  // Threads and events: every kind, across many chunks.
  EventWriter* t0 = w.StartThread(::gettid(), "MainThread");
  EventWriter* t1 = w.StartThread(4242, "worker-1");
  ASSERT_NE(t0, nullptr);
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t0->thread_index(), 0u);
  EXPECT_EQ(t1->thread_index(), 1u);
  constexpr uint64_t kEvents = 10000;
  for (uint64_t i = 0; i < kEvents; ++i) {
    const auto e = testing::PatternEvent(i, 502);
    t0->AppendAt(format::EventTicks(e), format::GetEventKind(e), e.function,
                 e.value);
  }
  t1->Append(EventKind::kCall, f1, 7);
  t1->Append(EventKind::kUnwind, f1, 9);
  w.SetThreadName(1, "worker-renamed");
  w.EndThread(t1);
  t1->Append(EventKind::kCall, f1, 7);  // after the end: not t1's, no crash

  w.AddMark(0, "phase", MarkKind::kStart, 5);
  w.AddMark(0, "phase", MarkKind::kStop);
  w.AddMark(1, "point", MarkKind::kPoint);

  ASSERT_TRUE(w.Close().ok());
  EXPECT_TRUE(w.Close().ok());  // idempotent

  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const TraceReader& r = **reader;
  EXPECT_TRUE(r.closed());
  EXPECT_TRUE(r.problems().empty());
  // No code range was recorded: the optional store does not exist, and its
  // absence is no problem.
  EXPECT_FALSE(Env::Default()->FileExists(path + "/" + kCodeRangesFile));
  EXPECT_TRUE(r.code_ranges().empty());
  for (const StoreReader* s : r.stores())
    EXPECT_NE(s->kind(), format::StoreKind::kCodeRanges);
  EXPECT_EQ(r.Property("command_line"), "app.py --fast");
  EXPECT_EQ(r.Property("include"), "app\npandas");
  EXPECT_EQ(r.header().pid, static_cast<uint64_t>(::getpid()));
  EXPECT_GT(r.header().close.realtime_ns, r.header().start.realtime_ns);

  EXPECT_EQ(r.String(s1), "héllo wörld ✓");
  EXPECT_EQ(r.String(s_big), big);
  EXPECT_EQ(r.String(0), "");
  EXPECT_EQ(r.String(999999), "");

  ASSERT_EQ(r.functions().size(), 502u);
  const auto& fr = r.functions()[0];
  EXPECT_EQ(fr.id, 1u);
  EXPECT_EQ(r.String(fr.module), "app.core");
  EXPECT_EQ(r.String(fr.qualname), "Engine.run");
  EXPECT_EQ(r.String(fr.file), "/src/app/core.py");
  EXPECT_EQ(fr.first_line, 42u);
  EXPECT_EQ(fr.code_addr, 0x1234u);
  EXPECT_EQ(r.functions()[1].flags, 0u);
  EXPECT_EQ(r.String(r.functions()[501].qualname), "f499");

  ASSERT_EQ(r.threads().size(), 2u);
  EXPECT_EQ(r.String(r.ThreadName(r.threads()[0])), "MainThread");
  EXPECT_EQ(r.String(r.ThreadName(r.threads()[1])), "worker-renamed");
  EXPECT_EQ(r.threads()[1].os_tid, 4242u);
  EXPECT_GE(r.ThreadEndTicks(r.threads()[1]), r.threads()[1].start_ticks);
  EXPECT_GT(r.ThreadEndTicks(r.threads()[0]), 0u);  // ended at close

  auto e0 = r.events(0);
  ASSERT_EQ(e0.size(), kEvents);
  for (uint64_t i = 0; i < kEvents; ++i)
    ASSERT_TRUE(testing::MatchesPattern(e0[i], i, 502)) << i;
  auto e1 = r.events(1);
  ASSERT_EQ(e1.size(), 2u);
  EXPECT_EQ(format::GetEventKind(e1[0]), EventKind::kCall);
  EXPECT_EQ(format::GetEventKind(e1[1]), EventKind::kUnwind);
  EXPECT_EQ(e1[1].value, 9u);
  EXPECT_LE(format::EventTicks(e1[0]), format::EventTicks(e1[1]));
  EXPECT_TRUE(r.event_store(1)->closed());

  ASSERT_EQ(r.marks().size(), 3u);
  EXPECT_EQ(r.String(r.marks()[0].name), "phase");
  EXPECT_EQ(r.marks()[0].kind, static_cast<uint32_t>(MarkKind::kStart));
  EXPECT_EQ(r.marks()[0].value, 5u);
  EXPECT_EQ(r.marks()[2].thread, 1u);
  EXPECT_LE(r.marks()[0].ticks, r.marks()[1].ticks);

  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors[0];
  EXPECT_GT(report->chunks_checked, kEvents * 16 / 4096);
  EXPECT_EQ(report->events, kEvents + 2);
}

TEST(RoundTrip, TimesAreNanosecondsSinceStart) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  auto w = TraceWriter::Create(SmallChunks(path));
  ASSERT_TRUE(w.ok());
  EventWriter* t = (*w)->StartThread(1, "main");
  t->Append(EventKind::kCall, 0, 0);
  ::usleep(20000);
  t->Append(EventKind::kReturn, 0, 0);
  ASSERT_TRUE((*w)->Close().ok());
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  auto e = (*r)->events(0);
  const uint64_t dt = (*r)->ToNs(format::EventTicks(e[1])) -
                      (*r)->ToNs(format::EventTicks(e[0]));
  EXPECT_GE(dt, 19000000u);
  EXPECT_LT(dt, 200000000u);
  EXPECT_GE((*r)->ToNs((*r)->DurationTicks()), dt);
}

TEST(RoundTrip, LiveReaderSeesGrowthAndState) {
  ScratchDir dir;
  const std::string path = dir / "live.trace";
  auto w = TraceWriter::Create(SmallChunks(path));
  ASSERT_TRUE(w.ok());
  EventWriter* t = (*w)->StartThread(1, "main");
  for (uint64_t i = 0; i < 100; ++i)
    t->AppendAt(i, EventKind::kLine, 0, static_cast<uint32_t>(i));

  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->closed());
  EXPECT_TRUE((*r)->writer_alive());
  EXPECT_EQ((*r)->events(0).size(), 100u);

  for (uint64_t i = 100; i < 5000; ++i)
    t->AppendAt(i, EventKind::kLine, 0, static_cast<uint32_t>(i));
  (*w)->StartThread(2, "second");
  ASSERT_TRUE((*r)->Refresh().ok());
  EXPECT_EQ((*r)->events(0).size(), 5000u);
  EXPECT_EQ((*r)->threads().size(), 2u);
  EXPECT_EQ((*r)->events(0)[4999].value, 4999u);

  auto live_report = VerifyTrace(path);
  ASSERT_TRUE(live_report.ok());
  EXPECT_TRUE(live_report->ok());
  ASSERT_FALSE(live_report->notes.empty());
  EXPECT_NE(live_report->notes[0].find("still being written"), std::string::npos);

  ASSERT_TRUE((*w)->Close().ok());
  ASSERT_TRUE((*r)->Refresh().ok());
  EXPECT_TRUE((*r)->closed());
  EXPECT_FALSE((*r)->writer_alive());
}

TEST(RoundTrip, CodeRanges) {
  ScratchDir dir;
  const std::string path = dir / "ranges.trace";
  auto writer = TraceWriter::Create(SmallChunks(path));  // 256 ranges a chunk
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;
  const std::string store = path + "/" + kCodeRangesFile;

  // A live reader before any range: no store, no problem.
  const uint32_t f1 = w.AddFunction({"app", "main", "app.py", 1});
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  TraceReader& r = **reader;
  EXPECT_TRUE(r.code_ranges().empty());
  EXPECT_TRUE(r.problems().empty());
  EXPECT_FALSE(Env::Default()->FileExists(store));

  // The first range creates the store; the live reader finds it on refresh.
  w.AddCodeRange(f1, 0x7f0000001000, 64);
  EXPECT_TRUE(Env::Default()->FileExists(store));
  EXPECT_FALSE(Env::Default()->FileExists(store + ".new"));
  ASSERT_TRUE(r.Refresh().ok());
  ASSERT_EQ(r.code_ranges().size(), 1u);
  EXPECT_EQ(r.code_ranges()[0].begin, 0x7f0000001000u);
  EXPECT_EQ(r.code_ranges()[0].size, 64u);
  EXPECT_EQ(r.code_ranges()[0].function, f1);
  EXPECT_TRUE(r.problems().empty());

  // Enough ranges to cross several chunks; one function with two ranges.
  constexpr uint32_t kMore = 700;
  for (uint32_t i = 0; i < kMore; ++i) {
    const uint32_t f =
        w.AddFunction({"app.gen", absl::StrCat("g", i), "gen.py", i});
    w.AddCodeRange(f, 0x7f0000002000 + uint64_t{i} * 64, 64);
  }
  w.AddCodeRange(f1, 0x7f0000100000, 4096);  // a second range of f1
  // Dropped: no such function.
  w.AddCodeRange(0, 0x10, 16);
  w.AddCodeRange(kMore + 2, 0x20, 16);

  ASSERT_TRUE(r.Refresh().ok());
  auto live = r.code_ranges();
  ASSERT_EQ(live.size(), kMore + 2u);
  for (uint32_t i = 0; i < kMore; ++i) {
    ASSERT_EQ(live[i + 1].function, i + 2) << i;
    ASSERT_EQ(live[i + 1].begin, 0x7f0000002000 + uint64_t{i} * 64) << i;
    ASSERT_LE(live[i + 1].function, r.functions().size());
  }
  EXPECT_EQ(live.back().function, f1);
  EXPECT_EQ(live.back().size, 4096u);
  auto live_report = VerifyTrace(path);
  ASSERT_TRUE(live_report.ok());
  EXPECT_TRUE(live_report->ok()) << live_report->errors[0];
  EXPECT_EQ(live_report->code_ranges, kMore + 2u);

  ASSERT_TRUE(w.Close().ok());
  w.AddCodeRange(f1, 0x30, 16);  // after close: dropped, no crash

  auto closed = TraceReader::Open(path);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_TRUE((*closed)->problems().empty());
  ASSERT_EQ((*closed)->code_ranges().size(), kMore + 2u);
  EXPECT_EQ((*closed)->code_ranges()[0].begin, 0x7f0000001000u);
  const StoreReader* ranges_store = nullptr;
  for (const StoreReader* s : (*closed)->stores())
    if (s->kind() == format::StoreKind::kCodeRanges) ranges_store = s;
  ASSERT_NE(ranges_store, nullptr);
  EXPECT_TRUE(ranges_store->closed());
  EXPECT_EQ(ranges_store->header().chunk_shift, 12u);  // the metadata shift
  EXPECT_EQ(ranges_store->sealed_chunks(), (kMore + 2u) * 16 / 4096);
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->errors[0];
  EXPECT_EQ(report->code_ranges, kMore + 2u);
}

// The writer commits a function before its range and the reader reads
// ranges before functions: a reader polling a running writer never sees a
// range whose function it cannot see.
TEST(RoundTrip, LiveRangesNeverNameAnUnseenFunction) {
  ScratchDir dir;
  const std::string path = dir / "live.trace";
  auto writer = TraceWriter::Create(SmallChunks(path));
  ASSERT_TRUE(writer.ok());
  TraceWriter& w = **writer;
  constexpr uint32_t kFunctions = 20000;
  std::atomic<bool> done{false};
  std::thread producer([&] {
    for (uint32_t i = 0; i < kFunctions; ++i) {
      const uint32_t f = w.AddFunction({"m", "f", "m.py", i});
      w.AddCodeRange(f, 0x1000 + uint64_t{i} * 32, 32);
    }
    done.store(true, std::memory_order_release);
  });
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  uint64_t polls = 0, dangling = 0;
  for (;;) {
    const bool finished = done.load(std::memory_order_acquire);
    ASSERT_TRUE((*reader)->Refresh().ok());
    ASSERT_TRUE((*reader)->problems().empty()) << (*reader)->problems()[0];
    const uint64_t functions = (*reader)->functions().size();
    for (const auto& range : (*reader)->code_ranges())
      dangling += range.function == 0 || range.function > functions;
    ++polls;
    if (finished) break;
  }
  producer.join();
  EXPECT_EQ(dangling, 0u);
  EXPECT_EQ((*reader)->code_ranges().size(), kFunctions);
  std::printf("%llu polls\n", static_cast<unsigned long long>(polls));
}

TEST(RoundTrip, ByteStoreAcrossChunks) {
  ScratchDir dir;
  ASSERT_TRUE(Env::Default()->CreateDir(dir / "d").ok());
  auto filler_trace = TraceWriter::Create(SmallChunks(dir / "x.trace"));
  ASSERT_TRUE(filler_trace.ok());
  // Strings crossing 4 KiB chunk boundaries, read back exactly.
  std::vector<std::pair<uint32_t, std::string>> written;
  for (int i = 0; i < 300; ++i) {
    std::string s(37 + i * 13 % 3000, static_cast<char>('a' + i % 26));
    s += std::to_string(i);
    written.emplace_back((*filler_trace)->InternString(s), s);
  }
  ASSERT_TRUE((*filler_trace)->Close().ok());
  auto r = TraceReader::Open(dir / "x.trace");
  ASSERT_TRUE(r.ok());
  for (const auto& [id, s] : written) EXPECT_EQ((*r)->String(id), s);
}

TEST(RoundTrip, RefusesExistingNonEmptyDirectory) {
  ScratchDir dir;
  auto first = TraceWriter::Create(SmallChunks(dir / "a.trace"));
  ASSERT_TRUE(first.ok());
  auto second = TraceWriter::Create(SmallChunks(dir / "a.trace"));
  EXPECT_FALSE(second.ok());
  EXPECT_NE(std::string(second.status().message()).find("not empty"),
            std::string::npos);
}

}  // namespace
}  // namespace tracestore
