// Fuzz target: every exporter over a trace built from the input: chrome,
// speedscope, collapsed (with and without thread roots) and html into
// memory; the sqlite export's big tables written as b-trees
// (WriteBulkTables), which SQLite must then find intact (PRAGMA
// integrity_check; a finding aborts), and its copy of the small query
// tables into an in-memory database.

#include <sqlite3.h>

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "fuzz_trace.h"
#include "sqlite_bulk_tables.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/call_stream.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace {

// Counts bytes; keeps none (an export may be large).
class CountingSink : public tracestore::ByteSink {
 public:
  absl::Status Write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return absl::OkStatus();
  }
  uint64_t bytes_ = 0;
};

// The big tables: whatever the trace, either a clear error or a database
// SQLite finds intact.
void ExportBulkTables(const tracestore::TraceReader& trace,
                      std::span<const uint64_t> ended, const std::string& db) {
  tracestore::cli::BulkTables bulk;
  ::unlink(db.c_str());
  if (!tracestore::cli::WriteBulkTables(db, trace, ended, {}, &bulk).ok())
    return;
  sqlite3* handle = nullptr;
  if (sqlite3_open(db.c_str(), &handle) != SQLITE_OK) std::abort();
  sqlite3_stmt* check = nullptr;
  if (sqlite3_prepare_v2(handle, "PRAGMA integrity_check", -1, &check,
                         nullptr) != SQLITE_OK ||
      sqlite3_step(check) != SQLITE_ROW ||
      std::string_view(reinterpret_cast<const char*>(
          sqlite3_column_text(check, 0))) != "ok") {
    std::fprintf(stderr, "integrity_check: %s\n",
                 check ? reinterpret_cast<const char*>(
                             sqlite3_column_text(check, 0))
                       : sqlite3_errmsg(handle));
    std::abort();
  }
  sqlite3_finalize(check);
  sqlite3_close(handle);
  ::unlink(db.c_str());
}

void ExportSqlite(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) return;
  if (tracestore::sql::RegisterTables(db) == SQLITE_OK) {
    for (const char* t : {"marks", "threads", "functions"}) {
      char* sql = sqlite3_mprintf(
          "CREATE TABLE %s AS SELECT * FROM tracestore_%s(%Q)", t, t,
          path.c_str());
      sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
      sqlite3_free(sql);
    }
  }
  sqlite3_close(db);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tracestore;
  fuzz::DecodeTrace(data, size);
  const std::string& path = fuzz::ScratchTrace();
  auto trace = TraceReader::Open(path);
  if (!trace.ok()) return 0;
  std::vector<uint64_t> ended;
  if (!RefreshWithThreadEnds(**trace, &ended).ok()) return 0;
  for (const ExportFormat format :
       {ExportFormat::kChrome, ExportFormat::kSpeedscope,
        ExportFormat::kCollapsed, ExportFormat::kHtml,
        ExportFormat::kPerfetto}) {
    for (const bool threads : {false, true}) {
      if (threads && format != ExportFormat::kCollapsed) continue;
      CountingSink sink;
      Output out(&sink);
      ExportOptions options;
      options.title = "fuzz";
      options.collapsed_threads = threads;
      (void)ExportTrace(**trace, ended, format, options, out);
      (void)out.Finish();
    }
  }
  ExportBulkTables(**trace, ended, path + ".db");
  ExportSqlite(path);
  return 0;
}
