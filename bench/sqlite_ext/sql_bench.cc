// SQL over a trace, beside SQLite scanning the same data copied into regular
// tables, in one run:
//
//   BM_CountEvents      SELECT count(*) FROM events (vtab_cold: a new
//                       connection each time, so the trace is opened and
//                       every sealed chunk's checksum verified each time)
//   BM_SumTs            SELECT sum(ts) FROM events (reads a column per row)
//   BM_TsRange1pct      count(*), sum(function_id) over a ts window holding
//                       1 % of the events (vtab: binary search per thread;
//                       table: a full scan, and a scan of an index on ts)
//   BM_Top20SelfTime    the 20 functions with the most self time, from
//                       calls (vtab warm: the connection has built the
//                       slices; vtab_cold: a new connection each time,
//                       slices and function index built from the events)
//
// Each row reports wall time per query and rows/s (rows the query selects:
// all events, the 1 % window, or all calls). The trace (default 10 M events,
// 4 threads, a call tree over 1000 functions) is generated once per process
// in $TRACESTORE_BENCH_DIR, else $TMPDIR, else /tmp, and removed at exit;
// the baseline tables live in an in-memory database.
//
//   build/bin/sql_bench                     # 10 M events
//   build/bin/sql_bench --events=200000     # the quick ctest smoke run

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"

namespace tracestore {
namespace {

using format::EventKind;

uint64_t g_events = 10'000'000;
constexpr uint32_t kThreads = 4;
constexpr uint32_t kFunctions = 1000;

std::string BenchDir() {
  if (const char* d = std::getenv("TRACESTORE_BENCH_DIR")) return d;
  if (const char* t = std::getenv("TMPDIR")) return t;
  return "/tmp";
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sql_bench: %s\n", what.c_str());
  std::exit(1);
}

// A call tree like a program's: a skewed choice among 1000 functions (a few
// are hot), depth up to 40, some C calls, some line events.
class TreeGen {
 public:
  TreeGen(EventWriter* w, uint64_t seed) : w_(w), rng_(seed) {}
  void Run(uint64_t events) {
    while (w_->count() < events) Call(0, events);
  }

 private:
  uint32_t PickFunction() {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return 1 + static_cast<uint32_t>(kFunctions * u * u * u) % kFunctions;
  }
  void Tick() { now_ += 5 + rng_() % 200; }
  void Call(uint32_t depth, uint64_t limit) {
    const uint32_t fn = PickFunction();
    const bool c_call = rng_() % 10 == 0;
    Tick();
    w_->AppendAt(now_, c_call ? EventKind::kCCall : EventKind::kCall, fn,
                 static_cast<uint32_t>(rng_() % 300));
    if (!c_call) {
      while (depth < 40 && w_->count() < limit && rng_() % 100 < 62) {
        if (rng_() % 4 == 0) {
          Tick();
          w_->AppendAt(now_, EventKind::kLine, fn,
                       static_cast<uint32_t>(rng_() % 300));
        }
        Call(depth + 1, limit);
      }
    }
    Tick();
    w_->AppendAt(now_, c_call ? EventKind::kCReturn : EventKind::kReturn, fn,
                 static_cast<uint32_t>(rng_() % 300));
  }

  EventWriter* w_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Db OpenDb() {
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) Die("sqlite3_open");
  if (sql::RegisterTables(db) != SQLITE_OK) Die(sqlite3_errmsg(db));
  return Db(db);
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK)
    Die(absl::StrCat(sql, ": ", error ? error : "?"));
}

int64_t Int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    Die(absl::StrCat(sql, ": ", sqlite3_errmsg(db)));
  int64_t v =
      sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  return v;
}

// The trace, the connection, the baseline tables: built once.
struct Data {
  std::string dir, trace;
  Db db;
  int64_t events = 0, calls = 0, window_rows = 0;
  int64_t ts_lo = 0, ts_hi = 0;

  Data() {
    dir = absl::StrCat(BenchDir(), "/sql_bench.", ::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    trace = dir + "/bench.trace";
    std::fprintf(stderr, "sql_bench: writing %llu events to %s ...\n",
                 static_cast<unsigned long long>(g_events), trace.c_str());
    {
      TraceOptions o;
      o.path = trace;
      o.quiet = true;
      auto w = TraceWriter::Create(o);
      if (!w.ok()) Die(w.status().ToString());
      for (uint32_t f = 0; f < kFunctions; ++f) {
        const std::string module = absl::StrCat("app.module", f % 37);
        const std::string name = absl::StrCat("Handler", f % 11, ".step_", f);
        (*w)->AddFunction({module, name, "/src/" + module + ".py", f * 7 + 1});
      }
      for (uint32_t t = 0; t < kThreads; ++t) {
        EventWriter* ew =
            (*w)->StartThread(100 + t, absl::StrCat("worker-", t));
        TreeGen(ew, t + 1).Run(g_events / kThreads);
        (*w)->EndThread(ew);
      }
      if (!(*w)->Close().ok()) Die("close");
    }
    db = OpenDb();
    const std::string p = "'" + trace + "'";
    events = Int(db.get(), "SELECT count(*) FROM tracestore_events(" + p + ")");
    calls = Int(db.get(), "SELECT count(*) FROM tracestore_calls(" + p + ")");
    const int64_t end =
        Int(db.get(), "SELECT max(ts) FROM tracestore_events(" + p + ")");
    ts_lo = end / 2;
    ts_hi = ts_lo + end / 100;
    window_rows = Int(
        db.get(), absl::StrCat("SELECT count(*) FROM tracestore_events(", p,
                               ") WHERE ts BETWEEN ", ts_lo, " AND ", ts_hi));
    std::fprintf(stderr,
                 "sql_bench: %lld events, %lld calls; copying into regular "
                 "tables ...\n",
                 static_cast<long long>(events), static_cast<long long>(calls));
    Exec(
        db.get(),
        "CREATE TABLE events_t(id INTEGER PRIMARY KEY, thread_id INTEGER,"
        " ts INTEGER, kind TEXT, function_id INTEGER, line INTEGER,"
        " mark_id INTEGER);"
        "INSERT INTO events_t SELECT * FROM tracestore_events(" +
            p +
            ");"
            "CREATE INDEX events_ts ON events_t(ts);"
            "CREATE TABLE calls_t(id INTEGER PRIMARY KEY, thread_id INTEGER,"
            " depth INTEGER, parent_id INTEGER, function_id INTEGER, name TEXT,"
            " module TEXT, file TEXT, line INTEGER, call_line INTEGER,"
            " ts INTEGER, dur INTEGER, self_dur INTEGER,"
            " starts_before_window INTEGER, kind TEXT, recursive INTEGER);"
            "INSERT INTO calls_t SELECT * FROM tracestore_calls(" +
            p + ");");
  }
  ~Data() {
    db.reset();
    std::filesystem::remove_all(dir);
  }
};

Data* g_data = nullptr;  // deleted (and the trace removed) by main

Data& GetData() {
  if (g_data == nullptr) g_data = new Data();
  return *g_data;
}

// Runs `sql` (with %P = the quoted trace path, %LO/%HI = the window) once
// per iteration on `db`; `rows` is what the query selects.
void RunQuery(benchmark::State& state, sqlite3* db, std::string sql,
              int64_t rows) {
  Data& d = GetData();
  auto subst = [&](const std::string& key, const std::string& value) {
    for (size_t at; (at = sql.find(key)) != std::string::npos;)
      sql.replace(at, key.size(), value);
  };
  subst("%P", "'" + d.trace + "'");
  subst("%LO", absl::StrCat(d.ts_lo));
  subst("%HI", absl::StrCat(d.ts_hi));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    Die(absl::StrCat(sql, ": ", sqlite3_errmsg(db)));
  int64_t sink = 0;
  for (auto _ : state) {
    while (sqlite3_step(stmt) == SQLITE_ROW)
      sink += sqlite3_column_int64(stmt, 0);
    sqlite3_reset(stmt);
  }
  benchmark::DoNotOptimize(sink);
  sqlite3_finalize(stmt);
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows"] = static_cast<double>(rows);
}

// A new connection per query: open (maps, verifies each sealed chunk's
// checksum) + scan.
void BM_CountEventsCold(benchmark::State& state) {
  Data& d = GetData();
  const std::string sql =
      "SELECT count(*) FROM tracestore_events('" + d.trace + "')";
  int64_t sink = 0;
  for (auto _ : state) {
    Db db = OpenDb();
    sink += Int(db.get(), sql);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * d.events);
  state.counters["rows"] = static_cast<double>(d.events);
}

void BM_CountEvents(benchmark::State& state, bool vtab) {
  Data& d = GetData();
  RunQuery(state, d.db.get(),
           vtab ? "SELECT count(*) FROM tracestore_events(%P)"
                : "SELECT count(*) FROM events_t",
           d.events);
}

void BM_SumTs(benchmark::State& state, bool vtab) {
  Data& d = GetData();
  RunQuery(state, d.db.get(),
           vtab ? "SELECT sum(ts) FROM tracestore_events(%P)"
                : "SELECT sum(ts) FROM events_t",
           d.events);
}

void BM_TsRange1pct(benchmark::State& state, int variant) {
  Data& d = GetData();
  const char* from[] = {"tracestore_events(%P)", "events_t NOT INDEXED",
                        "events_t INDEXED BY events_ts"};
  RunQuery(state, d.db.get(),
           absl::StrCat("SELECT count(*), sum(function_id) FROM ",
                        from[variant], " WHERE ts BETWEEN %LO AND %HI"),
           d.window_rows);
}

constexpr char kTop20[] =
    "SELECT * FROM (SELECT function_id, sum(self_dur) AS self FROM %T"
    " GROUP BY function_id) ORDER BY self DESC LIMIT 20";

void BM_Top20SelfTime(benchmark::State& state, int variant) {
  Data& d = GetData();
  std::string sql = kTop20;
  sql.replace(sql.find("%T"), 2,
              variant == 2 ? "calls_t" : "tracestore_calls(%P)");
  if (variant != 1) {
    RunQuery(state, d.db.get(), sql, d.calls);
    return;
  }
  // Cold: a new connection per query builds the slices and the index.
  sql.replace(sql.find("%P"), 2, "'" + d.trace + "'");
  int64_t sink = 0;
  for (auto _ : state) {
    Db db = OpenDb();
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr) !=
        SQLITE_OK)
      Die(sqlite3_errmsg(db.get()));
    while (sqlite3_step(stmt) == SQLITE_ROW)
      sink += sqlite3_column_int64(stmt, 1);
    sqlite3_finalize(stmt);
  }
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * d.calls);
  state.counters["rows"] = static_cast<double>(d.calls);
}

void Register() {
  auto reg = [](const std::string& name, auto fn, auto arg) {
    benchmark::RegisterBenchmark(name.c_str(), fn, arg)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  };
  reg("BM_CountEvents/vtab", BM_CountEvents, true);
  reg("BM_CountEvents/table", BM_CountEvents, false);
  benchmark::RegisterBenchmark("BM_CountEvents/vtab_cold", BM_CountEventsCold)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  reg("BM_SumTs/vtab", BM_SumTs, true);
  reg("BM_SumTs/table", BM_SumTs, false);
  reg("BM_TsRange1pct/vtab", BM_TsRange1pct, 0);
  reg("BM_TsRange1pct/table_scan", BM_TsRange1pct, 1);
  reg("BM_TsRange1pct/table_ts_index", BM_TsRange1pct, 2);
  reg("BM_Top20SelfTime/vtab", BM_Top20SelfTime, 0);
  reg("BM_Top20SelfTime/vtab_cold", BM_Top20SelfTime, 1);
  reg("BM_Top20SelfTime/table", BM_Top20SelfTime, 2);
}

}  // namespace
}  // namespace tracestore

int main(int argc, char** argv) {
  // Our own flag first: --events=N (the smoke test uses a small trace).
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strncmp(argv[i], "--events=", 9) == 0) {
      tracestore::g_events = std::strtoull(argv[i] + 9, nullptr, 10);
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  tracestore::Register();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete tracestore::g_data;  // removes the trace
  return 0;
}
