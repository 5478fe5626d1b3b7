// LineTimes (tracestore/line_times.h) and tracestore_lines on hand-written
// event sequences whose per-line hits and times are worked out by hand:
// callees, a generator suspended and resumed without a line event, an
// exception leaving a generator, recursion, a frame the recording started
// inside, a stray return; and the same rows, live, before the rest of the
// events are written.

#include "tracestore/line_times.h"

#include <fstream>
#include <string>
#include <vector>

#include "../tracestore/test_util.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/source_lines.h"
#include "tracestore/trace_view.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::ScratchDir;

struct Ev {
  uint64_t ticks;
  EventKind kind;
  uint32_t function;
  uint32_t value;
};

// Ticks are ns (the writer's clock is CLOCK_MONOTONIC without the TSC).
const std::vector<Ev> kFirst = {
    {100, EventKind::kCall, 1, 0},
    {110, EventKind::kLine, 1, 10},
    {120, EventKind::kCall, 2, 10},  // callee
    {125, EventKind::kLine, 2, 20},
    {145, EventKind::kReturn, 2, 20},  // f1:10 in calls 25
    {150, EventKind::kLine, 1, 11},    // f1:10 span 40: self 15
};
const std::vector<Ev> kRest = {
    {160, EventKind::kResume, 3, 11},  // a generator, first run
    {165, EventKind::kLine, 3, 30},
    {170, EventKind::kYield, 3, 30},   // f3:30 self 5; f1:11 calls 10
    {180, EventKind::kResume, 3, 11},  // no line event: still line 30
    {190, EventKind::kLine, 3, 31},    // f3:30 self +10, no hit
    {200, EventKind::kUnwind, 3, 31},  // f3:31 self 10; f1:11 calls +20
    {210, EventKind::kLine, 1, 12},    // f1:11 span 60: self 30, calls 30
    {220, EventKind::kCall, 1, 12},    // recursion
    {225, EventKind::kLine, 1, 10},
    {235, EventKind::kReturn, 1, 10},  // inner f1:10 self 10; f1:12 calls 15
    {240, EventKind::kReturn, 1, 12},  // f1:12 span 30: self 15
    {300, EventKind::kLine, 4, 40},    // started inside f4: a frame for it
    {310, EventKind::kLine, 4, 41},
    {320, EventKind::kReturn, 4, 41},
    {330, EventKind::kReturn, 5, 0},   // matches nothing
};

void Write(testing::TreeWriter& w, const std::vector<Ev>& events) {
  for (const Ev& e : events)
    w.thread(0)->AppendAt(e.ticks, e.kind, e.function, e.value);
}

std::vector<std::string> Text(const LineTimes& lines) {
  std::vector<std::string> out;
  for (const LineTimes::Row& r : lines.Rows(0, UINT32_MAX))
    out.push_back(absl::StrCat(r.function, ":", r.line, " hits ", r.stat.hits,
                               " self ", r.stat.self_ticks, " calls ",
                               r.stat.call_ticks));
  return out;
}

testing::TreeOptions Options() {
  testing::TreeOptions o;
  o.threads = 1;
  o.functions = 6;
  o.slices_per_thread = 0;
  o.use_tsc = false;
  return o;
}

TEST(LineTimes, HandWorkedTimes) {
  ScratchDir dir;
  testing::TreeWriter w(dir / "t.trace", Options());
  Write(w, kFirst);
  Write(w, kRest);
  w.WriteAllAndClose();
  auto view = TraceView::Open(dir / "t.trace");
  ASSERT_TRUE(view.ok()) << view.status();
  ASSERT_EQ((*view)->time().ticks_per_second(), 1'000'000'000u);
  const LineTimes& lines = (*view)->lines();
  EXPECT_EQ(Text(lines), (std::vector<std::string>{
                             "1:10 hits 2 self 25 calls 25",
                             "1:11 hits 1 self 30 calls 30",
                             "1:12 hits 1 self 15 calls 15",
                             "2:20 hits 1 self 20 calls 0",
                             "3:30 hits 1 self 15 calls 0",
                             "3:31 hits 1 self 10 calls 0",
                             "4:40 hits 1 self 10 calls 0",
                             "4:41 hits 1 self 10 calls 0",
                         }));
  EXPECT_EQ(lines.line_events(), 9u);
  EXPECT_EQ(lines.unmatched(), 1u);
  EXPECT_EQ(Text(lines).size(), 8u);
  EXPECT_EQ(lines.Rows(3, 3).size(), 2u);
  EXPECT_EQ(lines.Rows(5, 9).size(), 0u);

  // The same through SQL, with function_id pushed down.
  auto db = testing::OpenDb();
  const std::string from =
      absl::StrCat("FROM tracestore_lines('", dir / "t.trace", "')");
  EXPECT_EQ(testing::Rows(db.get(), "SELECT line, hits, time, self_time,"
                                    " time_in_calls, name, file " +
                                        from + " WHERE function_id = 1"),
            (std::vector<std::string>{
                "10|2|50|25|25|Class0.f0|/src/pkg/mod0.py",
                "11|1|60|30|30|Class0.f0|/src/pkg/mod0.py",
                "12|1|30|15|15|Class0.f0|/src/pkg/mod0.py"}));
  EXPECT_NE(testing::Plan(db.get(), "SELECT * " + from +
                                        " WHERE function_id = 3")
                .find("function_id="),
            std::string::npos);
  EXPECT_EQ(testing::Int(db.get(), "SELECT count(*) " + from +
                                       " WHERE function_id = 0"),
            0);
  EXPECT_EQ(testing::Int(db.get(), "SELECT sum(hits) " + from), 9);
  EXPECT_EQ(testing::Rows(db.get(), "SELECT function_id, line " + from +
                                        " ORDER BY function_id DESC, line DESC LIMIT 1"),
            (std::vector<std::string>{"4|41"}));
}

TEST(LineTimes, LiveTraceGrows) {
  ScratchDir dir;
  testing::TreeWriter w(dir / "t.trace", Options());
  Write(w, kFirst);
  auto db = testing::OpenDb();
  const std::string sql = absl::StrCat(
      "SELECT function_id, line, hits, self_time, time_in_calls FROM "
      "tracestore_lines('",
      dir / "t.trace", "')");
  // f1:11 is running: its hit counts, its time does not yet.
  EXPECT_EQ(testing::Rows(db.get(), sql),
            (std::vector<std::string>{"1|10|1|15|25", "1|11|1|0|0",
                                      "2|20|1|20|0"}));
  Write(w, kRest);
  w.WriteAllAndClose();
  const std::vector<std::string> rows = testing::Rows(db.get(), sql);
  ASSERT_EQ(rows.size(), 8u);
  EXPECT_EQ(rows[0], "1|10|2|25|25");
  EXPECT_EQ(rows[1], "1|11|1|30|30");
}

// The source text the line views show.
TEST(SourceLines, SplitsLinesAndSaysWhenItCannotRead) {
  ScratchDir dir;
  {
    std::ofstream f(dir / "a.py", std::ios::binary);
    f << "def f():\r\n\tx = 1\n  if x:\treturn\rlast";
  }
  SourceLines src;
  ASSERT_TRUE(src.Read(dir / "a.py"));
  EXPECT_EQ(src.size(), 4u);
  EXPECT_EQ(src.Line(1), "def f():");
  EXPECT_EQ(src.Line(2), "        x = 1");
  EXPECT_EQ(src.Line(3), "  if x: return");  // the tab to column 8
  EXPECT_EQ(src.Line(4), "last");
  EXPECT_EQ(src.Line(0), "");
  EXPECT_EQ(src.Line(5), "");
  {
    std::ofstream f(dir / "b.py", std::ios::binary);
    f << "one\n\ntwo\n";
  }
  ASSERT_TRUE(src.Read(dir / "b.py"));
  EXPECT_EQ(src.size(), 3u);
  EXPECT_EQ(src.Line(2), "");
  EXPECT_EQ(src.Line(3), "two");
  EXPECT_FALSE(src.Read(dir / "missing.py"));
  EXPECT_EQ(src.size(), 0u);
  EXPECT_FALSE(src.Read(dir.path()));  // a directory
  EXPECT_FALSE(src.Read(""));
}

}  // namespace
}  // namespace tracestore
