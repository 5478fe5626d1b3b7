// CallStream (tracestore/call_stream.h): the calls it streams are exactly
// CallTree's slices (same start, end, depth, parent, child time), in batch
// and while a trace grows; unbalanced input and the end of an export are
// handled as documented.

#include "tracestore/call_stream.h"

#include <algorithm>
#include <map>
#include <random>
#include <tuple>

#include "../sqlite_ext/sql_test_util.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/calls.h"
#include "tracestore/trace_view.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::ScratchDir;

// A call as the stream reported it, in CallSlice terms.
struct Seen {
  uint32_t thread;
  uint64_t open_index, start_ticks, end_ticks, child_ticks;
  uint32_t depth, function, call_line;
  int64_t parent_open_index;  // -1: root
  uint8_t open_kind;
  auto key() const { return std::make_tuple(thread, open_index); }
};

class Recorder : public CallVisitor {
 public:
  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override {
    ++opened;
    // Opens come in event order within a thread.
    auto [it, first] = last_open_.try_emplace(thread, stack.back().open_index);
    if (!first) {
      EXPECT_GT(stack.back().open_index, it->second);
      it->second = stack.back().open_index;
    }
  }
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    const OpenCall& c = stack.back();
    Seen s{thread,
           c.open_index,
           c.start_ticks,
           end_ticks,
           c.child_ticks,
           static_cast<uint32_t>(stack.size() - 1),
           c.function,
           c.call_line,
           stack.size() > 1
               ? static_cast<int64_t>(stack[stack.size() - 2].open_index)
               : -1,
           c.open_kind};
    closed.push_back(s);
  }
  uint64_t opened = 0;
  std::vector<Seen> closed;

 private:
  std::map<uint32_t, uint64_t> last_open_;
};

// Every closed slice of the tree must have been reported once, the same;
// the open ones must be on the stream's stacks.
void ExpectSameAsTree(const CallTree& tree, const CallStream& stream,
                      std::vector<Seen> closed) {
  std::sort(closed.begin(), closed.end(),
            [](const Seen& a, const Seen& b) { return a.key() < b.key(); });
  size_t k = 0;
  uint64_t open = 0;
  for (uint32_t t = 0; t < tree.thread_count(); ++t) {
    auto slices = tree.slices(t);
    std::vector<uint64_t> open_here;
    for (const CallSlice& s : slices) {
      if (s.open()) {
        open_here.push_back(s.open_index);
        continue;
      }
      ASSERT_LT(k, closed.size());
      const Seen& c = closed[k++];
      ASSERT_EQ(c.thread, t);
      ASSERT_EQ(c.open_index, s.open_index);
      ASSERT_EQ(c.start_ticks, s.start_ticks);
      ASSERT_EQ(c.end_ticks, s.end_ticks);
      ASSERT_EQ(c.child_ticks, s.child_ticks);
      ASSERT_EQ(c.depth, s.depth);
      ASSERT_EQ(c.function, s.function);
      ASSERT_EQ(c.call_line, s.call_line);
      ASSERT_EQ(c.open_kind, s.open_kind);
      if (s.parent == 0) {
        ASSERT_EQ(c.parent_open_index, -1);
      } else {
        ASSERT_EQ(c.parent_open_index,
                  static_cast<int64_t>(slices[s.parent - 1].open_index));
      }
    }
    auto stack = stream.stack(t);
    ASSERT_EQ(stack.size(), open_here.size()) << "thread " << t;
    for (size_t i = 0; i < stack.size(); ++i) {
      ASSERT_EQ(stack[i].open_index, open_here[i]);
      // Child time of an open slice so far is the same too.
      const CallSlice* s = nullptr;
      for (const CallSlice& x : slices)
        if (x.open_index == open_here[i]) s = &x;
      ASSERT_NE(s, nullptr);
      ASSERT_EQ(stack[i].child_ticks, s->child_ticks);
    }
    open += open_here.size();
  }
  EXPECT_EQ(k, closed.size());
  (void)open;
}

TEST(CallStream, BatchEqualsCallTree) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 4;
  o.slices_per_thread = 2500;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteAllAndClose();

  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok()) << view.status();
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  CallStream stream;
  Recorder rec;
  uint64_t reports = 0;
  stream.Update(**reader, ended, rec, [&](uint64_t) { ++reports; });
  EXPECT_EQ(rec.opened, tree.slices().size());
  EXPECT_EQ(rec.closed.size(), tree.slices().size());
  EXPECT_EQ(stream.processed_events(), tree.total_events());
  EXPECT_EQ(stream.unmatched(), 0u);
  for (uint32_t t = 0; t < o.threads; ++t) EXPECT_TRUE(stream.finished(t));
  ExpectSameAsTree((*view)->calls(), stream, rec.closed);
  // Nothing new: a second update reports nothing.
  stream.Update(**reader, ended, rec);
  EXPECT_EQ(rec.closed.size(), tree.slices().size());
}

TEST(CallStream, IncrementalFollowsALiveTrace) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 3;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok()) << view.status();
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  CallStream stream;
  Recorder rec;
  std::vector<uint64_t> ended;
  std::mt19937 rng(11);
  for (int round = 0; round < 40; ++round) {
    const uint32_t t = rng() % o.threads;
    tree.WriteSlices(t, 1 + rng() % 60);
    // Leave a few calls open across updates.
    const uint32_t fn = 1 + rng() % 5;
    tree.Append(t, EventKind::kCall, fn, 7);
    if (rng() % 2) tree.Append(t, EventKind::kReturn, fn, 8);
    ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
    stream.Update(**reader, ended, rec);
    ASSERT_TRUE((*view)->Refresh().ok());
    ExpectSameAsTree((*view)->calls(), stream, rec.closed);
  }
  ASSERT_TRUE(tree.writer().Close().ok());
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  stream.Update(**reader, ended, rec);
  ASSERT_TRUE((*view)->Refresh().ok());
  ASSERT_TRUE((*view)->Refresh().ok());
  ExpectSameAsTree((*view)->calls(), stream, rec.closed);
  for (uint32_t t = 0; t < o.threads; ++t) EXPECT_TRUE(stream.stack(t).empty());
}

TEST(CallStream, UnbalancedInput) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.Append(0, EventKind::kReturn, 3, 0);  // started inside a call
  tree.Append(0, EventKind::kCall, 1, 0);
  tree.Append(0, EventKind::kCall, 2, 0);
  tree.Append(0, EventKind::kCall, 3, 0);
  tree.Append(0, EventKind::kReturn, 2, 0);  // closes 3 and 2
  tree.Append(0, EventKind::kReturn, 9, 0);  // matches nothing
  tree.Append(0, EventKind::kCCall, 4, 0);
  tree.Append(0, EventKind::kCReturn, 0, 0);  // function 0: innermost
  tree.Append(0, EventKind::kCall, 5, 0);     // left open
  ASSERT_TRUE(tree.writer().Close().ok());

  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok());
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  CallStream stream;
  Recorder rec;
  stream.Update(**reader, ended, rec);
  const CallTree& calls = (*view)->calls();
  EXPECT_EQ(stream.unmatched(), calls.unmatched());
  EXPECT_EQ(stream.unmatched(), 2u);
  ExpectSameAsTree(calls, stream, rec.closed);
  EXPECT_EQ(rec.closed.size(), 5u);  // all closed at the thread's end
}

TEST(CallStream, FinishClosesAtTheLastEvent) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.Append(0, EventKind::kCall, 1, 0);
  tree.Append(0, EventKind::kCall, 2, 0);
  tree.Append(0, EventKind::kLine, 2, 5);
  tree.Append(1, EventKind::kCall, 3, 0);
  tree.Append(1, EventKind::kReturn, 3, 0);
  auto reader = TraceReader::Open(dir / "t.trace");  // live: not ended
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  CallStream stream;
  Recorder rec;
  stream.Update(**reader, ended, rec);
  EXPECT_EQ(rec.closed.size(), 1u);
  ASSERT_EQ(stream.stack(0).size(), 2u);
  const uint64_t last = format::EventTicks((*reader)->events(0).back());
  EXPECT_EQ(stream.last_ticks(0), last);
  EXPECT_EQ(stream.FinishAll(rec), 2u);
  ASSERT_EQ(rec.closed.size(), 3u);
  EXPECT_EQ(rec.closed[1].function, 2u);  // innermost first
  EXPECT_EQ(rec.closed[1].end_ticks, last);
  EXPECT_EQ(rec.closed[2].function, 1u);
  EXPECT_EQ(rec.closed[2].child_ticks,
            rec.closed[1].end_ticks - rec.closed[1].start_ticks);
  EXPECT_TRUE(stream.stack(0).empty());
}

TEST(CallStream, UpdateThreadInSteps) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.slices_per_thread = 3000;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteAllAndClose();
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  CallStream stepped, whole;
  Recorder a, b;
  while (stepped.UpdateThread(**reader, 0, ended[0], a, 777) != 0) {
  }
  whole.UpdateThread(**reader, 0, ended[0], b);
  ASSERT_EQ(a.closed.size(), b.closed.size());
  for (size_t i = 0; i < a.closed.size(); ++i) {
    ASSERT_EQ(a.closed[i].key(), b.closed[i].key());
    ASSERT_EQ(a.closed[i].end_ticks, b.closed[i].end_ticks);
    ASSERT_EQ(a.closed[i].child_ticks, b.closed[i].child_ticks);
  }
  EXPECT_TRUE(stepped.finished(0));
}

}  // namespace
}  // namespace tracestore
