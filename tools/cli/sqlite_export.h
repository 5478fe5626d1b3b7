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
// Streamed, in bounded memory. One process's events and calls, with their
// indexes, are written as b-trees straight into the file
// (sqlite_bulk_tables.h: the reader's snapshot, calls from the library's
// call walk, StreamCalls in export/export.h: --min-dur applies); then
// SQLite opens it and adds the small tables through the SQL tables (at
// least what the reader saw of a live trace), the profile and trace_info.
//
//   SqliteExport e("out.db", "run.trace", **reader, ended, options);
//   std::string error = e.Run();          // "" on success
//   e.counts();                           // {"8202 events", "4101 calls", ...}

#ifndef TRACESTORE_TOOLS_CLI_SQLITE_EXPORT_H_
#define TRACESTORE_TOOLS_CLI_SQLITE_EXPORT_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "sqlite_bulk_tables.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/export/export.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

class SqliteExport {
 public:
  // Creates the database `db_path` (replacing what is there).
  // `multi_process`: the trace has child processes' traces.
  SqliteExport(std::string db_path, std::string trace_path,
               const TraceReader& reader,
               std::span<const uint64_t> thread_ended,
               const ExportOptions& options, bool multi_process = false)
      : db_path_(std::move(db_path)),
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
  struct DbCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
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
  bool CopyTable(const char* name, const char* function, std::string columns,
                 Ids ids = Ids::kNone);
  bool WriteProfile(const absl::btree_map<uint32_t, ProfileRow>& profile);
  bool WriteInfo();

  std::string db_path_;
  // Declared before the statements that use it, closed after them.
  std::unique_ptr<sqlite3, DbCloser> db_;
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
