// Flight-recorder traces (issue 17): ring event stores keep the newest
// window of every thread within TraceOptions::max_event_bytes; readers see
// a consistent window while it wraps, and calls that started before the
// window are shown from its start, flagged.

#include <sys/stat.h>
#include <dirent.h>

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/calls.h"
#include "tracestore/call_stream.h"
#include "tracestore/event_scan.h"
#include "tracestore/profile.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::MatchesPattern;
using testing::PatternEvent;
using testing::ScratchDir;

constexpr uint32_t kFunctions = 5;

TraceOptions RingOptions(const std::string& path, uint64_t max_bytes) {
  TraceOptions o;
  o.path = path;
  o.max_event_bytes = max_bytes;
  o.quiet = true;
  return o;
}

// Bytes the event store files occupy on disk (allocated blocks, as du).
uint64_t EventDiskBytes(const std::string& dir) {
  uint64_t n = 0;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind("events.", 0) != 0) continue;
    struct stat st;
    if (stat((dir + "/" + name).c_str(), &st) == 0)
      n += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  closedir(d);
  return n;
}

void AddFunctions(TraceWriter& w) {
  static const char* const kNames[kFunctions] = {"f0", "f1", "f2", "f3", "f4"};
  for (uint32_t f = 0; f < kFunctions; ++f)
    ASSERT_EQ(w.AddFunction({"m", kNames[f], "m.py", 1}), f + 1);
}

TEST(RingTest, KeepsTheNewestEventsWithinTheBudget) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  const uint64_t kMax = uint64_t{4} << 20;
  const uint64_t kEvents = 3'000'000;  // 48 MB: the ring wraps many times
  {
    auto w = TraceWriter::Create(RingOptions(path, kMax));
    ASSERT_TRUE(w.ok()) << w.status();
    AddFunctions(**w);
    EventWriter* t = (*w)->StartThread(1, "main");
    ASSERT_NE(t, nullptr);
    for (uint64_t i = 0; i < kEvents; ++i) {
      const auto e = PatternEvent(i, kFunctions);
      t->AppendAt(format::EventTicks(e), format::GetEventKind(e), e.function,
                  e.value);
      if (i % 500'000 == 0) {
        EXPECT_LE(EventDiskBytes(path), kMax);
      }
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  EXPECT_LE(EventDiskBytes(path), kMax);
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->max_event_bytes(), kMax);
  auto events = (*r)->events(0);
  const uint64_t first = (*r)->events_first(0);
  ASSERT_GT(first, 0u);
  EXPECT_TRUE((*r)->window_truncated(0));
  // The window ends with the last event and holds most of the budget's
  // share (three quarters of it, minus the chunks the filler keeps ahead).
  EXPECT_EQ(first + events.size(), kEvents);
  EXPECT_GT(events.size() * sizeof(format::EventRecord), kMax / 2);
  for (uint64_t j = 0; j < events.size(); ++j)
    ASSERT_TRUE(MatchesPattern(events[j], first + j, kFunctions)) << j;
  EXPECT_EQ((*r)->WindowStartTicks(), format::EventTicks(events.front()));
  // Row ids count every event the thread recorded, and id seeks use them.
  TimeScale time((*r)->header().ticks_per_second);
  {
    EventScan scan(**r, time, ScanFilter{}, nullptr);
    ASSERT_FALSE(scan.done());
    EXPECT_EQ(scan.id(), MakeRowId(0, first));
  }
  ScanFilter f;
  f.id_min = f.id_max = MakeRowId(0, first + 12345);
  EventScan one(**r, time, f, nullptr);
  ASSERT_FALSE(one.done());
  EXPECT_EQ(one.id(), f.id_min);
  EXPECT_TRUE(MatchesPattern(one.event(), first + 12345, kFunctions));
  one.Next();
  EXPECT_TRUE(one.done());
  f.id_min = 0;
  f.id_max = MakeRowId(0, first) - 1;  // only overwritten events: no rows
  EXPECT_TRUE(EventScan(**r, time, f, nullptr).done());
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty()) << report->errors.front();
  EXPECT_GT(report->chunks_checked, 10u);
}

TEST(RingTest, AQuietThreadKeepsItsEventsBesideANoisyOne) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  {
    auto w = TraceWriter::Create(RingOptions(path, uint64_t{8} << 20));
    ASSERT_TRUE(w.ok());
    AddFunctions(**w);
    EventWriter* quiet = (*w)->StartThread(2, "quiet");
    EventWriter* noisy = (*w)->StartThread(3, "noisy");
    ASSERT_TRUE(quiet && noisy);
    for (uint64_t i = 0; i < 100; ++i) quiet->AppendAt(i, EventKind::kLine, 1, 7);
    for (uint64_t i = 0; i < 4'000'000; ++i)
      noisy->AppendAt(i, EventKind::kLine, 2, 9);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->events(0).size(), 100u);
  EXPECT_EQ((*r)->events_first(0), 0u);
  EXPECT_FALSE((*r)->window_truncated(0));
  EXPECT_GT((*r)->events_first(1), 0u);
  EXPECT_LE(EventDiskBytes(path), uint64_t{8} << 20);
}

// A reader following a wrapping ring never sees a record that is not the
// one the writer wrote at that position (no torn, no overwritten record).
TEST(RingTest, LiveReadersSeeOnlyWholeRecords) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  auto w = TraceWriter::Create(RingOptions(path, uint64_t{4} << 20));
  ASSERT_TRUE(w.ok());
  AddFunctions(**w);
  EventWriter* t = (*w)->StartThread(1, "main");
  ASSERT_NE(t, nullptr);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); ++i) {
      const auto e = PatternEvent(i, kFunctions);
      t->AppendAt(format::EventTicks(e), format::GetEventKind(e), e.function,
                  e.value);
    }
  });
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  uint64_t moves = 0, checked = 0;
  // Until the window has moved a few times (the writer thread may get no
  // CPU for a while on a busy machine).
  for (int round = 0; round < 200000 && !HasFailure() && moves < 20; ++round) {
    if (checked == 0) std::this_thread::yield();
    ASSERT_TRUE((*r)->Refresh().ok());
    auto events = (*r)->events(0);
    const uint64_t first = (*r)->events_first(0);
    for (uint64_t j = 0; j < events.size(); ++j)
      ASSERT_TRUE(MatchesPattern(events[j], first + j, kFunctions))
          << "round " << round << " record " << first + j;
    checked += events.size();
    moves = (*r)->window_moves();
  }
  stop = true;
  writer.join();
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GT(moves, 0u) << "the ring never wrapped while being read";
  EXPECT_TRUE((*r)->problems().empty());
  EXPECT_GT(checked, 0u);
}

// f opens, then many g calls inside it push f's call out of the window:
// f is shown from the window start, flagged, with the g calls inside it.
TEST(RingTest, CallsThatStartedBeforeTheWindowAreFlagged) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  uint64_t f_end = 0;
  const uint64_t kCalls = 1'000'000;
  {
    auto w = TraceWriter::Create(RingOptions(path, uint64_t{4} << 20));
    ASSERT_TRUE(w.ok());
    AddFunctions(**w);
    EventWriter* t = (*w)->StartThread(1, "main");
    uint64_t ticks = 10;
    t->AppendAt(ticks++, EventKind::kCall, 1, 0);  // f
    for (uint64_t i = 0; i < kCalls; ++i) {
      t->AppendAt(ticks++, EventKind::kCall, 2, 0);  // g
      t->AppendAt(ticks++, EventKind::kReturn, 2, 0);
    }
    f_end = ticks;
    t->AppendAt(ticks++, EventKind::kReturn, 1, 0);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  const auto events = (*r)->events(0);
  ASSERT_TRUE((*r)->window_truncated(0));
  std::vector<uint64_t> ended = {(*r)->ThreadEndTicks((*r)->threads()[0])};
  CallTree calls;
  calls.Update(**r, ended);
  auto slices = calls.slices(0);
  ASSERT_FALSE(slices.empty());
  const CallSlice& f = slices[0];
  EXPECT_EQ(f.function, 1u);
  EXPECT_EQ(f.flags, kSliceStartsBeforeWindow);
  EXPECT_EQ(f.start_ticks, format::EventTicks(events.front()));
  EXPECT_EQ(f.end_ticks, f_end);
  EXPECT_EQ(f.depth, 0u);
  EXPECT_EQ(calls.unmatched(), 0u);
  // f, and a g when the window starts between a g's call and its return.
  const uint64_t flagged = calls.started_before_window();
  EXPECT_TRUE(flagged == 1 || flagged == 2) << flagged;
  EXPECT_EQ(flagged == 2, format::GetEventKind(events.front()) ==
                              EventKind::kReturn);
  // Every other slice is a g inside f, with its exact times; ids are the
  // events' positions in the thread's whole record.
  for (size_t k = 1; k < slices.size(); ++k) {
    ASSERT_EQ(slices[k].function, 2u);
    ASSERT_EQ(slices[k].depth, 1u);
    ASSERT_EQ(slices[k].parent, 1u);
    ASSERT_EQ(slices[k].flags, k < flagged ? kSliceStartsBeforeWindow : 0);
  }
  EXPECT_LT(f.open_index, slices[1].open_index);
  EXPECT_GE(slices[flagged].open_index, (*r)->events_first(0));
  // The streamed calls (exports, top) agree.
  struct Count : CallVisitor {
    uint64_t flagged = 0, closed = 0;
    void OnClose(uint32_t, std::span<const OpenCall> stack, uint64_t) override {
      ++closed;
      flagged += stack.back().flags != 0;
    }
  } count;
  CallStream stream;
  stream.Update(**r, ended, count);
  EXPECT_EQ(count.closed, slices.size());
  EXPECT_EQ(count.flagged, flagged);
}

// Following a wrapping ring, the incrementally kept call slices and
// profile equal ones built afresh from the same refresh (they start over
// when the window moves).
TEST(RingTest, LiveCallsAndProfileFollowTheMovingWindow) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  auto w = TraceWriter::Create(RingOptions(path, uint64_t{4} << 20));
  ASSERT_TRUE(w.ok());
  AddFunctions(**w);
  EventWriter* t = (*w)->StartThread(1, "main");
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    uint64_t ticks = 1;
    // f(1) > g(2) > h(3) x3, over and over: closes for calls whose opening
    // the window lost at every window start.
    while (!stop.load(std::memory_order_relaxed)) {
      t->AppendAt(ticks++, EventKind::kCall, 1, 0);
      t->AppendAt(ticks++, EventKind::kCall, 2, 0);
      for (int k = 0; k < 3; ++k) {
        t->AppendAt(ticks++, EventKind::kCall, 3, 0);
        t->AppendAt(ticks++, EventKind::kReturn, 3, 0);
      }
      t->AppendAt(ticks++, EventKind::kReturn, 2, 0);
      t->AppendAt(ticks++, EventKind::kReturn, 1, 0);
    }
  });
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  CallTree live;
  Profile profile;
  std::vector<uint64_t> ended;
  uint64_t compared = 0;
  for (int round = 0; round < 100000 && (*r)->window_moves() < 8 &&
                      !HasFailure();
       ++round) {
    ASSERT_TRUE(RefreshWithThreadEnds(**r, &ended).ok());
    live.Update(**r, ended);
    profile.Update(**r, ended);
    if ((*r)->events(0).empty()) {
      std::this_thread::yield();
      continue;
    }
    CallTree fresh;
    fresh.Update(**r, ended);
    const auto a = live.slices(0), b = fresh.slices(0);
    ASSERT_EQ(a.size(), b.size()) << "round " << round;
    for (size_t k = 0; k < a.size(); ++k) {
      ASSERT_EQ(a[k].open_index, b[k].open_index);
      ASSERT_EQ(a[k].start_ticks, b[k].start_ticks);
      ASSERT_EQ(a[k].end_ticks, b[k].end_ticks);
      ASSERT_EQ(a[k].depth, b[k].depth);
      ASSERT_EQ(a[k].flags, b[k].flags);
    }
    EXPECT_EQ(live.unmatched(), 0u);
    Profile again;
    again.Update(**r, ended);
    const auto p1 = profile.Functions(**r), p2 = again.Functions(**r);
    ASSERT_EQ(p1.size(), p2.size());
    for (size_t k = 0; k < p1.size(); ++k) {
      ASSERT_EQ(p1[k].function, p2[k].function);
      ASSERT_EQ(p1[k].calls, p2[k].calls);
      ASSERT_EQ(p1[k].self_ns, p2[k].self_ns);
    }
    ++compared;
  }
  stop = true;
  writer.join();
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GE((*r)->window_moves(), 1u);
  EXPECT_GT(compared, 0u);
}

TEST(RingTest, ThreadsBeyondTheBudgetAreCountedNotHidden) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  {
    // 4 MiB of 64 KiB chunks: 64 chunks, 5 per store: 12 stores fit.
    auto w = TraceWriter::Create(RingOptions(path, uint64_t{4} << 20));
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*w)->event_chunk_shift(), 16u);
    std::vector<EventWriter*> threads;
    for (int i = 0; i < 14; ++i) threads.push_back((*w)->StartThread(i, "t"));
    EXPECT_NE(threads[11], nullptr);
    EXPECT_EQ(threads[12], nullptr);
    EXPECT_EQ(threads[13], nullptr);
    ASSERT_TRUE((*w)->Close().ok());
  }
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->unrecorded_threads(), 2u);
  ASSERT_EQ((*r)->problems().size(), 1u);
  EXPECT_NE((*r)->problems()[0].find("2 threads not recorded"),
            std::string::npos);
  EXPECT_LE(EventDiskBytes(path), uint64_t{4} << 20);
}

TEST(RingTest, BadBudgetsAreRefused) {
  ScratchDir dir;
  auto w = TraceWriter::Create(RingOptions(dir / "a.trace", 1 << 20));
  EXPECT_FALSE(w.ok());
  TraceOptions o = RingOptions(dir / "b.trace", uint64_t{64} << 20);
  o.pool_event_stores = false;
  EXPECT_FALSE(TraceWriter::Create(o).ok());
}

// A trace written before rings (version 2) still opens and reads whole.
TEST(RingTest, VersionTwoTracesStillOpen) {
  ScratchDir dir;
  const std::string path = dir / "t.trace";
  {
    TraceOptions o;
    o.path = path;
    auto w = TraceWriter::Create(o);
    ASSERT_TRUE(w.ok());
    AddFunctions(**w);
    EventWriter* t = (*w)->StartThread(1, "main");
    for (uint64_t i = 0; i < 1000; ++i) t->AppendAt(i, EventKind::kLine, 1, 0);
    ASSERT_TRUE((*w)->Close().ok());
  }
  std::string header = testing::ReadFile(path + "/trace.header");
  const uint32_t two = 2;
  std::memcpy(header.data() + offsetof(format::TraceHeader, version), &two, 4);
  testing::WriteFile(path + "/trace.header", header);
  auto r = TraceReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->events(0).size(), 1000u);
  EXPECT_EQ((*r)->max_event_bytes(), 0u);
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty()) << report->errors.front();
}

}  // namespace
}  // namespace tracestore
