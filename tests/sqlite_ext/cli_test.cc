// `tracestore query` (table, CSV, JSON, errors) and `tracestore export
// --format sqlite` (opened with the sqlite3 shell and compared).

#include <filesystem>

#include "../tracestore/test_util.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/trace_reader.h"

namespace tracestore {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;
using testing::ShellQuote;
using ::testing::StartsWith;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TreeOptions o;
    o.threads = 2;
    o.slices_per_thread = 500;
    tree_ = std::make_unique<testing::TreeWriter>(dir_ / "t.trace", o);
    // Code ranges (stack mode's slots) for functions 1 and 3 only.
    tree_->writer().AddCodeRange(1, 0x7f0000001000, 64);
    tree_->writer().AddCodeRange(3, 0x7f0000001080, 64);
    tree_->WriteAllAndClose();
    path_ = dir_ / "t.trace";
  }
  int Cli(const std::string& args, std::string* out,
          std::string* err = nullptr) {
    return testing::Run(absl::StrCat(TRACESTORE_CLI, " ", args), out, err);
  }
  int Query(const std::string& options, const std::string& sql,
            std::string* out, std::string* err = nullptr) {
    return Cli(absl::StrCat("query ", ShellQuote(path_), " ", options, " ",
                            ShellQuote(sql)),
               out, err);
  }

  // The exported calls, profile and events tables hold what the live
  // tables give, column for column (sums over every column), and SQLite
  // finds the file intact, every index matching its table.
  void ExpectExportMatchesQuery(const std::string& db) {
    std::string exported, queried;
    ASSERT_EQ(testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch ", db,
                                        " 'PRAGMA integrity_check'"),
                           &exported),
              0);
    EXPECT_EQ(exported, "ok\n");
    for (const char* sql :
         {"SELECT count(*), sum(id), sum(thread_id), sum(depth),"
          " sum(coalesce(parent_id, -1)), sum(function_id), sum(length(name)),"
          " sum(length(module)), sum(length(file)), sum(line), sum(call_line),"
          " sum(ts), sum(coalesce(dur, -1)), sum(coalesce(self_dur, -1)),"
          " group_concat(DISTINCT kind), sum(recursive) FROM calls",
          "SELECT count(*), sum(function_id), sum(length(name)), sum(calls),"
          " sum(resumes), sum(open), sum(total_dur), sum(self_dur),"
          " sum(length(file)), sum(line) FROM profile",
          "SELECT count(*), sum(id), sum(ts), sum(length(kind)),"
          " sum(coalesce(function_id, -1)), sum(coalesce(line, -1)),"
          " sum(coalesce(mark_id, -1)) FROM events"}) {
      ASSERT_EQ(testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch -csv ", db,
                                          " ", ShellQuote(sql)),
                             &exported),
                0);
      ASSERT_EQ(Query("--csv", sql, &queried), 0);
      std::vector<std::string> rows = absl::StrSplit(queried, "\r\n");
      ASSERT_GE(rows.size(), 2u);
      EXPECT_EQ(absl::StrReplaceAll(exported, {{"\r\n", "\n"}}), rows[1] + "\n")
          << sql;
    }
  }

  ScratchDir dir_;
  std::string path_;
  std::unique_ptr<testing::TreeWriter> tree_;
};

TEST_F(CliTest, QueryTable) {
  std::string out, err;
  ASSERT_EQ(Query("",
                  "SELECT id, name, module, dur IS NULL AS open FROM calls "
                  "WHERE thread_id = 0 ORDER BY id LIMIT 3",
                  &out, &err),
            0)
      << err;
  std::vector<std::string> lines = absl::StrSplit(out, '\n');
  ASSERT_EQ(lines.size(), 7u) << out;  // header, rule, 3 rows, count, ""
  EXPECT_THAT(lines[0], StartsWith("id  name"));
  EXPECT_THAT(lines[1], StartsWith("--  ----"));
  EXPECT_THAT(lines[2], StartsWith(" 0  Class"));
  EXPECT_EQ(lines[5], "(3 rows)");
  // Columns line up: every line puts "module"'s column at the same place.
  const size_t col = lines[0].find("module");
  for (int i = 2; i < 5; ++i) EXPECT_EQ(lines[i].substr(col, 7), "pkg.mod");

  ASSERT_EQ(
      Query("", "SELECT count(*) AS n FROM events; SELECT NULL AS x", &out), 0);
  auto reader = TraceReader::Open(path_);
  ASSERT_TRUE(reader.ok());
  EXPECT_THAT(out,
              HasSubstr(absl::StrCat((*reader)->total_events(), "\n(1 row)")));
  EXPECT_THAT(out, HasSubstr("x\n----\nNULL\n(1 row)"));
}

TEST_F(CliTest, QueryCsvAndJson) {
  std::string out;
  ASSERT_EQ(
      Query(
          "--csv",
          "SELECT id, name, 'a,\"b\"' AS q, NULL AS n, 1.5 AS f FROM functions "
          "WHERE id <= 2",
          &out),
      0);
  EXPECT_EQ(out,
            "id,name,q,n,f\r\n"
            "1,Class0.f0,\"a,\"\"b\"\"\",,1.5\r\n"
            "2,Class1.f1,\"a,\"\"b\"\"\",,1.5\r\n");
  ASSERT_EQ(Query("--json",
                  "SELECT id, name, 'q\"\n' AS s, NULL AS n FROM functions "
                  "WHERE id <= 2",
                  &out),
            0);
  EXPECT_EQ(
      out,
      "[\n"
      "{\"id\": 1, \"name\": \"Class0.f0\", \"s\": \"q\\\"\\n\", \"n\": "
      "null},\n"
      "{\"id\": 2, \"name\": \"Class1.f1\", \"s\": \"q\\\"\\n\", \"n\": null}\n"
      "]\n");
  ASSERT_EQ(Query("--json", "SELECT * FROM threads WHERE id > 100", &out), 0);
  EXPECT_EQ(out, "[]\n");
  // SQL from stdin.
  ASSERT_EQ(
      testing::Run(absl::StrCat("echo 'SELECT count(*) FROM threads' | ",
                                TRACESTORE_CLI, " query ", path_, " --csv -"),
                   &out),
      0);
  EXPECT_EQ(out, "count(*)\r\n2\r\n");
}

TEST_F(CliTest, QueryErrors) {
  std::string out, err;
  EXPECT_EQ(Query("", "SELECT nope FROM calls", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("no such column: nope"));
  EXPECT_EQ(Query("", "SELECT * FROM slices", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("no such table: slices"));
  EXPECT_EQ(Query("", "SELEC 1", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("syntax error"));
  EXPECT_EQ(Query("", "", &out, &err), 2);
  EXPECT_EQ(Query("--xml", "SELECT 1", &out, &err), 2);
  EXPECT_EQ(Cli("query " + dir_ / "nope" + " 'SELECT 1'", &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("No such file"));
  EXPECT_EQ(Cli("query", &out, &err), 2);
  EXPECT_EQ(Query("", "DELETE FROM calls", &out, &err), 2);
  // A statement that fails while it runs prints only its error: no header,
  // no "(0 rows)", in every output format.
  for (const char* format : {"", "--csv", "--json"}) {
    EXPECT_EQ(Query(format,
                    "SELECT name, abs(-9223372036854775807 - depth - 1) AS x"
                    " FROM calls",
                    &out, &err),
              2)
        << format;
    EXPECT_THAT(err, HasSubstr("integer overflow")) << format;
    EXPECT_EQ(out, "") << format;
  }
  // Statements before the failing one keep their output.
  EXPECT_EQ(Query("", "SELECT 1 AS one; SELECT nope FROM calls", &out, &err),
            2);
  EXPECT_EQ(out, "one\n---\n  1\n(1 row)\n");
}

TEST_F(CliTest, ExportSqlite) {
  std::string out, err;
  const std::string db = dir_ / "out.db";
  ASSERT_EQ(Cli(absl::StrCat("export --format sqlite ", path_, " -o ", db),
                &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("wrote " + db));
  // Same counts and contents as the live tables.
  std::string exported, queried;
  ASSERT_EQ(
      testing::Run(
          absl::StrCat(
              SQLITE3_SHELL, " -batch ", db,
              " 'SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM "
              "events), (SELECT count(*) FROM functions), (SELECT count(*) "
              "FROM threads), (SELECT count(*) FROM marks), (SELECT sum(dur) "
              "FROM calls), (SELECT value FROM trace_info WHERE key = "
              "\"command_line\")'"),
          &exported),
      0);
  ASSERT_EQ(Query("--csv",
                  "SELECT (SELECT count(*) FROM calls), (SELECT count(*) FROM "
                  "events), (SELECT count(*) FROM functions), (SELECT count(*) "
                  "FROM threads), (SELECT count(*) FROM marks), (SELECT "
                  "sum(dur) FROM calls), 'tree.py'",
                  &queried),
            0);
  std::vector<std::string> q = absl::StrSplit(queried, "\r\n");
  ASSERT_GE(q.size(), 2u);
  EXPECT_EQ(exported, absl::StrReplaceAll(q[1], {{",", "|"}}) + "\n");
  EXPECT_THAT(exported,
              StartsWith(absl::StrCat(tree_->slices().size(), "|",
                                      tree_->total_events(), "|40|2|5|")));
  ExpectExportMatchesQuery(db);
  // Indexes exist and are used.
  ASSERT_EQ(
      testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch ", db,
                                " 'EXPLAIN QUERY PLAN SELECT * FROM calls "
                                "WHERE function_id = 3'"),
                   &out),
      0);
  EXPECT_THAT(out, HasSubstr("calls_function"));
  // The functions table has the slot columns, after code_addr, with the
  // values the query tables give (NULL for a function without a range).
  ASSERT_EQ(testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch ", db,
                                      " 'SELECT id, code_addr, slot_begin,"
                                      " slot_end, typeof(slot_end) FROM"
                                      " functions WHERE id <= 3'"),
                         &exported),
            0);
  EXPECT_EQ(exported, absl::StrCat("1|0|", 0x7f0000001000, "|", 0x7f0000001040,
                                   "|integer\n2|0|||null\n3|0|", 0x7f0000001080,
                                   "|", 0x7f00000010c0, "|integer\n"));
  ASSERT_EQ(testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch ", db,
                                      " 'SELECT group_concat(name) FROM"
                                      " pragma_table_info(\"functions\")'"),
                         &out),
            0);
  EXPECT_EQ(out,
            "id,module,name,file,line,is_python,traced,code_addr,slot_begin,"
            "slot_end\n");
  ASSERT_EQ(
      Query("--csv",
            "SELECT id, slot_begin, slot_end FROM functions WHERE id <= 3",
            &queried),
      0);
  EXPECT_EQ(queried,
            absl::StrCat("id,slot_begin,slot_end\r\n1,", 0x7f0000001000, ",",
                         0x7f0000001040, "\r\n2,,\r\n3,", 0x7f0000001080, ",",
                         0x7f00000010c0, "\r\n"));

  // No overwrite without --force; --force replaces.
  EXPECT_EQ(Cli(absl::StrCat("export --format sqlite ", path_, " -o ", db),
                &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("--force"));
  EXPECT_EQ(Cli(absl::StrCat("export --format=sqlite ", path_, " -o ", db,
                             " --force"),
                &out, &err),
            0)
      << err;
  // No temporary file left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path()))
    files += !e.is_directory();
  EXPECT_EQ(files, 1);
}

// A trace big enough that every sorter of the export spills runs to disk
// (400,000 calls; the sorters keep a few MiB each): same rows as the live
// tables, an intact file, and no temporary file left.
TEST_F(CliTest, ExportSqliteBeyondTheSortersMemory) {
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 200000;
  o.seed = 5;
  tree_ = std::make_unique<testing::TreeWriter>(dir_ / "big.trace", o);
  tree_->WriteAllAndClose();
  path_ = dir_ / "big.trace";
  const std::string db = dir_ / "big.db";
  std::string out, err;
  ASSERT_EQ(Cli(absl::StrCat("export --format sqlite ", path_, " -o ", db,
                             " --no-progress"),
                &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr(absl::StrCat(tree_->total_events(), " events")));
  ExpectExportMatchesQuery(db);
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(dir_.path()))
    if (!e.is_directory()) files.push_back(e.path().filename());
  std::sort(files.begin(), files.end());
  EXPECT_THAT(files, ::testing::ElementsAre("big.db"));  // traces are directories
}

TEST(CliLive, ExportOfARunningTrace) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "live.trace", o);
  tree.WriteSlices(0, 300);
  tree.WriteSlices(1, 200);
  tree.Append(1, format::EventKind::kCall, 3, 1);  // still open
  std::string out, err;
  ASSERT_EQ(
      testing::Run(absl::StrCat(TRACESTORE_CLI, " export --format sqlite ",
                                dir / "live.trace", " -o ", dir / "live.db"),
                   &out, &err),
      0)
      << err;
  ASSERT_EQ(
      testing::Run(
          absl::StrCat(
              SQLITE3_SHELL, " -batch ", dir / "live.db",
              " 'SELECT count(*), count(dur) FROM calls; SELECT count(*) FROM "
              "events; SELECT count(*) FROM threads WHERE end_ts IS NULL; "
              "SELECT value FROM trace_info WHERE key = \"state\"'"),
          &out),
      0);
  EXPECT_EQ(out,
            absl::StrCat("501|500\n", tree.total_events(), "\n2\nrecording\n"));
}

TEST_F(CliTest, ExportErrors) {
  std::string out, err;
  // An export never replaces an existing file without --force.
  const std::string chrome =
      absl::StrCat("export --format chrome ", path_, " -o ", dir_ / "x.json");
  EXPECT_EQ(Cli(chrome, &out, &err), 0) << err;
  EXPECT_EQ(Cli(chrome, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("exists"));
  EXPECT_EQ(
      Cli(absl::StrCat("export --format bogus ", path_, " -o ", dir_ / "x"),
          &out, &err),
      2);
  EXPECT_THAT(err, HasSubstr("unknown format"));
  EXPECT_EQ(Cli(absl::StrCat("export --format sqlite ", path_), &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("usage"));
  EXPECT_EQ(Cli(absl::StrCat("export --format sqlite ", dir_ / "nope", " -o ",
                             dir_ / "x.db"),
                &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("No such file"));
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.db"));
}

// The lines table (issue 20): in the exported database with the live
// table's rows; `tracestore lines` on the same trace, whose source files
// (/src/pkg/...) do not exist.
TEST_F(CliTest, LinesExportedAndShown) {
  std::string out, err;
  const std::string db = dir_ / "lines.db";
  ASSERT_EQ(Cli(absl::StrCat("export --format sqlite ", path_, " -o ", db),
                &out, &err),
            0)
      << err;
  const std::string sql =
      "SELECT count(*), sum(hits), sum(time), sum(self_time),"
      " sum(time_in_calls), sum(line * function_id) FROM lines";
  std::string exported, queried;
  ASSERT_EQ(testing::Run(absl::StrCat(SQLITE3_SHELL, " -batch ", db, " ",
                                      ShellQuote(sql)),
                         &exported),
            0);
  ASSERT_EQ(Query("--csv", sql, &queried), 0);
  std::vector<std::string> q = absl::StrSplit(queried, "\r\n");
  ASSERT_GE(q.size(), 2u);
  EXPECT_EQ(exported, absl::StrReplaceAll(q[1], {{",", "|"}}) + "\n");
  // The generator writes line events: there are rows, and hits add up to
  // the line events.
  std::string lines_events;
  ASSERT_EQ(Query("--csv", "SELECT count(*) FROM events WHERE kind = 'line'",
                  &lines_events),
            0);
  std::vector<std::string> n = absl::StrSplit(lines_events, "\r\n");
  ASSERT_GE(n.size(), 2u);
  std::vector<std::string> cols = absl::StrSplit(q[1], ",");
  ASSERT_GE(cols.size(), 2u);
  EXPECT_EQ(cols[1], n[1]);
  EXPECT_NE(cols[0], "0");

  ASSERT_EQ(Cli(absl::StrCat("lines ", path_, " -n 1"), &out, &err), 0) << err;
  EXPECT_THAT(out, StartsWith("Timer unit: 1e-06 s"));
  EXPECT_THAT(out, HasSubstr("(source file not found: /src/pkg/mod"));
  EXPECT_EQ(Cli(absl::StrCat("lines ", path_, " --function 999"), &out, &err),
            2);
  EXPECT_THAT(err, HasSubstr("no function 999 in this trace"));
}

}  // namespace
}  // namespace tracestore
