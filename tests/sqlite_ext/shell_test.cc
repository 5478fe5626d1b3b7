// The loadable extension in the stock sqlite3 shell: `.load` finds it by
// file name, its tables answer what the store holds (read directly through
// TraceReader), and bad paths are errors, not crashes.

#include "../tracestore/test_util.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sql_test_util.h"
#include "tracestore/event_scan.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"

namespace tracestore {
namespace {

using ::testing::HasSubstr;
using testing::ScratchDir;

// The module path without its ".so": the shell adds it, and derives the
// entry point from the name.
std::string ModuleStem() {
  std::string m = TRACESTORE_SQLITE_MODULE;
  if (m.size() > 3 && m.compare(m.size() - 3, 3, ".so") == 0)
    m.resize(m.size() - 3);
  return m;
}

// Runs `script` (dot-commands and SQL) in the sqlite3 shell.
int Shell(const ScratchDir& dir, const std::string& script, std::string* out,
          std::string* err = nullptr) {
  testing::WriteFile(dir / "script.sql", script);
  std::string env;
  if (std::string(ASAN_RUNTIME).size() > 0)
    env = absl::StrCat("LD_PRELOAD=", ASAN_RUNTIME,
                       " ASAN_OPTIONS=detect_leaks=0 ");
  return testing::Run(
      absl::StrCat(env, SQLITE3_SHELL, " -batch -bail :memory: < ",
                   dir / "script.sql"),
      out, err);
}

class ShellTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TreeOptions o;
    o.threads = 3;
    o.slices_per_thread = 2000;
    tree_ = std::make_unique<testing::TreeWriter>(dir_ / "t.trace", o);
    // Code ranges for functions 1 and 2 (two for 2), none for the rest.
    tree_->writer().AddCodeRange(1, 0x7f0000001000, 64);
    tree_->writer().AddCodeRange(2, 0x7f0000001040, 64);
    tree_->writer().AddCodeRange(2, 0x7f0000200000, 4096);
    tree_->WriteAllAndClose();
    path_ = dir_ / "t.trace";
    auto r = TraceReader::Open(path_);
    ASSERT_TRUE(r.ok());
    reader_ = *std::move(r);
  }
  std::string Load() { return ".load " + ModuleStem() + "\n"; }

  ScratchDir dir_;
  std::string path_;
  std::unique_ptr<testing::TreeWriter> tree_;
  std::unique_ptr<TraceReader> reader_;
};

TEST_F(ShellTest, CountsMatchTheStore) {
  std::string out, err;
  const std::string p = "'" + path_ + "'";
  ASSERT_EQ(Shell(dir_,
                  Load() + "SELECT count(*) FROM tracestore_events(" + p +
                      ");\n"
                      "SELECT count(*) FROM tracestore_calls(" +
                      p +
                      ");\n"
                      "SELECT count(*) FROM tracestore_functions(" +
                      p +
                      ");\n"
                      "SELECT count(*) FROM tracestore_threads(" +
                      p +
                      ");\n"
                      "SELECT count(*) FROM tracestore_marks(" +
                      p +
                      ");\n"
                      "SELECT thread_id, count(*), sum(function_id), max(ts)"
                      " FROM tracestore_events(" +
                      p + ") GROUP BY 1;\n",
                  &out, &err),
            0)
      << err;
  std::vector<std::string> want = {absl::StrCat(reader_->total_events()),
                                   absl::StrCat(tree_->slices().size()),
                                   absl::StrCat(reader_->functions().size()),
                                   absl::StrCat(reader_->threads().size()),
                                   absl::StrCat(reader_->marks().size())};
  for (uint32_t t = 0; t < reader_->threads().size(); ++t) {
    uint64_t sum = 0;
    auto ev = reader_->events(t);
    for (const auto& e : ev) sum += e.function;
    want.push_back(absl::StrCat(t, "|", ev.size(), "|", sum, "|",
                                reader_->ToNs(format::EventTicks(ev.back()))));
  }
  EXPECT_EQ(out, absl::StrJoin(want, "\n") + "\n");
}

TEST_F(ShellTest, RowsMatchTheStore) {
  std::string out, err;
  const uint64_t lo = MakeRowId(1, 100), hi = MakeRowId(1, 400);
  ASSERT_EQ(Shell(dir_,
                  Load() + absl::StrCat("SELECT id, ts, kind, function_id FROM "
                                        "tracestore_events('",
                                        path_, "') WHERE id >= ", lo,
                                        " AND id < ", hi, ";\n"),
                  &out, &err),
            0)
      << err;
  std::vector<std::string> want;
  auto ev = reader_->events(1);
  for (uint64_t i = 100; i < 400; ++i) {
    const auto& e = ev[i];
    want.push_back(
        absl::StrCat(MakeRowId(1, i), "|", reader_->ToNs(format::EventTicks(e)),
                     "|", std::string(EventKindName(format::GetEventKind(e))),
                     "|", e.function == 0 ? "" : absl::StrCat(e.function)));
  }
  EXPECT_EQ(out, absl::StrJoin(want, "\n") + "\n");
}

TEST_F(ShellTest, FunctionSlots) {
  std::string out, err;
  ASSERT_EQ(Shell(dir_,
                  Load() +
                      "SELECT id, slot_begin, slot_end,"
                      " slot_begin IS NULL FROM tracestore_functions('" +
                      path_ + "') WHERE id <= 3;\n",
                  &out, &err),
            0)
      << err;
  EXPECT_EQ(out,
            absl::StrCat("1|", 0x7f0000001000, "|", 0x7f0000001040, "|0\n2|",
                         0x7f0000001040, "|", 0x7f0000001080, "|0\n3|||1\n"));
}

TEST_F(ShellTest, ExplicitEntryPointAndPlan) {
  std::string out, err;
  ASSERT_EQ(
      Shell(dir_,
            ".load " + ModuleStem() +
                " sqlite3_tracestore_init\n"
                "EXPLAIN QUERY PLAN SELECT * FROM tracestore_calls('" +
                path_ + "') WHERE thread_id = 1 AND ts > 5 AND depth = 0;\n",
            &out, &err),
      0)
      << err;
  EXPECT_THAT(out, HasSubstr("VIRTUAL TABLE INDEX"));
  EXPECT_THAT(out, HasSubstr("path= ts> thread_id= depth="));
}

TEST_F(ShellTest, ErrorsAreMessagesNotCrashes) {
  std::string out, err;
  EXPECT_NE(Shell(dir_,
                  Load() + "SELECT * FROM tracestore_calls('" + dir_ / "nope" +
                      "');\n",
                  &out, &err),
            0);
  EXPECT_THAT(err, HasSubstr("No such file"));
  EXPECT_NE(
      Shell(dir_, Load() + "SELECT * FROM tracestore_threads;\n", &out, &err),
      0);
  EXPECT_THAT(err, HasSubstr("needs the trace directory"));
  testing::WriteFile(dir_ / "notatrace", "x");
  EXPECT_NE(Shell(dir_,
                  Load() + "SELECT * FROM tracestore_events('" +
                      dir_ / "notatrace" + "');\n",
                  &out, &err),
            0);
  EXPECT_THAT(err, HasSubstr("is not a trace"));
  EXPECT_NE(
      Shell(dir_,
            Load() + "CREATE VIEW v AS SELECT * FROM tracestore_events('" +
                path_ + "');\nSELECT * FROM v;\n",
            &out, &err),
      0);
  EXPECT_THAT(err, HasSubstr("unsafe use"));
}

// A damaged trace in the shell: by default the tables answer from what
// could be read and tracestore_problems(path) says what is wrong; in strict
// mode (tracestore_strict(1)) the same query is an error naming it.
TEST_F(ShellTest, DamagedTraceProblemsAndStrictMode) {
  std::string out, err;
  // Sound: no problems, and strict mode changes nothing.
  ASSERT_EQ(Shell(dir_,
                  Load() + "SELECT count(*) FROM tracestore_problems('" +
                      path_ + "');\nSELECT tracestore_strict(1);\n"
                      "SELECT count(*) > 0 FROM tracestore_events('" + path_ +
                      "');\n",
                  &out, &err),
            0)
      << err;
  EXPECT_EQ(out, "0\n0\n1\n");
  // A flipped byte in sealed chunk 2 of thread 0's events.
  testing::FlipBit(path_ + "/" + EventsFileName(0),
                   format::kStoreHeaderBytes + 2 * 4096 + 12, 0);
  ASSERT_EQ(Shell(dir_,
                  Load() + "SELECT count(*) > 0 FROM tracestore_events('" +
                      path_ + "');\nSELECT kind, message FROM "
                      "tracestore_problems('" + path_ + "');\n",
                  &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("1\nchecksum|"));
  EXPECT_THAT(out, HasSubstr("events.0.store: checksum mismatch in chunk 2"));
  EXPECT_NE(Shell(dir_,
                  Load() + "SELECT tracestore_strict(1);\n"
                           "SELECT count(*) FROM tracestore_calls('" +
                      path_ + "');\n",
                  &out, &err),
            0);
  EXPECT_THAT(err, HasSubstr("tracestore_calls: the trace is damaged"));
  EXPECT_THAT(err, HasSubstr("checksum mismatch in chunk 2"));
}

}  // namespace
}  // namespace tracestore
