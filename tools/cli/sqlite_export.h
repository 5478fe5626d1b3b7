// `tracestore export --format sqlite`: a regular SQLite database with the
// tables `query` shows (events, calls, marks, threads, functions, lines,
// profile; same columns, id the INTEGER PRIMARY KEY), indexes for the usual
// lookups, and trace_info(key, value): the trace's properties and header.
//
// A trace of many processes (process_tree.h) is copied through the SQL
// tables, which read the whole tree: each table gets a pid column (event
// and call ids are unique over the tree; functions, threads, marks, lines
// and profile are keyed by (pid, id)), plus a processes table.
//
// Streamed, in memory bounded by the call depth and SQLite's page cache:
// events are copied in id order (SQLite appends; from the SQL table for a
// closed trace, from the reader for a live one), calls are written as they
// close from the library's call walk (StreamCalls in export/export.h:
// --min-dur applies), the small tables through the SQL tables, all from
// one snapshot of a live trace.
//
//   SqliteExport e(db, "run.trace", **reader, ended, options);
//   std::string error = e.Run();          // "" on success
//   e.counts();                           // {"8202 events", "4101 calls", ...}

#ifndef TRACESTORE_TOOLS_CLI_SQLITE_EXPORT_H_
#define TRACESTORE_TOOLS_CLI_SQLITE_EXPORT_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/export/export.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

class SqliteExport {
 public:
  // `db` has the tracestore tables registered (sql::RegisterTables).
  // `multi_process`: the trace has child processes' traces.
  SqliteExport(sqlite3* db, std::string trace_path, const TraceReader& reader,
               std::span<const uint64_t> thread_ended,
               const ExportOptions& options, bool multi_process = false)
      : db_(db),
        path_(std::move(trace_path)),
        reader_(reader),
        ended_(thread_ended),
        options_(options),
        multi_process_(multi_process) {}

  // Empty on success, else what failed.
  std::string Run();
  const std::vector<std::string>& counts() const { return counts_; }
  const ExportStats& stats() const { return stats_; }

 private:
  struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
  };
  using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;
  // What a copied table's ids are unique over: the trace (one process), the
  // tree (a pid column added), or each process (the key becomes (pid, id)).
  enum class Ids { kNone, kTree, kPerProcess };

  // A trace of many processes, after Run's set-up (`pin` holds the
  // snapshot).
  std::string RunTree(Stmt& pin);
  std::string Finish(Stmt& pin);
  bool Exec(const std::string& sql);
  sqlite3_stmt* Prepare(const std::string& sql);
  std::string Error();
  bool CopyEvents();
  bool CopyCalls();
  bool CopyTable(const char* name, const char* function, std::string columns,
                 Ids ids = Ids::kNone);
  template <class Map>
  bool WriteProfile(const Map& profile);
  bool WriteInfo();

  sqlite3* db_;
  std::string path_;
  const TraceReader& reader_;
  std::span<const uint64_t> ended_;
  const ExportOptions& options_;
  const bool multi_process_;
  std::string error_;
  std::vector<std::string> counts_;
  ExportStats stats_;
};

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_SQLITE_EXPORT_H_
