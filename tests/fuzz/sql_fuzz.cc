// Fuzz target: SQL over a trace built from the input: every table (every
// column of every row), a ts range, a GROUP BY, an indexed lookup, and
// strict mode.

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>

#include "fuzz_trace.h"
#include "sqlite_ext/tracestore_sqlite.h"

namespace {

constexpr const char* kQueries[] = {
    "SELECT * FROM tracestore_calls(?1)",
    "SELECT * FROM tracestore_events(?1)",
    "SELECT * FROM tracestore_functions(?1)",
    "SELECT * FROM tracestore_threads(?1)",
    "SELECT * FROM tracestore_marks(?1)",
    "SELECT * FROM tracestore_problems(?1)",
    "SELECT count(*), min(ts), max(ts) FROM tracestore_events(?1)"
    " WHERE ts BETWEEN 3 AND 100000000",
    "SELECT * FROM tracestore_calls(?1) WHERE ts > 5 AND ts <= 1000000000"
    " AND thread_id = 0 ORDER BY ts",
    "SELECT function_id, count(*), sum(dur), sum(self_dur)"
    " FROM tracestore_calls(?1) GROUP BY function_id",
    "SELECT depth, count(*) FROM tracestore_calls(?1)"
    " WHERE depth BETWEEN 1 AND 4 GROUP BY 1",
    "SELECT count(*) FROM tracestore_events(?1) WHERE function_id = 1",
    "SELECT c.name, p.name FROM tracestore_calls(?1) c"
    " JOIN tracestore_calls(?1) p ON p.id = c.parent_id LIMIT 200",
    "SELECT * FROM tracestore_lines(?1)",
    "SELECT line, hits, time FROM tracestore_lines(?1) WHERE function_id = 1",
    "SELECT tracestore_strict(1)",
    "SELECT count(*) FROM tracestore_calls(?1)",
};
constexpr int kMaxRows = 20000;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  tracestore::fuzz::DecodeTrace(data, size);
  const std::string& path = tracestore::fuzz::ScratchTrace();
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return 0;
  if (tracestore::sql::RegisterTables(db) == SQLITE_OK) {
    for (const char* sql : kQueries) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK)
        continue;
      sqlite3_bind_text(stmt, 1, path.c_str(), -1, SQLITE_STATIC);
      for (int rows = 0; rows < kMaxRows && sqlite3_step(stmt) == SQLITE_ROW;
           ++rows) {
        for (int c = 0; c < sqlite3_column_count(stmt); ++c)
          (void)sqlite3_column_bytes(stmt, c),
              (void)sqlite3_column_text(stmt, c);
      }
      sqlite3_finalize(stmt);
    }
  }
  sqlite3_close(db);
  return 0;
}
