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
#include "tracestore/process_tree.h"
#include "tracestore/trace_view.h"

namespace tracestore::sql::internal {

// Which process of the tree a per-process scan reads (process_tree.h): the
// glue sets it before each Start(). A cursor adds id_base to the ids that
// are unique over the tree (Table::tree_ids) and ts_offset to every time
// (ns on the root's time line). Both are 0 for the root process.
struct ProcessScope {
  uint64_t pid = 0;
  uint64_t id_base = 0;
  uint64_t ts_offset = 0;
};

// Reads one table. Start() is called with a refreshed view whose stores
// have been checked; the view does not change until the scan ends. A table
// of a whole tree (Table::whole_tree) is started once, by StartTree().
class TableCursor {
 public:
  virtual ~TableCursor() = default;
  virtual absl::Status Start(TraceView& view, const Constraints& c) = 0;
  virtual absl::Status StartTree(ProcessTree& tree, const Constraints& c) {
    return Start(*tree.root().view, c);
  }
  virtual bool Eof() const = 0;
  virtual void Next() = 0;
  // Every column but the hidden path, which the glue answers.
  virtual void Column(sqlite3_context* ctx, int column) = 0;
  virtual sqlite3_int64 Rowid() const = 0;

  ProcessScope scope;

 protected:
  // An id unique over the tree, and a time on the root's time line.
  sqlite3_int64 TreeId(uint64_t local) const {
    return static_cast<sqlite3_int64>(scope.id_base + local);
  }
  sqlite3_int64 TreeNs(uint64_t local_ns) const {
    return static_cast<sqlite3_int64>(scope.ts_offset + local_ns);
  }
};

struct Table {
  TableSpec spec;
  unsigned needs;  // TraceView::Need: the stores a scan reads
  std::unique_ptr<TableCursor> (*make_cursor)();
  // The table reads the tree as a whole (StartTree), not process by process.
  bool whole_tree = false;
  // Its id column holds ids unique over the tree (pid << 40 | id in a child:
  // id constraints are translated per process); otherwise ids are the
  // process's own and only (pid, id) is unique.
  bool tree_ids = false;
};

extern const Table kCallsTable;
extern const Table kEventsTable;
extern const Table kFunctionsTable;
extern const Table kThreadsTable;
extern const Table kMarksTable;
extern const Table kProblemsTable;
extern const Table kProcessesTable;
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

// The columns a row takes from its function (calls, lines, profile): the
// qualified name, module, file and first line of function `id`, NULL when
// the trace names no such function.
enum class FunctionColumn { kName, kModule, kFile, kLine };
inline void ResultFunctionColumn(sqlite3_context* ctx,
                                 const TraceReader& reader, uint32_t id,
                                 FunctionColumn column) {
  const auto functions = reader.functions();
  if (id == 0 || id > functions.size()) {
    sqlite3_result_null(ctx);
    return;
  }
  const format::FunctionRecord& f = functions[id - 1];
  switch (column) {
    case FunctionColumn::kName:
      return ResultText(ctx, reader.String(f.qualname));
    case FunctionColumn::kModule:
      return ResultText(ctx, reader.String(f.module));
    case FunctionColumn::kFile:
      return ResultText(ctx, reader.String(f.file));
    case FunctionColumn::kLine:
      return ResultInt(ctx, f.first_line);
  }
}

}  // namespace tracestore::sql::internal

#endif  // TRACESTORE_SQLITE_EXT_TABLES_H_
