// The tracestore SQL tables, for programs that link SQLite themselves.
//
//   sqlite3* db;
//   sqlite3_open(":memory:", &db);
//   tracestore::sql::RegisterTables(db);
//   sqlite3_exec(db, "SELECT name, dur FROM tracestore_calls('run.trace') "
//                    "ORDER BY dur DESC LIMIT 10", print_row, nullptr, &err);
//
// Registers the eponymous, read-only table-valued functions
// tracestore_calls, tracestore_events, tracestore_functions,
// tracestore_threads, tracestore_marks, tracestore_lines, tracestore_problems
// and tracestore_processes, each taking the trace directory as its argument
// (sqlite_ext/README.md has their columns). From the sqlite3 shell, load the
// extension instead: `.load build/lib/libtracestore_sqlite`.
//
// Each connection keeps its open traces (and the call slices and indexes
// built over them) until it closes. A connection's tables must be used from
// one thread at a time, as SQLite requires of the connection anyway.

#ifndef TRACESTORE_SQLITE_EXT_TRACESTORE_SQLITE_H_
#define TRACESTORE_SQLITE_EXT_TRACESTORE_SQLITE_H_

#include <sqlite3.h>

namespace tracestore::sql {

// Returns SQLITE_OK or an SQLite error code.
int RegisterTables(sqlite3* db);

// The names of the table-valued functions, and the plain names our own
// `query` command gives them ("calls", ...), in the same order.
inline constexpr const char* kTableFunctions[] = {
    "tracestore_calls",   "tracestore_events", "tracestore_functions",
    "tracestore_threads", "tracestore_marks",  "tracestore_lines",
    "tracestore_profile"};
inline constexpr const char* kPlainNames[] = {
    "calls", "events", "functions", "threads", "marks", "lines", "profile"};
// tracestore_processes(path): the processes of the trace (the trace and its
// child processes' traces); `query` calls it `processes`. The tables above
// read every process and have a hidden `pid` column
// (tracestore_calls('run.trace', 4242) reads one process).
inline constexpr const char kProcessesTableFunction[] = "tracestore_processes";
inline constexpr const char kProcessesPlainName[] = "processes";

}  // namespace tracestore::sql

#endif  // TRACESTORE_SQLITE_EXT_TRACESTORE_SQLITE_H_
