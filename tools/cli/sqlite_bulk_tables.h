// The sqlite export's big tables, events and calls, with their indexes,
// written as b-trees straight into a new database file (SqliteFileWriter):
// the rows the SQL tables give (same columns, same ids), at the speed of
// the other exports. Events are read in id order; calls come from the
// library's call walk (StreamCalls: --min-dur applies) as they close and
// are put in id order, like every index, by ExternalSorter: memory stays
// bounded by the sorters' budgets and the call depth, whatever the trace's
// length.
//
//   BulkTables bulk;
//   absl::Status s = WriteBulkTables("out.db", reader, ended, options, &bulk);
//   // then open out.db with SQLite and add the small tables

#ifndef TRACESTORE_TOOLS_CLI_SQLITE_BULK_TABLES_H_
#define TRACESTORE_TOOLS_CLI_SQLITE_BULK_TABLES_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/status/status.h"
#include "tracestore/export/export.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

// The column lists are those of the SQL tables (sqlite_ext/src/*_table.cc).
inline constexpr char kEventsColumns[] =
    "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " kind TEXT, function_id INTEGER, line INTEGER, mark_id INTEGER";
inline constexpr char kCallsColumns[] =
    "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL,"
    " depth INTEGER NOT NULL, parent_id INTEGER, function_id INTEGER,"
    " name TEXT, module TEXT, file TEXT, line INTEGER, call_line INTEGER,"
    " ts INTEGER NOT NULL, dur INTEGER, self_dur INTEGER,"
    " starts_before_window INTEGER, kind TEXT, recursive INTEGER";

// The indexes on the big tables (one column each).
struct BulkIndex {
  const char* name;
  const char* table;
  const char* column;
};
inline constexpr BulkIndex kBulkIndexes[] = {
    {"events_ts", "events", "ts"},
    {"events_function", "events", "function_id"},
    {"calls_ts", "calls", "ts"},
    {"calls_function", "calls", "function_id"},
    {"calls_parent", "calls", "parent_id"},
};

// Per function id: the profile table's row, the calls summed as
// tracestore_profile sums them.
struct ProfileRow {
  uint64_t calls = 0, resumes = 0, open = 0, total_ns = 0, self_ns = 0;
};

struct BulkTables {
  std::vector<std::string> counts;  // {"8202 events", "4101 calls", ...}
  ExportStats stats;                // the call walk's
  absl::btree_map<uint32_t, ProfileRow> profile;
};

// Creates the database at `path` (replacing what is there) with the events
// and calls tables and kBulkIndexes. Temporary files of the sorters go
// beside it and are gone when it returns.
absl::Status WriteBulkTables(const std::string& path, const TraceReader& reader,
                             std::span<const uint64_t> thread_ended,
                             const ExportOptions& options, BulkTables* out);

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_SQLITE_BULK_TABLES_H_
