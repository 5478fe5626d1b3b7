// CallTree and CallScan (tracestore/calls.h): slices match the trees the
// generator wrote; incremental updates of a live trace equal a batch build;
// unbalanced input is handled as documented.

#include "tracestore/calls.h"

#include <map>
#include <random>

#include "../tracestore/test_util.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/trace_view.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::ExpectedSlice;
using testing::ScratchDir;

// Checks every slice of `tree` against what the generator recorded.
void ExpectSlices(const CallTree& tree,
                  const std::vector<ExpectedSlice>& expected) {
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> child_ticks;
  for (const auto& e : expected)
    if (e.parent_open_index >= 0 && e.end_ticks != UINT64_MAX)
      child_ticks[{e.thread, static_cast<uint64_t>(e.parent_open_index)}] +=
          e.end_ticks - e.start_ticks;
  std::vector<size_t> seen(tree.thread_count(), 0);
  for (const auto& e : expected) {
    auto slices = tree.slices(e.thread);
    ASSERT_LT(seen[e.thread], slices.size());
    const CallSlice& s = slices[seen[e.thread]++];
    ASSERT_EQ(s.open_index, e.open_index);
    ASSERT_EQ(s.function, e.function);
    ASSERT_EQ(s.depth, e.depth);
    ASSERT_EQ(s.start_ticks, e.start_ticks);
    ASSERT_EQ(s.end_ticks,
              e.end_ticks == UINT64_MAX ? CallSlice::kOpen : e.end_ticks);
    ASSERT_EQ(s.call_line, e.call_line);
    if (e.parent_open_index < 0) {
      ASSERT_EQ(s.parent, 0u);
    } else {
      ASSERT_GT(s.parent, 0u);
      ASSERT_EQ(slices[s.parent - 1].open_index,
                static_cast<uint64_t>(e.parent_open_index));
    }
    ASSERT_EQ(s.child_ticks, (child_ticks[{e.thread, e.open_index}]));
  }
  for (uint32_t t = 0; t < tree.thread_count(); ++t)
    EXPECT_EQ(seen[t], tree.slices(t).size());
}

TEST(CallTree, MatchesTheGeneratedTrees) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 4;
  o.slices_per_thread = 3000;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteAllAndClose();
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok()) << view.status();
  const CallTree& calls = (*view)->calls();
  EXPECT_EQ(calls.size(), tree.slices().size());
  EXPECT_EQ(calls.unmatched(), 0u);
  ExpectSlices(calls, tree.slices());
}

TEST(CallTree, IncrementalEqualsBatch) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 3;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  auto live = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(live.ok()) << live.status();
  (*live)->calls_by_function();  // keep the index current too
  std::mt19937 rng(5);
  std::vector<CallSlice> first_slices;
  for (int round = 0; round < 40; ++round) {
    const uint32_t t = rng() % 3;
    tree.WriteSlices(t, 1 + rng() % 400);
    if (round == 20) {
      // Leave a call open across refreshes.
      tree.Append(t, EventKind::kCall, 1, 5);
      ASSERT_TRUE((*live)->Refresh().ok());
      auto s = (*live)->calls().slices(t);
      ASSERT_TRUE(s.back().open());
      tree.Append(t, EventKind::kReturn, 1, 6);
    }
    ASSERT_TRUE((*live)->Refresh().ok());
    if (round == 5) {
      auto s = (*live)->calls().slices(0);
      first_slices.assign(s.begin(), s.end());
    }
  }
  ASSERT_TRUE(tree.writer().Close().ok());
  ASSERT_TRUE((*live)->Refresh().ok());
  auto batch = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(batch.ok());
  const CallTree& a = (*live)->calls();
  const CallTree& b = (*batch)->calls_by_function();
  ASSERT_EQ(a.thread_count(), b.thread_count());
  for (uint32_t t = 0; t < a.thread_count(); ++t) {
    auto sa = a.slices(t), sb = b.slices(t);
    ASSERT_EQ(sa.size(), sb.size());
    for (size_t i = 0; i < sa.size(); ++i)
      ASSERT_EQ(0, std::memcmp(&sa[i], &sb[i], sizeof(CallSlice)))
          << t << " " << i;
    for (uint32_t f = 0; f <= 41; ++f) {
      auto pa = a.function_index()->Get(f, t),
           pb = b.function_index()->Get(f, t);
      ASSERT_TRUE(std::equal(pa.begin(), pa.end(), pb.begin(), pb.end()));
    }
  }
  // Slices seen early are unchanged later: ids and times are stable.
  auto now = a.slices(0);
  ASSERT_LE(first_slices.size(), now.size());
  for (size_t i = 0; i < first_slices.size(); ++i)
    ASSERT_EQ(0, std::memcmp(&first_slices[i], &now[i], sizeof(CallSlice)));
}

TEST(CallTree, UnbalancedInput) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.Append(0, EventKind::kReturn, 1, 0);   // 0: nothing open: ignored
  tree.Append(0, EventKind::kCall, 1, 10);    // 1: A
  tree.Append(0, EventKind::kCall, 2, 11);    // 2: B, in A
  tree.Append(0, EventKind::kReturn, 1, 0);   // 3: closes B and A
  tree.Append(0, EventKind::kCall, 3, 12);    // 4: C
  tree.Append(0, EventKind::kCCall, 4, 13);   // 5: D, in C
  tree.Append(0, EventKind::kCReturn, 4, 0);  // 6: closes D
  tree.Append(0, EventKind::kReturn, 9, 0);   // 7: no f9 open: ignored
  tree.Append(0, EventKind::kYield, 0, 0);    // 8: function 0: closes C
  tree.Append(0, EventKind::kLine, 3, 7);     // 9: not a slice
  tree.Append(0, EventKind::kCall, 1, 14);    // 10: E, left open
  tree.Append(0, EventKind::kCall, 2, 15);    // 11: F, in E, left open
  tree.Append(1, EventKind::kResume, 5, 1);   // thread 1: G, left open

  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  auto check_closed_part = [&](const CallTree& calls) {
    auto s = calls.slices(0);
    ASSERT_EQ(s.size(), 6u);
    const uint64_t opens[] = {1, 2, 4, 5, 10, 11};
    for (size_t i = 0; i < 6; ++i) EXPECT_EQ(s[i].open_index, opens[i]);
    EXPECT_EQ(s[0].end_ticks, s[1].end_ticks);  // B closed with A
    EXPECT_EQ(s[1].parent, 1u);
    EXPECT_EQ(s[0].child_ticks, s[1].dur_ticks());
    EXPECT_FALSE(s[2].open());
    EXPECT_EQ(s[3].parent, 3u);
    EXPECT_EQ(s[3].depth, 1u);
    EXPECT_EQ(s[5].depth, 1u);
    EXPECT_EQ(calls.unmatched(), 2u);
  };
  {
    const CallTree& calls = (*view)->calls();
    check_closed_part(calls);
    EXPECT_TRUE(calls.slices(0)[4].open());  // threads still running
    EXPECT_TRUE(calls.slices(0)[5].open());
    EXPECT_TRUE(calls.slices(1)[0].open());
  }
  // Thread 0 ends: its open slices close at its end time; thread 1 runs on.
  tree.writer().EndThread(tree.thread(0));
  ASSERT_TRUE((*view)->Refresh().ok());
  const uint64_t end0 =
      (*view)->reader().ThreadEndTicks((*view)->reader().threads()[0]);
  {
    const CallTree& calls = (*view)->calls();
    check_closed_part(calls);
    auto s = calls.slices(0);
    EXPECT_EQ(s[4].end_ticks, std::max(end0, s[4].start_ticks));
    EXPECT_EQ(s[5].end_ticks, std::max(end0, s[5].start_ticks));
    EXPECT_EQ(s[4].child_ticks, s[5].dur_ticks());
    EXPECT_TRUE(calls.slices(1)[0].open());
  }
  ASSERT_TRUE(tree.writer().Close().ok());
  ASSERT_TRUE((*view)->Refresh().ok());
  EXPECT_FALSE((*view)->calls().slices(1)[0].open());
}

// kSliceRecursive: set when a slice of the same function is open below,
// including through a slice closed early (a return that closed inner
// slices too) and across resumes; cleared once the outer one closed.
TEST(CallTree, RecursiveFlag) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.Append(0, EventKind::kCall, 1, 0);     // 0: f         no
  tree.Append(0, EventKind::kCall, 2, 0);     // 1: g in f    no
  tree.Append(0, EventKind::kCall, 1, 0);     // 2: f in g    yes
  tree.Append(0, EventKind::kReturn, 1, 0);   // 3: closes 2
  tree.Append(0, EventKind::kCall, 1, 0);     // 4: f in g    yes
  tree.Append(0, EventKind::kCall, 3, 0);     // 5: h         no
  tree.Append(0, EventKind::kReturn, 2, 0);   // 6: closes 5, 4, 1
  tree.Append(0, EventKind::kReturn, 1, 0);   // 7: closes 0
  tree.Append(0, EventKind::kCall, 1, 0);     // 8: f         no (all closed)
  tree.Append(0, EventKind::kResume, 4, 0);   // 9: gen in f  no
  tree.Append(0, EventKind::kYield, 4, 0);    // 10
  tree.Append(0, EventKind::kResume, 4, 0);   // 11: gen      no
  tree.Append(0, EventKind::kResume, 4, 0);   // 12: gen in gen: yes
  tree.Append(0, EventKind::kYield, 4, 0);    // 13
  tree.Append(0, EventKind::kYield, 4, 0);    // 14
  tree.Append(0, EventKind::kReturn, 1, 0);   // 15
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  auto s = (*view)->calls().slices(0);
  ASSERT_EQ(s.size(), 9u);
  const bool want[] = {false, false, true,  true, false,
                       false, false, false, true};
  const uint64_t opens[] = {0, 1, 2, 4, 5, 8, 9, 11, 12};
  for (size_t i = 0; i < 9; ++i) {
    EXPECT_EQ(s[i].open_index, opens[i]) << i;
    EXPECT_EQ(s[i].recursive(), want[i]) << i;
  }
  EXPECT_TRUE(s[6].resumed());
  EXPECT_FALSE(s[5].resumed());
}

TEST(CallTree, DeepStackWithUnmatchedReturnsStaysLinear) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.slices_per_thread = 0;
  o.event_chunk_shift = 20;
  testing::TreeWriter tree(dir / "t.trace", o);
  for (int i = 0; i < 20000; ++i) tree.Append(0, EventKind::kCall, 1, 0);
  for (int i = 0; i < 20000; ++i) tree.Append(0, EventKind::kReturn, 2, 0);
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  const CallTree& calls = (*view)->calls();
  EXPECT_EQ(calls.size(), 20000u);
  EXPECT_EQ(calls.unmatched(), 20000u);
  EXPECT_EQ(calls.slices(0).back().depth, 19999u);
}

TEST(CallScan, FiltersMatchBruteForce) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 3;
  o.slices_per_thread = 1000;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteAllAndClose();
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  const CallTree& calls = (*view)->calls_by_function();
  const TimeScale& time = (*view)->time();
  std::mt19937_64 rng(11);
  const uint64_t duration =
      (*view)->reader().ToNs((*view)->reader().DurationTicks());
  for (int i = 0; i < 300; ++i) {
    CallFilter f;
    const uint32_t t = rng() % 3;
    switch (rng() % 5) {
      case 0:
        f.depth_min = f.depth_max = rng() % 4;
        break;
      case 1:
        f.ts_min = rng() % duration;
        f.ts_max = f.ts_min + rng() % (duration / 10);
        f.depth_max = rng() % 6;
        break;
      case 2:
        f.id_min = MakeRowId(t, rng() % 5000);
        f.id_max = f.id_min + rng() % 2000;
        break;
      case 3:
        f.OnlyFunction(1 + rng() % 40);
        f.thread_min = f.thread_max = t;
        break;
      case 4:
        f.by_function = true;
        f.depth_min = 1 + rng() % 3;
        break;
    }
    std::vector<std::pair<uint32_t, uint64_t>> want, got;  // (function, id)
    for (uint32_t th = 0; th < calls.thread_count(); ++th)
      for (const CallSlice& s : calls.slices(th)) {
        const uint64_t id = MakeRowId(th, s.open_index);
        const uint64_t ns = time.ToNs(s.start_ticks);
        if (id < f.id_min || id > f.id_max || ns < f.ts_min || ns > f.ts_max ||
            th < f.thread_min || th > f.thread_max || s.depth < f.depth_min ||
            s.depth > f.depth_max ||
            (f.by_function &&
             (s.function < f.function_min || s.function > f.function_max)))
          continue;
        want.emplace_back(s.function, id);
      }
    if (f.by_function)
      std::stable_sort(want.begin(), want.end(),
                       [](auto& a, auto& b) { return a.first < b.first; });
    for (CallScan s(calls, time, f); !s.done(); s.Next())
      got.emplace_back(s.slice().function, s.id());
    ASSERT_EQ(got, want) << "case " << i;
  }
}

}  // namespace
}  // namespace tracestore
