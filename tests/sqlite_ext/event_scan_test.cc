// TimeScale, PostingIndex and EventScan (tracestore/event_scan.h), checked
// against brute force over TraceReader.

#include "tracestore/event_scan.h"

#include <random>

#include "../tracestore/test_util.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/clock.h"
#include "tracestore/trace_reader.h"

namespace tracestore {
namespace {

using testing::ScratchDir;

TEST(TimeScale, ExactlyTicksToNs) {
  std::mt19937_64 rng(7);
  const uint64_t rates[] = {0,
                            1'000'000'000,
                            2'596'124'136,
                            3'000'000'007,
                            999'999'999,
                            1'000'000,
                            1'000'000'001,
                            19'000'000'000ull,
                            1};
  for (uint64_t tps : rates) {
    TimeScale scale(tps);
    for (int i = 0; i < 200000; ++i) {
      uint64_t ticks = rng() >> (rng() % 64);
      if (i % 3 == 0) ticks &= (uint64_t{1} << 56) - 1;
      ASSERT_EQ(scale.ToNs(ticks), TicksToNs(ticks, tps))
          << "tps " << tps << " ticks " << ticks;
    }
    for (uint64_t ticks : {uint64_t{0}, uint64_t{1}, tps, tps - 1, tps + 1,
                           ~uint64_t{0}, (uint64_t{1} << 56) - 1})
      ASSERT_EQ(scale.ToNs(ticks), TicksToNs(ticks, tps))
          << tps << " " << ticks;
  }
}

TEST(PostingIndex, DenseSparseAndMigration) {
  PostingIndex index;
  // Thread 0: keys 1, 2, 7 (7 beyond the dense limit 3), 1.
  const uint32_t keys0[] = {1, 2, 7, 1, 4000000000u};
  index.Extend(0, 5, 3, [&](uint64_t i) { return keys0[i]; });
  EXPECT_EQ(index.Get(1, 0).size(), 2u);
  EXPECT_EQ(index.Get(7, 0).size(), 1u);
  EXPECT_EQ(index.Get(7, 0)[0], 2u);
  EXPECT_EQ(index.Get(4000000000u, 0).size(), 1u);
  EXPECT_TRUE(index.Get(5, 0).empty());
  EXPECT_TRUE(index.Get(1, 9).empty());
  // Grow the limit past 7: its list moves to the dense part, then extends.
  const uint32_t keys1[] = {7, 7};
  index.Extend(1, 2, 10, [&](uint64_t i) { return keys1[i]; });
  const uint32_t more0[] = {1, 2, 7, 1, 4000000000u, 7};
  index.Extend(0, 6, 10, [&](uint64_t i) { return more0[i]; });
  ASSERT_EQ(index.Get(7, 0).size(), 2u);
  EXPECT_EQ(index.Get(7, 0)[1], 5u);
  EXPECT_EQ(index.Get(7, 1).size(), 2u);
  std::vector<uint32_t> order;
  uint32_t k;
  for (bool ok = index.FirstKey(&k); ok; ok = index.NextKey(k, &k))
    order.push_back(k);
  EXPECT_EQ(order, (std::vector<uint32_t>{1, 2, 7, 4000000000u}));
  EXPECT_EQ(index.indexed(0), 6u);
  EXPECT_EQ(index.indexed(1), 2u);
}

class EventScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TreeOptions o;
    o.threads = 3;
    o.slices_per_thread = 800;
    tree_ = std::make_unique<testing::TreeWriter>(dir_ / "t.trace", o);
    tree_->WriteAllAndClose();
    auto r = TraceReader::Open(dir_ / "t.trace");
    ASSERT_TRUE(r.ok()) << r.status();
    reader_ = *std::move(r);
    time_ = TimeScale(reader_->header().ticks_per_second);
    IndexEventFunctions(*reader_, index_);
  }

  // (id, function) of every event a brute-force filter admits, in id order.
  std::vector<std::pair<uint64_t, uint32_t>> Expected(const ScanFilter& f) {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    for (uint32_t t = 0; t < reader_->threads().size(); ++t) {
      auto ev = reader_->events(t);
      for (uint64_t i = 0; i < ev.size(); ++i) {
        const uint64_t id = MakeRowId(t, i);
        const uint64_t ns = reader_->ToNs(format::EventTicks(ev[i]));
        if (id < f.id_min || id > f.id_max || ns < f.ts_min || ns > f.ts_max ||
            t < f.thread_min || t > f.thread_max)
          continue;
        if (f.by_function && (ev[i].function < f.function_min ||
                              ev[i].function > f.function_max))
          continue;
        out.emplace_back(id, ev[i].function);
      }
    }
    if (f.by_function)
      std::stable_sort(out.begin(), out.end(),
                       [](auto& a, auto& b) { return a.second < b.second; });
    return out;
  }
  std::vector<std::pair<uint64_t, uint32_t>> Scanned(const ScanFilter& f) {
    std::vector<std::pair<uint64_t, uint32_t>> out;
    for (EventScan s(*reader_, time_, f, &index_); !s.done(); s.Next())
      out.emplace_back(s.id(), s.event().function);
    return out;
  }

  ScratchDir dir_;
  std::unique_ptr<testing::TreeWriter> tree_;
  std::unique_ptr<TraceReader> reader_;
  TimeScale time_;
  PostingIndex index_;
};

TEST_F(EventScanTest, EveryEventInIdOrder) {
  ScanFilter all;
  auto got = Scanned(all);
  EXPECT_EQ(got.size(), tree_->total_events());
  EXPECT_EQ(got, Expected(all));
}

TEST_F(EventScanTest, RandomFiltersMatchBruteForce) {
  std::mt19937_64 rng(3);
  const uint64_t duration = reader_->ToNs(reader_->DurationTicks());
  for (int i = 0; i < 300; ++i) {
    ScanFilter f;
    const uint32_t t = static_cast<uint32_t>(rng() % 3);
    const uint64_t n = reader_->events(t).size();
    switch (rng() % 6) {
      case 0:
        f.id_min = MakeRowId(t, rng() % (n + 10));
        f.id_max = f.id_min + rng() % 3000;
        break;
      case 1:
        f.ts_min = rng() % duration;
        f.ts_max = f.ts_min + rng() % (duration / 20);
        break;
      case 2:
        f.thread_min = f.thread_max = t;
        f.ts_min = rng() % duration;
        break;
      case 3:
        f.OnlyFunction(static_cast<uint32_t>(rng() % 45));
        break;
      case 4:
        f.by_function = true;
        f.ts_max = rng() % duration;
        f.thread_min = t;
        break;
      case 5:
        f.OnlyFunction(static_cast<uint32_t>(1 + rng() % 40));
        f.id_min = MakeRowId(t, rng() % n);
        f.ts_max = rng() % duration;
        break;
    }
    ASSERT_EQ(Scanned(f), Expected(f)) << "case " << i;
  }
}

TEST_F(EventScanTest, EmptyAndContradictoryFilters) {
  ScanFilter f;
  f.empty = true;
  EXPECT_TRUE(Scanned(f).empty());
  f = ScanFilter();
  f.id_min = 10;
  f.id_max = 9;
  EXPECT_TRUE(Scanned(f).empty());
  f = ScanFilter();
  f.thread_min = f.thread_max = 99;
  EXPECT_TRUE(Scanned(f).empty());
  f = ScanFilter();
  f.id_min = MakeRowId(kMaxRowIdThreads - 1, 0);
  EXPECT_TRUE(Scanned(f).empty());
  f = ScanFilter();
  f.OnlyFunction(0);  // no event has function 0... marks do
  EXPECT_EQ(Scanned(f), Expected(f));
  // by_function without an index: no rows rather than wrong ones.
  f = ScanFilter();
  f.by_function = true;
  EventScan s(*reader_, time_, f, nullptr);
  EXPECT_TRUE(s.done());
}

}  // namespace
}  // namespace tracestore
