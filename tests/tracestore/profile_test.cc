// Profile (tracestore/profile.h): per-function calls, self and total time
// equal what the call slices say (recursion counted once in totals), per
// thread and over all; updates in pieces equal one batch; calls still open
// count up to "now".

#include "tracestore/profile.h"

#include <map>
#include <random>

#include "../sqlite_ext/sql_test_util.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/calls.h"
#include "tracestore/trace_view.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::ScratchDir;

struct Expected {
  uint64_t calls = 0, resumes = 0, self_ticks = 0, total_ticks = 0;
};

// The profile computed the slow way, from CallTree's slices.
std::map<uint32_t, Expected> FromSlices(const CallTree& tree, uint32_t only) {
  std::map<uint32_t, Expected> out;
  for (uint32_t t = 0; t < tree.thread_count(); ++t) {
    if (only != Profile::kAllThreads && t != only) continue;
    auto slices = tree.slices(t);
    for (const CallSlice& s : slices) {
      Expected& e = out[s.function];
      ++(s.resumed() ? e.resumes : e.calls);
      if (s.open()) continue;
      e.self_ticks += s.self_ticks();
      bool outermost = true;
      for (uint64_t p = s.parent; p != 0; p = slices[p - 1].parent)
        if (slices[p - 1].function == s.function) outermost = false;
      EXPECT_EQ(s.recursive(), !outermost);  // the calls table's column
      if (outermost) e.total_ticks += s.dur_ticks();
    }
  }
  return out;
}

void ExpectProfile(const TraceReader& reader, const Profile& profile,
                   const CallTree& tree, uint32_t thread) {
  const auto expected = FromSlices(tree, thread);
  const auto got = profile.Functions(reader, thread);
  ASSERT_EQ(got.size(), expected.size());
  uint64_t calls = 0;
  for (const FunctionProfile& f : got) {
    auto it = expected.find(f.function);
    ASSERT_NE(it, expected.end()) << f.function;
    EXPECT_EQ(f.calls, it->second.calls) << f.function;
    EXPECT_EQ(f.resumes, it->second.resumes) << f.function;
    EXPECT_EQ(f.self_ns, reader.ToNs(it->second.self_ticks)) << f.function;
    EXPECT_EQ(f.total_ns, reader.ToNs(it->second.total_ticks)) << f.function;
    EXPECT_EQ(f.open, 0u);
    calls += f.calls;
  }
  EXPECT_EQ(profile.calls(thread), calls);
}

TEST(Profile, MatchesTheSlices) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 3;
  o.functions = 12;  // few functions: plenty of recursion
  o.slices_per_thread = 3000;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteAllAndClose();
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  Profile profile;
  profile.Update(**reader, ended);
  ExpectProfile(**reader, profile, (*view)->calls(), Profile::kAllThreads);
  for (uint32_t t = 0; t < o.threads; ++t)
    ExpectProfile(**reader, profile, (*view)->calls(), t);
  uint64_t resumes = 0;
  for (const auto& e : tree.slices())
    resumes += format::GetEventKind((*reader)->events(e.thread)[e.open_index]) ==
               format::EventKind::kResume;
  EXPECT_GT(resumes, 0u);
  EXPECT_EQ(profile.calls(), tree.slices().size() - resumes);
}

TEST(Profile, IncrementalEqualsBatch) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.functions = 20;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  Profile live;
  std::vector<uint64_t> ended;
  std::mt19937 rng(3);
  for (int round = 0; round < 30; ++round) {
    tree.WriteSlices(rng() % 2, 1 + rng() % 200);
    ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
    live.Update(**reader, ended);
  }
  ASSERT_TRUE(tree.writer().Close().ok());
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  live.Update(**reader, ended);

  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  ExpectProfile(**reader, live, (*view)->calls(), Profile::kAllThreads);
  EXPECT_EQ(live.stream().processed_events(), tree.total_events());
}

TEST(Profile, OpenCallsCountUpToNow) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.slices_per_thread = 0;
  o.use_tsc = false;  // ticks are ns
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.Append(0, EventKind::kCall, 1, 0);    // t1  f1
  tree.Append(0, EventKind::kCall, 2, 0);    // t2    f2
  tree.Append(0, EventKind::kReturn, 2, 0);  // t3    f2 returns
  tree.Append(0, EventKind::kCall, 3, 0);    // t4    f3 (open)
  tree.Append(0, EventKind::kCall, 1, 0);    // t5      f1 again (open)
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  Profile profile;
  profile.Update(**reader, ended);
  auto events = (*reader)->events(0);
  ASSERT_EQ(events.size(), 5u);
  const uint64_t t1 = format::EventTicks(events[0]),
                 t2 = format::EventTicks(events[1]),
                 t3 = format::EventTicks(events[2]),
                 t4 = format::EventTicks(events[3]),
                 t5 = format::EventTicks(events[4]);
  const uint64_t now = t5 + 1000;
  std::map<uint32_t, FunctionProfile> got;
  for (const auto& f : profile.Functions(**reader, Profile::kAllThreads, now))
    got[f.function] = f;
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].calls, 2u);
  EXPECT_EQ(got[1].open, 2u);
  EXPECT_EQ(got[1].total_ns, now - t1);  // the outer call only
  EXPECT_EQ(got[1].self_ns, (now - t1) - (t3 - t2) - (now - t4) + (now - t5));
  EXPECT_EQ(got[2].calls, 1u);
  EXPECT_EQ(got[2].open, 0u);
  EXPECT_EQ(got[2].self_ns, t3 - t2);
  EXPECT_EQ(got[2].total_ns, t3 - t2);
  EXPECT_EQ(got[3].self_ns, t5 - t4);
  EXPECT_EQ(got[3].total_ns, now - t4);
  // The self times add up to the time elapsed since the first call.
  EXPECT_EQ(got[1].self_ns + got[2].self_ns + got[3].self_ns, now - t1);
  // now_ticks 0: up to the thread's last event.
  for (const auto& f : profile.Functions(**reader)) {
    if (f.function == 3) {
      EXPECT_EQ(f.total_ns, t5 - t4);
    }
  }

  // This process writes the trace: the clock estimate follows the writer's.
  const uint64_t before = tree.writer().Now();
  const uint64_t live_now = LiveNowTicks(**reader);
  const uint64_t after = tree.writer().Now();
  EXPECT_GE(live_now + 2'000'000, before);
  EXPECT_LE(live_now, after + 2'000'000);
  ASSERT_TRUE(tree.writer().Close().ok());
  ASSERT_TRUE((*reader)->Refresh().ok());
  EXPECT_EQ(LiveNowTicks(**reader), 0u);
}

}  // namespace
}  // namespace tracestore
