// The five tables through the SQLite C API (the SQLITE_CORE build): contents
// against the store read directly, the plans xBestIndex chooses and their
// results against unpushed twins, live refresh, and bad input.

#include <cctype>
#include <map>
#include <random>
#include <set>

#include "../tracestore/test_util.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/calls.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"

namespace tracestore {
namespace {

using ::testing::HasSubstr;
using testing::Int;
using testing::Plan;
using testing::Rows;
using testing::ScratchDir;

// The predicate with every column reference wrapped in CAST(... AS
// INTEGER): an expression SQLite evaluates itself instead of a constraint it
// offers xBestIndex, with the same INTEGER affinity as the column (a unary
// '+' would drop the affinity and change how text compares).
std::string Unpushed(const std::string& predicate) {
  static const std::set<std::string> kColumns = {"id", "ts", "thread_id",
                                                 "function_id", "depth"};
  std::string out;
  size_t i = 0;
  while (i < predicate.size()) {
    const char c = predicate[i];
    if (c == '\'') {  // copy a string literal as is
      const size_t end = predicate.find('\'', i + 1);
      out += predicate.substr(i, end - i + 1);
      i = end + 1;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t end = i;
      while (end < predicate.size() &&
             (std::isalnum(static_cast<unsigned char>(predicate[end])) ||
              predicate[end] == '_'))
        ++end;
      const std::string word = predicate.substr(i, end - i);
      out += kColumns.count(word) ? "CAST(" + word + " AS INTEGER)" : word;
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

std::string Null(bool is_null, uint64_t v) {
  return is_null ? "NULL" : absl::StrCat(v);
}

// Code ranges the fixture records: every function whose id is not a
// multiple of 4 gets one, function 1 a second one.
constexpr uint64_t kSlotBase = 0x7f3300000000;
constexpr uint32_t kSlotBytes = 64;
void AddSlots(TraceWriter& w, uint32_t functions) {
  for (uint32_t f = 1; f <= functions; ++f)
    if (f % 4 != 0) w.AddCodeRange(f, kSlotBase + f * kSlotBytes, kSlotBytes);
  w.AddCodeRange(1, kSlotBase + 0x100000, 4096);
}

// "slot_begin|slot_end" of function `id` from the store read directly: its
// first range, or NULL|NULL.
std::string SlotColumns(const TraceReader& r, uint32_t id) {
  for (const auto& range : r.code_ranges())
    if (range.function == id)
      return absl::StrCat(range.begin, "|", range.begin + range.size);
  return "NULL|NULL";
}

class SqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TreeOptions o;
    o.threads = 3;
    o.slices_per_thread = 1200;
    tree_ = std::make_unique<testing::TreeWriter>(dir_ / "t.trace", o);
    AddSlots(tree_->writer(), o.functions);
    tree_->WriteAllAndClose();
    path_ = dir_ / "t.trace";
    auto r = TraceReader::Open(path_);
    ASSERT_TRUE(r.ok());
    reader_ = *std::move(r);
    db_ = testing::OpenDb();
  }
  // "tracestore_events('<path>')"
  std::string T(const char* table) {
    return absl::StrCat("tracestore_", table, "('", path_, "')");
  }

  ScratchDir dir_;
  std::string path_;
  std::unique_ptr<testing::TreeWriter> tree_;
  std::unique_ptr<TraceReader> reader_;
  testing::Db db_;
};

TEST_F(SqlTest, EventsMatchTheStore) {
  std::vector<std::string> want;
  for (uint32_t t = 0; t < reader_->threads().size(); ++t) {
    auto ev = reader_->events(t);
    for (uint64_t i = 0; i < ev.size(); ++i) {
      const auto kind = format::GetEventKind(ev[i]);
      const bool mark = kind == format::EventKind::kMark;
      want.push_back(absl::StrCat(MakeRowId(t, i), "|", t, "|",
                                  reader_->ToNs(format::EventTicks(ev[i])), "|",
                                  std::string(EventKindName(kind)), "|",
                                  Null(ev[i].function == 0, ev[i].function),
                                  "|", Null(mark, ev[i].value), "|",
                                  Null(!mark, ev[i].value)));
    }
  }
  EXPECT_EQ(Rows(db_.get(), "SELECT * FROM " + T("events")), want);
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("events")),
            static_cast<int64_t>(tree_->total_events()));
}

TEST_F(SqlTest, CallsMatchTheGeneratedTrees) {
  // Child time per slice, from the generator's truth.
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> child;
  for (const auto& e : tree_->slices())
    if (e.parent_open_index >= 0)
      child[{e.thread, static_cast<uint64_t>(e.parent_open_index)}] +=
          e.end_ticks - e.start_ticks;
  // Recursive: a slice of the same function among its parents (truth).
  std::map<std::pair<uint32_t, uint64_t>, const testing::ExpectedSlice*> by_id;
  for (const auto& e : tree_->slices()) by_id[{e.thread, e.open_index}] = &e;
  auto recursive = [&](const testing::ExpectedSlice& e) {
    for (int64_t p = e.parent_open_index; p >= 0;) {
      const testing::ExpectedSlice* parent =
          by_id.at({e.thread, static_cast<uint64_t>(p)});
      if (parent->function == e.function) return 1;
      p = parent->parent_open_index;
    }
    return 0;
  };
  std::vector<std::string> want;
  for (const auto& e : tree_->slices()) {
    const auto& f = reader_->functions()[e.function - 1];
    const uint64_t dur_ticks = e.end_ticks - e.start_ticks;
    const std::string_view kind = EventKindName(
        format::GetEventKind(reader_->events(e.thread)[e.open_index]));
    want.push_back(absl::StrCat(
        MakeRowId(e.thread, e.open_index), "|", e.thread, "|", e.depth, "|",
        e.parent_open_index < 0
            ? std::string("NULL")
            : absl::StrCat(MakeRowId(e.thread, e.parent_open_index)),
        "|", e.function, "|", std::string(reader_->String(f.qualname)), "|",
        std::string(reader_->String(f.module)), "|",
        std::string(reader_->String(f.file)), "|", f.first_line, "|",
        e.call_line, "|", reader_->ToNs(e.start_ticks), "|",
        reader_->ToNs(e.end_ticks) - reader_->ToNs(e.start_ticks), "|",
        reader_->ToNs(dur_ticks - child[{e.thread, e.open_index}]),
        "|0|",  // starts_before_window: no ring here
        std::string(kind), "|", recursive(e)));
  }
  EXPECT_EQ(Rows(db_.get(), "SELECT * FROM " + T("calls")), want);
  // The slice id is its opening event's id.
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("calls") + " c JOIN " +
                               T("events") +
                               " e ON e.id = c.id WHERE e.kind "
                               "IN ('call', 'resume', 'c_call')"),
            static_cast<int64_t>(tree_->slices().size()));
}

TEST_F(SqlTest, FunctionsThreadsMarksMatchTheStore) {
  std::vector<std::string> want;
  for (const auto& f : reader_->functions())
    want.push_back(
        absl::StrCat(f.id, "|", std::string(reader_->String(f.module)), "|",
                     std::string(reader_->String(f.qualname)), "|",
                     std::string(reader_->String(f.file)), "|", f.first_line,
                     "|", f.flags & 1, "|", (f.flags >> 1) & 1, "|",
                     f.code_addr, "|", SlotColumns(*reader_, f.id)));
  EXPECT_EQ(Rows(db_.get(), "SELECT * FROM " + T("functions")), want);
  // The slot columns: the first range (function 1 has two), NULL without.
  EXPECT_EQ(Rows(db_.get(), "SELECT id, slot_begin, slot_end FROM " +
                                T("functions") + " WHERE id IN (1, 3, 4, 40)"),
            (std::vector<std::string>{
                absl::StrCat("1|", kSlotBase + 64, "|", kSlotBase + 128),
                absl::StrCat("3|", kSlotBase + 192, "|", kSlotBase + 256),
                "4|NULL|NULL", "40|NULL|NULL"}));
  EXPECT_EQ(Int(db_.get(), "SELECT count(slot_begin) FROM " + T("functions")),
            30);
  // Hidden path stays last: a SELECT * has the two new columns before it.
  EXPECT_EQ(
      Rows(db_.get(), "SELECT path FROM " + T("functions") + " WHERE id = 2"),
      std::vector<std::string>{path_});
  want.clear();
  for (const auto& t : reader_->threads())
    want.push_back(absl::StrCat(
        t.index, "|", t.os_tid, "|", std::string(reader_->String(t.name)), "|",
        reader_->ToNs(t.start_ticks), "|", reader_->ToNs(t.end_ticks), "|",
        reader_->events(t.index).size(), "|0|NULL"));  // nothing lost
  EXPECT_EQ(Rows(db_.get(), "SELECT * FROM " + T("threads")), want);
  want.clear();
  uint64_t i = 0;
  for (const auto& m : reader_->marks())
    want.push_back(absl::StrCat(i++, "|", reader_->ToNs(m.ticks), "|", m.thread,
                                "|", std::string(reader_->String(m.name)), "|",
                                std::string(MarkKindName(m.kind)), "|",
                                m.value));
  EXPECT_EQ(Rows(db_.get(), "SELECT * FROM " + T("marks")), want);
  EXPECT_EQ(want.size(), 7u);
}

// Each predicate runs twice: as written (pushed into xFilter) and with every
// column hidden in a CAST (SQLite filters). The rows must be the same:
// `omit` is only set where xFilter is exact.
TEST_F(SqlTest, PushedConstraintsEqualSqliteFiltering) {
  const uint64_t t1 = MakeRowId(1, 0);
  const int64_t mid_ts =
      Int(db_.get(), "SELECT ts FROM " + T("events") +
                         " WHERE id = " + absl::StrCat(t1 + 500));
  ASSERT_GT(mid_ts, 0);
  const std::string ts = absl::StrCat(mid_ts);
  const std::vector<std::string> predicates = {
      "id = 17",
      "id = " + absl::StrCat(t1 + 3),
      absl::StrCat("id >= ", t1 - 5, " AND id < ", t1 + 40),
      absl::StrCat("id > ", t1 + 3, " AND id <= ", t1 + 9),
      "ts BETWEEN " + ts + " AND " + ts + " + 20000",
      "ts > " + ts + " AND ts < " + ts + " + 5000 AND thread_id = 1",
      "ts = " + ts,
      "thread_id = 2",
      "thread_id = 2 AND id < 100",
      "function_id = 3",
      "function_id = 3 AND ts < " + ts,
      "function_id = 0",
      "function_id = -1",
      "thread_id = -1",
      "thread_id = 4294967296",
      "id > -5 AND id < 30",
      "id < 0",
      "ts >= '" + ts + "'",
      "ts >= 'abc'",
      "ts < 'abc' AND id < 20",
      "id = 2.5",
      "id = 3.0",
      "id > 2.5 AND id < 7.5",
      "id <= 4.999",
      "id >= 1e300",
      "id < -1e300",
      "id > NULL",
      "id = NULL",
      "id = x'01'",
      "id < x'01' AND id < 10",
      "ts > 9223372036854775807",
      "id >= 9223372036854775807",
      "ts <= -1",
      "id = '12'",
      "id = ' 12'",
      "id = '12abc'",
      "thread_id IN (0, 2) AND id < 1099511627876",
      "id IN (5, 7, 1099511627776, 2199023255552)",
      "function_id IN (3, 4) AND thread_id = 1",
  };
  for (const char* table : {"events", "calls"}) {
    for (const std::string& p : predicates) {
      const std::string unpushed = Unpushed(p);
      const std::string a = absl::StrCat("SELECT id, ts FROM ", T(table),
                                         " WHERE ", p, " ORDER BY id");
      const std::string b = absl::StrCat("SELECT id, ts FROM ", T(table),
                                         " WHERE ", unpushed, " ORDER BY +id");
      SCOPED_TRACE(a + "\n" + b);
      EXPECT_EQ(Rows(db_.get(), a), Rows(db_.get(), b));
    }
  }
  for (const std::string& p :
       {std::string("depth = 2"), std::string("depth <= 1 AND thread_id = 0"),
        std::string("depth > 3 AND depth < 6"), std::string("depth = 'x'"),
        std::string("depth < 2.5 AND function_id = 4")}) {
    const std::string unpushed = Unpushed(p);
    EXPECT_EQ(
        Rows(db_.get(), "SELECT id FROM " + T("calls") + " WHERE " + p),
        Rows(db_.get(), "SELECT id FROM " + T("calls") + " WHERE " + unpushed))
        << p;
  }
  for (const char* table : {"functions", "threads", "marks"})
    for (const char* p : {"id = 1", "id > 1 AND id <= 3", "id < 'a'", "id = 0"})
      EXPECT_EQ(Rows(db_.get(),
                     absl::StrCat("SELECT * FROM ", T(table), " WHERE ", p)),
                Rows(db_.get(), absl::StrCat("SELECT * FROM ", T(table),
                                             " WHERE ", Unpushed(p))))
          << table << " " << p;
}

TEST_F(SqlTest, PlansUseThePushdown) {
  auto plan = [&](const std::string& sql) { return Plan(db_.get(), sql); };
  EXPECT_THAT(plan("SELECT * FROM " + T("events") + " WHERE id = 5"),
              HasSubstr("INDEX 3:path= id="));
  EXPECT_THAT(
      plan("SELECT * FROM " + T("events") + " WHERE id > 5 AND id <= 9"),
      HasSubstr(
          absl::StrCat("INDEX ", 1 | 4 | 8 | (1 << 18), ":path= id> id<=")));
  EXPECT_THAT(plan("SELECT * FROM " + T("events") +
                   " WHERE ts >= 100 AND ts < 200 AND thread_id = 1"),
              HasSubstr("path= ts>= ts< thread_id="));
  EXPECT_THAT(plan("SELECT * FROM " + T("events") + " WHERE function_id = 3"),
              HasSubstr("path= function_id="));
  EXPECT_THAT(plan("SELECT * FROM " + T("calls") +
                   " WHERE depth = 0 AND ts > 10 AND function_id = 2"),
              HasSubstr("path= ts> function_id= depth="));
  EXPECT_THAT(plan("SELECT * FROM " + T("calls") + " WHERE depth < 3"),
              HasSubstr("path= depth<"));
  // ORDER BY id is the scan order; GROUP BY function_id reads the index.
  std::string p = plan("SELECT * FROM " + T("events") + " ORDER BY id");
  EXPECT_THAT(p, HasSubstr("path= ordered"));
  EXPECT_THAT(p, ::testing::Not(HasSubstr("TEMP B-TREE")));
  // Thread ids are a process's own: ts order within a thread holds for one
  // process of a tree (pid =), not across processes.
  p = plan("SELECT * FROM " + T("calls") +
           " WHERE thread_id = 1 AND pid = 7 ORDER BY ts");
  EXPECT_THAT(p, HasSubstr("thread_id= pid= ordered"));
  EXPECT_THAT(p, ::testing::Not(HasSubstr("TEMP B-TREE")));
  p = plan("SELECT * FROM " + T("calls") + " WHERE thread_id = 1 ORDER BY ts");
  EXPECT_THAT(p, HasSubstr("TEMP B-TREE"));
  p = plan("SELECT function_id, sum(self_dur) FROM " + T("calls") +
           " GROUP BY function_id");
  EXPECT_THAT(p, HasSubstr("by_function ordered"));
  EXPECT_THAT(p, ::testing::Not(HasSubstr("TEMP B-TREE")));
  EXPECT_THAT(plan("SELECT * FROM " + T("events") + " ORDER BY ts"),
              HasSubstr("TEMP B-TREE"));  // ts order across threads: sorted
  EXPECT_THAT(plan("SELECT * FROM " + T("events") + " ORDER BY id DESC"),
              HasSubstr("TEMP B-TREE"));
  // A join looks rows up by id, or by function through the index.
  p = plan("SELECT f.name FROM " + T("calls") + " c JOIN " + T("functions") +
           " f ON f.id = c.function_id");
  EXPECT_THAT(p, ::testing::AnyOf(HasSubstr("INDEX 3:path= id="),
                                  HasSubstr("INDEX 257:path= function_id=")));
  EXPECT_THAT(plan("SELECT c.name FROM " + T("calls") + " c JOIN " +
                   T("calls") + " p ON p.id = c.parent_id"),
              HasSubstr("INDEX 3:path= id="));
  // The path may come from another table.
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM (SELECT '" + path_ +
                               "' AS p) t, tracestore_threads(t.p)"),
            3);
}

TEST_F(SqlTest, GroupedResultsEqualSorted) {
  for (const char* table : {"events", "calls"}) {
    const std::string a = absl::StrCat(
        "SELECT function_id, count(*), sum(ts), min(id), max(id) FROM ",
        T(table), " GROUP BY function_id");
    const std::string b = absl::StrCat(
        "SELECT +function_id f, count(*), sum(ts), min(id), max(id) FROM ",
        T(table), " GROUP BY f ORDER BY f");
    EXPECT_EQ(Rows(db_.get(), a), Rows(db_.get(), b)) << table;
    EXPECT_EQ(Rows(db_.get(), absl::StrCat("SELECT id FROM ", T(table),
                                           " ORDER BY function_id, id")),
              Rows(db_.get(), absl::StrCat("SELECT id FROM ", T(table),
                                           " ORDER BY +function_id, +id")));
  }
  // Self times add up to the roots' durations (within the rounding of each
  // slice's ticks to ns).
  const int64_t self =
      Int(db_.get(), "SELECT sum(self_dur) FROM " + T("calls"));
  const int64_t roots =
      Int(db_.get(), "SELECT sum(dur) FROM " + T("calls") + " WHERE depth = 0");
  EXPECT_NEAR(static_cast<double>(self), static_cast<double>(roots),
              static_cast<double>(tree_->slices().size()));
}

TEST_F(SqlTest, JoinsAndSubqueries) {
  // Every non-root slice's parent exists and is one level up.
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("calls") + " c JOIN " +
                               T("calls") +
                               " p ON p.id = c.parent_id "
                               "WHERE p.depth + 1 = c.depth"),
            Int(db_.get(),
                "SELECT count(*) FROM " + T("calls") + " WHERE depth > 0"));
  // Names through the functions table equal the calls' own names.
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("calls") + " c JOIN " +
                               T("functions") +
                               " f ON f.id = c.function_id "
                               "WHERE f.name = c.name"),
            static_cast<int64_t>(tree_->slices().size()));
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("events") + " e JOIN " +
                               T("marks") + " m ON m.id = e.mark_id"),
            Int(db_.get(), "SELECT count(*) FROM " + T("events") +
                               " WHERE kind = 'mark' AND mark_id < 7"));
}

TEST_F(SqlTest, ErrorsAreSqlErrors) {
  auto err = [&](const std::string& sql) {
    return testing::Error(db_.get(), sql);
  };
  EXPECT_THAT(err("SELECT * FROM tracestore_events"),
              HasSubstr("needs the trace directory"));
  EXPECT_THAT(err("SELECT * FROM tracestore_calls('" + dir_ / "nope" + "')"),
              HasSubstr("No such file"));
  EXPECT_THAT(err("SELECT * FROM tracestore_calls(NULL)"), HasSubstr("empty"));
  EXPECT_THAT(err("SELECT * FROM tracestore_calls('" + dir_.path() + "')"),
              HasSubstr("is not a trace"));
  testing::WriteFile(dir_ / "file", "hello");
  EXPECT_THAT(err("SELECT * FROM tracestore_marks('" + dir_ / "file" + "')"),
              HasSubstr("is not a trace"));
  EXPECT_THAT(err("SELECT nope FROM " + T("events")),
              HasSubstr("no such column"));
  EXPECT_NE(err("DELETE FROM tracestore_events WHERE path = '" + path_ + "'"),
            "");
  EXPECT_NE(err("INSERT INTO tracestore_marks VALUES (1,2,3,4,5,6,7)"), "");
  EXPECT_NE(
      err("CREATE VIRTUAL TABLE x USING tracestore_events('" + path_ + "')"),
      "");
  // Direct-only: not from a view in the schema (a TEMP view is fine).
  ASSERT_EQ(err("CREATE VIEW v AS SELECT * FROM " + T("threads")), "");
  EXPECT_THAT(err("SELECT * FROM v"), HasSubstr("unsafe use"));
  ASSERT_EQ(err("CREATE TEMP VIEW tv AS SELECT * FROM " + T("threads")), "");
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM tv"), 3);
}

TEST_F(SqlTest, ReplacedTraceIsReopened) {
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("threads")), 3);
  reader_.reset();
  std::system(("rm -rf " + path_).c_str());
  testing::TreeOptions o;
  o.threads = 5;
  o.slices_per_thread = 10;
  testing::TreeWriter again(path_, o);
  again.WriteAllAndClose();
  EXPECT_EQ(Int(db_.get(), "SELECT count(*) FROM " + T("threads")), 5);
  std::system(("rm -rf " + path_).c_str());
  EXPECT_THAT(testing::Error(db_.get(), "SELECT * FROM " + T("threads")),
              HasSubstr("No such file"));
}

TEST(SqlLive, QueriesFollowTheWriter) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  auto db = testing::OpenDb();
  const std::string calls = "tracestore_calls('" + dir / "t.trace" + "')";
  const std::string events = "tracestore_events('" + dir / "t.trace" + "')";
  EXPECT_EQ(Int(db.get(), "SELECT count(*) FROM " + calls), 0);
  tree.WriteSlices(0, 100);
  EXPECT_EQ(Int(db.get(), "SELECT count(*) FROM " + calls), 100);
  tree.Append(1, format::EventKind::kCall, 2, 9);
  EXPECT_EQ(Rows(db.get(), "SELECT count(*), count(dur) FROM " + calls),
            std::vector<std::string>{"101|100"});
  EXPECT_EQ(Rows(db.get(), "SELECT end_ts FROM tracestore_threads('" +
                               dir / "t.trace" + "')"),
            (std::vector<std::string>{"NULL", "NULL"}));
  tree.Append(1, format::EventKind::kReturn, 2, 9);
  EXPECT_EQ(Rows(db.get(), "SELECT count(*), count(dur) FROM " + calls),
            std::vector<std::string>{"101|101"});
  // A join reads one snapshot: the inner scans do not refresh.
  const int64_t before = Int(db.get(), "SELECT count(*) FROM " + events);
  sqlite3_stmt* stmt;
  ASSERT_EQ(sqlite3_prepare_v2(db.get(), ("SELECT id FROM " + events).c_str(),
                               -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);  // a scan under way
  tree.WriteSlices(0, 50);
  EXPECT_EQ(Int(db.get(), "SELECT count(*) FROM " + events), before);
  int rows = 1;
  while (sqlite3_step(stmt) == SQLITE_ROW) ++rows;
  sqlite3_finalize(stmt);
  EXPECT_EQ(rows, before);
  EXPECT_GT(Int(db.get(), "SELECT count(*) FROM " + events), before);
  ASSERT_TRUE(tree.writer().Close().ok());
  EXPECT_EQ(
      Int(db.get(), "SELECT count(*) FROM " + calls + " WHERE dur IS NULL"), 0);
}

TEST(SqlLive, FunctionSlotsFollowTheWriter) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 1;
  o.functions = 5;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  auto db = testing::OpenDb();
  const std::string functions =
      "tracestore_functions('" + dir / "t.trace" + "')";
  const std::string query = "SELECT id, slot_begin, slot_end FROM " +
                            functions + " WHERE id >= 2 AND id <= 3";
  // No coderanges.store yet: NULL, not an error.
  EXPECT_FALSE(Env::Default()->FileExists(dir / "t.trace/" + kCodeRangesFile));
  EXPECT_EQ(Rows(db.get(), query),
            (std::vector<std::string>{"2|NULL|NULL", "3|NULL|NULL"}));
  // The store appears and grows while the connection keeps the trace open.
  tree.writer().AddCodeRange(3, 0x5000, 16);
  EXPECT_EQ(Rows(db.get(), query),
            (std::vector<std::string>{"2|NULL|NULL", "3|20480|20496"}));
  tree.writer().AddCodeRange(2, 0x6000, 32);
  tree.writer().AddCodeRange(3, 0x7000, 16);  // not the first: not shown
  const uint32_t added = tree.writer().AddFunction({"m", "late", "m.py", 9});
  tree.writer().AddCodeRange(added, 0x8000, 8);
  EXPECT_EQ(Rows(db.get(), query),
            (std::vector<std::string>{"2|24576|24608", "3|20480|20496"}));
  EXPECT_EQ(Rows(db.get(), absl::StrCat("SELECT name, slot_begin, slot_end "
                                        "FROM ",
                                        functions, " WHERE id = ", added)),
            std::vector<std::string>{"late|32768|32776"});
  ASSERT_TRUE(tree.writer().Close().ok());
  EXPECT_EQ(Int(db.get(), "SELECT count(slot_end) FROM " + functions), 3);
}

// ---------------------------------------------------------------------------
// Damaged traces: clear errors for what cannot be read, never a crash.

std::vector<std::string> QueryAll(sqlite3* db, const std::string& path) {
  std::vector<std::string> out;
  for (const char* t : {"calls", "events", "functions", "threads", "marks"}) {
    auto rows = Rows(db, absl::StrCat("SELECT * FROM tracestore_", t, "('",
                                      path, "') ORDER BY 1"));
    out.push_back(rows.size() == 1 && rows[0].rfind("ERROR", 0) == 0
                      ? rows[0]
                      : absl::StrCat(rows.size(), " rows"));
    Rows(db, absl::StrCat("SELECT function_id, sum(dur) FROM tracestore_", t,
                          "('", path, "') WHERE ts > 10 GROUP BY 1"));
  }
  return out;
}

TEST_F(SqlTest, DamagedStores) {
  db_.reset();
  reader_.reset();
  const std::string good = path_;
  auto copy = [&](const std::string& name) {
    const std::string p = dir_ / name;
    std::system(absl::StrCat("rm -rf ", p, " && cp -r ", good, " ", p).c_str());
    return p;
  };
  {
    // functions.store is not a store: tables that need it fail, naming it.
    const std::string p = copy("badfn");
    testing::FlipBit(p + "/" + kFunctionsFile, 1, 3);
    auto db = testing::OpenDb();
    auto r = QueryAll(db.get(), p);
    EXPECT_THAT(r[0], HasSubstr("functions.store: not a tracestore store"));
    EXPECT_THAT(r[1], ::testing::EndsWith(" rows"));
    EXPECT_THAT(r[2], HasSubstr("functions.store"));
    EXPECT_THAT(r[3], ::testing::EndsWith(" rows"));
  }
  {
    // A torn events store: the prefix is there.
    const std::string p = copy("torn");
    const std::string events = p + "/" + EventsFileName(1);
    ASSERT_EQ(
        ::truncate(events.c_str(), format::kStoreHeaderBytes + 100 * 16 + 5),
        0);
    auto db = testing::OpenDb();
    EXPECT_EQ(Int(db.get(), "SELECT count(*) FROM tracestore_events('" + p +
                                "') WHERE thread_id = 1"),
              100);
    EXPECT_GT(Int(db.get(), "SELECT count(*) FROM tracestore_calls('" + p +
                                "') WHERE thread_id = 1"),
              0);
  }
  {
    // A missing events store.
    const std::string p = copy("noevents");
    ASSERT_EQ(::unlink((p + "/" + EventsFileName(2)).c_str()), 0);
    auto db = testing::OpenDb();
    auto r = QueryAll(db.get(), p);
    EXPECT_THAT(r[1], HasSubstr("events.2.store"));
    EXPECT_THAT(r[4], ::testing::EndsWith(" rows"));
  }
  {
    // coderanges.store is not a store: the functions table, which shows the
    // slots, fails naming it (NULL would claim "no slot"); the rest reads.
    const std::string p = copy("badranges");
    testing::FlipBit(p + "/" + kCodeRangesFile, 1, 3);
    auto db = testing::OpenDb();
    auto r = QueryAll(db.get(), p);
    EXPECT_THAT(r[0], ::testing::EndsWith(" rows"));
    EXPECT_THAT(r[1], ::testing::EndsWith(" rows"));
    EXPECT_THAT(r[2], HasSubstr("coderanges.store: not a tracestore store"));
    EXPECT_EQ(r[3], "3 rows");
    EXPECT_EQ(r[4], "7 rows");
  }
  {
    // A torn coderanges.store: the ranges before the tear show.
    const std::string p = copy("tornranges");
    ASSERT_EQ(::truncate((p + "/" + kCodeRangesFile).c_str(),
                         format::kStoreHeaderBytes + 2 * 16 + 3),
              0);
    auto db = testing::OpenDb();
    EXPECT_EQ(
        Rows(db.get(), "SELECT id, slot_begin FROM tracestore_functions('" + p +
                           "') WHERE slot_begin IS NOT NULL"),
        (std::vector<std::string>{absl::StrCat("1|", kSlotBase + 64),
                                  absl::StrCat("2|", kSlotBase + 128)}));
  }
  {
    // A damaged trace header.
    const std::string p = copy("badheader");
    testing::FlipBit(p + "/" + kTraceHeaderFile, 0, 1);
    auto db = testing::OpenDb();
    for (const auto& r : QueryAll(db.get(), p))
      EXPECT_THAT(r, HasSubstr("bad magic"));
  }
  // Random bit flips anywhere: whatever the answer, no crash (ASan checks).
  std::mt19937 rng(99);
  const char* files[] = {kTraceHeaderFile, kFunctionsFile,   kStringsFile,
                         kStringBytesFile, kThreadsFile,     kMarksFile,
                         "events.0.store", "events.1.store", kCodeRangesFile};
  for (int i = 0; i < 60; ++i) {
    const std::string p = copy("flip");
    const std::string file = p + "/" + files[rng() % std::size(files)];
    const uint64_t size = testing::FileSize(file);
    for (int k = 0; k < 4; ++k) {
      const uint64_t byte =
          i % 2 ? rng() % std::min<uint64_t>(size, 4096)
                : format::kStoreHeaderBytes +
                      rng() % (size > format::kStoreHeaderBytes
                                   ? size - format::kStoreHeaderBytes
                                   : 1);
      if (byte < size)
        testing::FlipBit(file, byte, static_cast<int>(rng() % 8));
    }
    auto db = testing::OpenDb();
    QueryAll(db.get(), p);
  }
}

}  // namespace
}  // namespace tracestore
