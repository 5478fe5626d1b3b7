// SqliteFileWriter and ExternalSorter (tools/cli), judged by the real
// SQLite: every file they write must pass PRAGMA integrity_check (which
// also checks that each index holds exactly its table's rows, in order)
// and give back, through SQL, exactly the rows written.

#include <sqlite3.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "external_sorter.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sqlite_file_writer.h"
#include "../tracestore/test_util.h"

namespace tracestore::cli {
namespace {

using ::testing::HasSubstr;
using tracestore::testing::ScratchDir;

struct Db {
  explicit Db(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  }
  ~Db() { sqlite3_close(db); }
  // Every row of `sql`, columns joined by '|', NULL as "N".
  std::vector<std::string> Rows(const std::string& sql) {
    std::vector<std::string> rows;
    sqlite3_stmt* s = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < sqlite3_column_count(s); ++i) {
        if (i) row += '|';
        if (sqlite3_column_type(s, i) == SQLITE_NULL) {
          row += 'N';
        } else {
          row += reinterpret_cast<const char*>(sqlite3_column_text(s, i));
        }
      }
      rows.push_back(row);
    }
    EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(s);
    return rows;
  }
  std::string One(const std::string& sql) {
    auto rows = Rows(sql);
    return rows.size() == 1 ? rows[0] : absl::StrCat(rows.size(), " rows");
  }
  sqlite3* db = nullptr;
};

// A table t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT) with an index on k,
// written by the writer; `rows` in id order.
struct Row {
  int64_t id;
  bool k_null;
  int64_t k;
  std::string s;  // "" = NULL
};

void WriteTable(const std::string& path, const std::vector<Row>& rows) {
  auto w = SqliteFileWriter::Create(path);
  ASSERT_TRUE(w.ok()) << w.status();
  auto table = (*w)->NewTable();
  auto index = (*w)->NewIndex();
  SqliteRecord r;
  for (const Row& row : rows) {
    r.Clear();
    r.Null();
    if (row.k_null) {
      r.Null();
    } else {
      r.Int(row.k);
    }
    if (row.s.empty()) {
      r.Null();
    } else {
      r.Text(row.s);
    }
    ASSERT_TRUE(table->Add(row.id, r).ok());
  }
  // The index in SQLite's order: NULLs first, then k, ties by rowid.
  std::vector<const Row*> order;
  for (const Row& row : rows) order.push_back(&row);
  std::stable_sort(order.begin(), order.end(), [](const Row* a, const Row* b) {
    if (a->k_null != b->k_null) return a->k_null;
    return !a->k_null && a->k < b->k;
  });
  for (const Row* row : order) {
    r.Clear();
    if (row->k_null) {
      r.Null();
    } else {
      r.Int(row->k);
    }
    r.Int(row->id);
    ASSERT_TRUE(index->Add(r).ok());
  }
  uint32_t table_root, index_root;
  ASSERT_TRUE(table->Finish(&table_root).ok());
  ASSERT_TRUE(index->Finish(&index_root).ok());
  (*w)->AddSchema({"table", "t", "t", table_root,
                   "CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT)"});
  (*w)->AddSchema({"index", "t_k", "t", index_root, "CREATE INDEX t_k ON t(k)"});
  ASSERT_TRUE((*w)->Close().ok());
}

std::vector<std::string> Expected(const std::vector<Row>& rows) {
  std::vector<std::string> out;
  for (const Row& r : rows)
    out.push_back(absl::StrCat(r.id, "|", r.k_null ? "N" : absl::StrCat(r.k),
                               "|", r.s.empty() ? "N" : r.s));
  return out;
}

void ExpectReadsBack(const std::string& path, const std::vector<Row>& rows) {
  Db db(path);
  EXPECT_EQ(db.One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.Rows("SELECT id, k, s FROM t ORDER BY id"), Expected(rows));
  EXPECT_EQ(db.One("SELECT count(*) FROM t INDEXED BY t_k WHERE k IS NULL"),
            absl::StrCat(std::count_if(rows.begin(), rows.end(),
                                       [](const Row& r) { return r.k_null; })));
}

TEST(SqliteFileWriter, EmptyTableAndIndex) {
  ScratchDir dir;
  const std::string path = dir / "empty.db";
  WriteTable(path, {});
  ExpectReadsBack(path, {});
}

TEST(SqliteFileWriter, EveryIntegerWidthAndNull) {
  ScratchDir dir;
  const std::string path = dir / "ints.db";
  std::vector<int64_t> values = {0, 1, -1, 2, 127, 128, -128, -129, 32767,
                                 32768, -32769, (1 << 23) - 1, 1 << 23,
                                 int64_t{1} << 31, -(int64_t{1} << 31) - 1,
                                 (int64_t{1} << 47) - 1, int64_t{1} << 47,
                                 std::numeric_limits<int64_t>::max(),
                                 std::numeric_limits<int64_t>::min()};
  std::vector<Row> rows;
  int64_t id = std::numeric_limits<int64_t>::min();  // rowids may be negative
  for (int64_t v : values) rows.push_back({id++, false, v, "x"});
  rows.push_back({-5, true, 0, ""});
  rows.push_back({0, false, 7, ""});
  rows.push_back({std::numeric_limits<int64_t>::max(), true, 0, "last"});
  WriteTable(path, rows);
  ExpectReadsBack(path, rows);
  Db db(path);
  EXPECT_EQ(db.One(absl::StrCat("SELECT id FROM t WHERE k = ",
                                std::numeric_limits<int64_t>::min())),
            absl::StrCat(std::numeric_limits<int64_t>::min() + 18));
}

TEST(SqliteFileWriter, ManyRowsMakeSeveralLevels) {
  // 600,000 rows: index leaves hold about 700 entries, table leaves about
  // 400 rows, so both b-trees get three levels.
  ScratchDir dir;
  const std::string path = dir / "many.db";
  std::mt19937_64 rng(7);
  std::vector<Row> rows;
  int64_t id = 0;
  for (int i = 0; i < 600000; ++i) {
    id += 1 + static_cast<int64_t>(rng() % 3);
    const bool null = rng() % 50 == 0;
    rows.push_back({id, null, static_cast<int64_t>(rng() % 5000) - 100,
                    i % 7 == 0 ? std::string(rng() % 20, 'a' + i % 26) : ""});
  }
  WriteTable(path, rows);
  ExpectReadsBack(path, rows);
  Db db(path);
  EXPECT_EQ(db.One("SELECT count(*) FROM t INDEXED BY t_k WHERE k = 42"),
            db.One("SELECT count(*) FROM t NOT INDEXED WHERE k = 42"));
  EXPECT_EQ(db.One("SELECT sum(id) FROM t INDEXED BY t_k WHERE k BETWEEN 10 "
                   "AND 900"),
            db.One("SELECT sum(id) FROM t NOT INDEXED WHERE k BETWEEN 10 "
                   "AND 900"));
}

TEST(SqliteFileWriter, LongRowsOverflow) {
  // Around every boundary of SQLite's local payload: the largest row kept
  // whole on its page, the first that overflows, overflow chains of one
  // page, of one byte more, and of many pages.
  ScratchDir dir;
  const std::string path = dir / "long.db";
  std::vector<Row> rows;
  int64_t id = 1;
  for (size_t n : {size_t{1}, size_t{4000}, size_t{8140}, size_t{8150},
                   size_t{8151}, size_t{8152}, size_t{8153}, size_t{8200},
                   size_t{9190}, size_t{16372}, size_t{16373}, size_t{16400},
                   size_t{100000}, size_t{1} << 20}) {
    for (size_t d = 0; d < 3; ++d) {
      std::string s(n + d, 'a');
      for (size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<char>('a' + (i * 7 + d) % 26);
      rows.push_back({id++, false, static_cast<int64_t>(n), s});
    }
  }
  WriteTable(path, rows);
  ExpectReadsBack(path, rows);
}

// Table b-trees: 4 rows of 2 KB a leaf, and leaf counts around what an
// interior page holds (about 1,020), so that some last interior page would
// get only one child (and no cell) unless the writer rebalances.
TEST(SqliteFileWriter, NoInteriorTablePageIsEmpty) {
  ScratchDir dir;
  for (int leaves = 1016; leaves <= 1030; ++leaves) {
    const std::string path = dir / absl::StrCat("t", leaves, ".db");
    std::vector<Row> rows;
    for (int i = 1; i <= 4 * leaves; ++i)
      rows.push_back({i, false, i % 3, std::string(2000, 'a' + i % 26)});
    WriteTable(path, rows);
    Db db(path);
    ASSERT_EQ(db.One("PRAGMA integrity_check"), "ok") << leaves;
    ASSERT_EQ(db.One("SELECT count(*), sum(length(s)) FROM t"),
              absl::StrCat(rows.size(), "|", 2000 * rows.size()));
  }
}

// Index b-trees keep each record once, the dividers in the interior pages:
// with 1.5 KB records a page holds five, so every shape of the last pages
// comes up among a few hundred records.
TEST(SqliteFileWriter, IndexesOfLongRecordsAtEverySize) {
  ScratchDir dir;
  for (int n = 0; n <= 160; ++n) {
    const std::string path = dir / absl::StrCat("i", n, ".db");
    auto w = SqliteFileWriter::Create(path);
    ASSERT_TRUE(w.ok());
    auto table = (*w)->NewTable();
    auto index = (*w)->NewIndex();
    SqliteRecord r;
    auto text = [](int i) {
      return absl::StrCat(absl::Dec(i, absl::kZeroPad4), std::string(1500, 'x'));
    };
    for (int i = 1; i <= n; ++i) {
      r.Clear();
      r.Null();
      r.Text(text(i));
      ASSERT_TRUE(table->Add(i, r).ok());
      r.Clear();
      r.Text(text(i));
      r.Int(i);
      ASSERT_TRUE(index->Add(r).ok());
    }
    uint32_t t, i;
    ASSERT_TRUE(table->Finish(&t).ok());
    ASSERT_TRUE(index->Finish(&i).ok());
    (*w)->AddSchema({"table", "t", "t", t,
                     "CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT)"});
    (*w)->AddSchema({"index", "t_s", "t", i, "CREATE INDEX t_s ON t(s)"});
    ASSERT_TRUE((*w)->Close().ok());
    Db db(path);
    ASSERT_EQ(db.One("PRAGMA integrity_check"), "ok") << n;
    ASSERT_EQ(db.One(absl::StrCat("SELECT count(*) FROM t INDEXED BY t_s "
                                  "WHERE s >= '0050'")),
              absl::StrCat(std::max(0, n - 49)))
        << n;
  }
}

TEST(SqliteFileWriter, SqliteExtendsTheFile) {
  ScratchDir dir;
  const std::string path = dir / "extend.db";
  std::vector<Row> rows;
  for (int i = 1; i <= 5000; ++i) rows.push_back({i, false, i % 10, "v"});
  WriteTable(path, rows);
  {
    Db db(path);
    ASSERT_EQ(sqlite3_exec(db.db,
                           "CREATE TABLE u(a); INSERT INTO u VALUES (1), (2);"
                           " INSERT INTO t(k, s) VALUES (99, 'new');"
                           " CREATE INDEX t_s ON t(s);",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db.db);
  }
  Db db(path);
  EXPECT_EQ(db.One("PRAGMA integrity_check"), "ok");
  EXPECT_EQ(db.One("SELECT id, k FROM t WHERE s = 'new'"), "5001|99");
  EXPECT_EQ(db.One("SELECT count(*) FROM u"), "2");
}

TEST(SqliteFileWriter, RowsOutOfOrderAreRefused) {
  ScratchDir dir;
  auto w = SqliteFileWriter::Create(dir / "bad.db");
  ASSERT_TRUE(w.ok());
  auto table = (*w)->NewTable();
  SqliteRecord r;
  r.Int(1);
  ASSERT_TRUE(table->Add(5, r).ok());
  absl::Status s = table->Add(5, r);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("out of order or repeated"));
  EXPECT_FALSE(table->Add(4, r).ok());
}

TEST(SqliteFileWriter, UnwritableDirectoryIsAnError) {
  auto w = SqliteFileWriter::Create("/nonexistent-dir/x.db");
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("cannot create"));
}

struct Entry {
  unsigned __int128 bits;
  bool operator<(const Entry& o) const { return bits < o.bits; }
};

template <class Sort>
std::vector<Entry> SortAll(const std::vector<Entry>& in, size_t budget) {
  ScratchDir dir;
  ExternalSorter<Entry, Sort> sorter(dir.path(), budget);
  for (const Entry& e : in) EXPECT_TRUE(sorter.Add(e).ok());
  EXPECT_EQ(sorter.size(), in.size());
  std::vector<Entry> out;
  EXPECT_TRUE(sorter.Drain([&](const Entry& e) {
                      out.push_back(e);
                      return true;
                    })
                  .ok());
  return out;
}

TEST(ExternalSorter, SpilledRunsMergeToTheSortedWhole) {
  std::mt19937_64 rng(3);
  // Inputs: random; ordered by the low half with the high half in few
  // values (an index's entries); a few ascending runs; descending.
  std::vector<std::vector<Entry>> inputs(4);
  for (uint64_t i = 0; i < 100000; ++i) {
    inputs[0].push_back({(static_cast<unsigned __int128>(rng()) << 64) | rng()});
    inputs[1].push_back(
        {(static_cast<unsigned __int128>(rng() % 300) << 64) | i});
    inputs[2].push_back(
        {(static_cast<unsigned __int128>(i % 25000) << 64) | (i / 25000)});
    inputs[3].push_back({static_cast<unsigned __int128>(100000 - i) << 64});
  }
  for (const auto& in : inputs) {
    std::vector<Entry> want = in;
    std::sort(want.begin(), want.end());
    // In memory, and spilled to many runs (16 KiB: 1,024 entries a run).
    for (size_t budget : {size_t{64} << 20, size_t{16} << 10}) {
      auto a = SortAll<StdSort>(in, budget);
      auto b = SortAll<RadixSortByHigh>(in, budget);
      ASSERT_EQ(a.size(), want.size());
      ASSERT_EQ(b.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        ASSERT_TRUE(a[i].bits == want[i].bits) << i;
        ASSERT_TRUE(b[i].bits == want[i].bits) << i;
      }
    }
  }
}

TEST(ExternalSorter, UnwritableTempDirIsAnError) {
  ExternalSorter<Entry> sorter("/nonexistent-dir", 16 * sizeof(Entry));
  absl::Status s;
  for (int i = 0; i < 16 && s.ok(); ++i) s = sorter.Add({0});
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("temporary file"));
}

}  // namespace
}  // namespace tracestore::cli
