// The tracestore tables: what each declares, and the cursor that reads
// it. The SQLite glue (vtab.cc) is the same for all of them; a table only
// says how to start a scan for decoded constraints and how to produce a
// column of the current row.

#ifndef TRACESTORE_SQLITE_EXT_TABLES_H_
#define TRACESTORE_SQLITE_EXT_TABLES_H_

#include <memory>
#include <string_view>

#include "absl/status/status.h"
#include "plan.h"
#include "sqlite_api.h"
#include "tracestore/trace_view.h"

namespace tracestore::sql::internal {

// Reads one table. Start() is called with a refreshed view whose stores
// have been checked; the view does not change until the scan ends.
class TableCursor {
 public:
  virtual ~TableCursor() = default;
  virtual absl::Status Start(TraceView& view, const Constraints& c) = 0;
  virtual bool Eof() const = 0;
  virtual void Next() = 0;
  // Every column but the hidden path, which the glue answers.
  virtual void Column(sqlite3_context* ctx, int column) = 0;
  virtual sqlite3_int64 Rowid() const = 0;
};

struct Table {
  TableSpec spec;
  unsigned needs;  // TraceView::Need: the stores a scan reads
  std::unique_ptr<TableCursor> (*make_cursor)();
};

extern const Table kCallsTable;
extern const Table kEventsTable;
extern const Table kFunctionsTable;
extern const Table kThreadsTable;
extern const Table kMarksTable;
extern const Table kProblemsTable;
extern const Table kLinesTable;
extern const Table kProfileTable;

// The module every table is registered with (pAux: the table and the
// connection's SessionCache).
const sqlite3_module* TableModule();

// Text results: a copy of `s` (SQLite owns it), NULL when `null_if_empty`
// and `s` is empty.
inline void ResultText(sqlite3_context* ctx, std::string_view s,
                       bool null_if_empty = false) {
  if (s.empty() && null_if_empty) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_text64(ctx, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
inline void ResultStaticText(sqlite3_context* ctx, std::string_view s) {
  if (s.empty()) {
    sqlite3_result_null(ctx);
    return;
  }
  sqlite3_result_text(ctx, s.data(), static_cast<int>(s.size()), SQLITE_STATIC);
}
inline void ResultInt(sqlite3_context* ctx, uint64_t v) {
  sqlite3_result_int64(ctx, static_cast<sqlite3_int64>(v));
}

}  // namespace tracestore::sql::internal

#endif  // TRACESTORE_SQLITE_EXT_TABLES_H_
