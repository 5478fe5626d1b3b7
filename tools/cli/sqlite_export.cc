// SqliteExport: the trace as a regular SQLite database, streamed.

#include "sqlite_export.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace tracestore::cli {

namespace {

struct SmallTable {
  const char* name;
  const char* function;
  const char* columns;
};
constexpr SmallTable kSmallTables[] = {
    {"marks", "tracestore_marks",
     "id INTEGER PRIMARY KEY, ts INTEGER, thread_id INTEGER, name TEXT,"
     " kind TEXT, value INTEGER"},
    {"threads", "tracestore_threads",
     "id INTEGER PRIMARY KEY, os_tid INTEGER, name TEXT, start_ts INTEGER,"
     " end_ts INTEGER, event_count INTEGER, events_first INTEGER,"
     " window_start_ts INTEGER"},
    {"functions", "tracestore_functions",
     "id INTEGER PRIMARY KEY, module TEXT, name TEXT, file TEXT,"
     " line INTEGER, is_python INTEGER, traced INTEGER, code_addr INTEGER,"
     " slot_begin INTEGER, slot_end INTEGER"},
    {"lines", "tracestore_lines",
     "function_id INTEGER NOT NULL, name TEXT, module TEXT, file TEXT,"
     " line INTEGER NOT NULL, hits INTEGER, time INTEGER, self_time INTEGER,"
     " time_in_calls INTEGER, PRIMARY KEY (function_id, line)"},
};

constexpr char kProfileColumns[] =
    "function_id INTEGER, name TEXT, module TEXT, file TEXT, line INTEGER,"
    " calls INTEGER, resumes INTEGER, open INTEGER, total_dur INTEGER,"
    " self_dur INTEGER";

void BindText(sqlite3_stmt* s, int i, std::string_view text) {
  if (text.empty()) {
    sqlite3_bind_null(s, i);
  } else {
    // The reader's strings stay mapped for the whole export.
    sqlite3_bind_text64(s, i, text.data(), text.size(), SQLITE_STATIC,
                        SQLITE_UTF8);
  }
}

void BindId(sqlite3_stmt* s, int i, uint64_t v) {
  sqlite3_bind_int64(s, i, static_cast<sqlite3_int64>(v));
}

}  // namespace

bool SqliteExport::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK)
    return true;
  error_ = error != nullptr ? error : sqlite3_errmsg(db_.get());
  sqlite3_free(error);
  return false;
}

sqlite3_stmt* SqliteExport::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_.get(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db_.get());
    return nullptr;
  }
  return stmt;
}

std::string SqliteExport::Error() {
  if (error_.empty()) error_ = sqlite3_errmsg(db_.get());
  return error_;
}

bool SqliteExport::WriteProfile(
    const absl::btree_map<uint32_t, ProfileRow>& profile) {
  if (!Exec(absl::StrCat("CREATE TABLE profile(", kProfileColumns, ")")))
    return false;
  Stmt insert(
      Prepare("INSERT INTO profile VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"));
  if (!insert) return false;
  sqlite3_stmt* s = insert.get();
  const auto functions = reader_.functions();
  for (const auto& [function, p] : profile) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (function != 0) BindId(s, 1, function);
    if (function != 0 && function <= functions.size()) {
      const format::FunctionRecord& f = functions[function - 1];
      BindText(s, 2, reader_.String(f.qualname));
      BindText(s, 3, reader_.String(f.module));
      BindText(s, 4, reader_.String(f.file));
      BindId(s, 5, f.first_line);
    }
    BindId(s, 6, p.calls);
    BindId(s, 7, p.resumes);
    BindId(s, 8, p.open);
    BindId(s, 9, p.total_ns);
    BindId(s, 10, p.self_ns);
    if (sqlite3_step(s) != SQLITE_DONE) return Error(), false;
  }
  return true;
}

bool SqliteExport::CopyTable(const char* name, const char* function,
                             std::string columns, Ids ids) {
  if (ids == Ids::kTree) {
    columns += ", pid INTEGER NOT NULL";
  } else if (ids == Ids::kPerProcess) {
    // Only (pid, id) is unique: the process joins the key.
    if (columns.find("PRIMARY KEY (") != std::string::npos) {
      columns = absl::StrReplaceAll(
          columns, {{"PRIMARY KEY (", "pid INTEGER NOT NULL, PRIMARY KEY (pid, "}});
    } else if (columns.find("id INTEGER PRIMARY KEY") != std::string::npos) {
      columns = absl::StrReplaceAll(
          columns, {{"id INTEGER PRIMARY KEY", "id INTEGER NOT NULL"}});
      columns += ", pid INTEGER NOT NULL, PRIMARY KEY (pid, id)";
    } else {
      columns += ", pid INTEGER NOT NULL";
    }
  }
  if (!Exec(absl::StrCat("CREATE TABLE ", name, "(", columns, ")")))
    return false;
  Stmt copy(Prepare(absl::StrCat("INSERT INTO main.", name, " SELECT *",
                                 ids == Ids::kNone ? "" : ", pid", " FROM ",
                                 function, "(?1)")));
  if (!copy) return false;
  sqlite3_bind_text(copy.get(), 1, path_.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(copy.get()) != SQLITE_DONE) return Error(), false;
  counts_.push_back(absl::StrCat(sqlite3_changes64(db_.get()), " ", name));
  return true;
}

bool SqliteExport::WriteInfo() {
  if (!Exec("CREATE TABLE trace_info(key TEXT PRIMARY KEY, value)"))
    return false;
  const auto& h = reader_.header();
  std::vector<std::pair<std::string, std::string>> info = reader_.properties();
  info.emplace_back("trace", reader_.path());
  info.emplace_back("state", reader_.closed() ? "closed" : "recording");
  info.emplace_back("pid", absl::StrCat(h.pid));
  info.emplace_back("start_realtime_ns", absl::StrCat(h.start.realtime_ns));
  info.emplace_back("ticks_per_second", absl::StrCat(h.ticks_per_second));
  info.emplace_back("exported_by", "tracestore export");
  if (options_.min_dur_ns != 0)
    info.emplace_back("min_dur_ns", absl::StrCat(options_.min_dur_ns));
  Stmt put(Prepare("INSERT OR REPLACE INTO trace_info VALUES (?1, ?2)"));
  if (!put) return false;
  for (const auto& [key, value] : info) {
    sqlite3_reset(put.get());
    sqlite3_bind_text(put.get(), 1, key.data(), static_cast<int>(key.size()),
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(put.get(), 2, value.data(),
                      static_cast<int>(value.size()), SQLITE_TRANSIENT);
    if (sqlite3_step(put.get()) != SQLITE_DONE) return Error(), false;
  }
  return true;
}

std::string SqliteExport::RunTree(Stmt& pin) {
  // Event and call ids are unique over the tree; the others are each
  // process's own.
  if (!CopyTable("events", "tracestore_events", kEventsColumns, Ids::kTree) ||
      !CopyTable("calls", "tracestore_calls", kCallsColumns, Ids::kTree) ||
      !CopyTable("profile", "tracestore_profile", kProfileColumns,
                 Ids::kPerProcess))
    return error_;
  for (const SmallTable& t : kSmallTables)
    if (!CopyTable(t.name, t.function, t.columns, Ids::kPerProcess))
      return error_;
  const std::string from =
      absl::StrCat(" SELECT * FROM ", sql::kProcessesTableFunction, "(?1)");
  for (const std::string& statement :
       {absl::StrCat("CREATE TABLE main.", sql::kProcessesPlainName, " AS",
                     from, " WHERE 0"),
        absl::StrCat("INSERT INTO main.", sql::kProcessesPlainName, from)}) {
    Stmt s(Prepare(statement));
    if (!s) return error_;
    sqlite3_bind_text(s.get(), 1, path_.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s.get()) != SQLITE_DONE) return Error();
  }
  counts_.push_back(
      absl::StrCat(sqlite3_changes64(db_.get()), " ", sql::kProcessesPlainName));
  return Finish(pin);
}

std::string SqliteExport::Run() {
  if (multi_process_ && options_.min_dur_ns != 0)
    return "--min-dur: the sqlite export of a process tree copies every call"
           " (export one process's trace, TRACE/child-PID.trace, to filter)";
  // One process: the big tables are written first, as b-trees, into the
  // new file; SQLite adds the rest to it.
  BulkTables bulk;
  if (!multi_process_)
    if (absl::Status s = WriteBulkTables(db_path_, reader_, ended_, options_,
                                         &bulk);
        !s.ok())
      return std::string(s.message());
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(db_path_.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                     SQLITE_OPEN_NOMUTEX,  // one thread
                                 nullptr);
  db_.reset(raw);
  if (rc != SQLITE_OK)
    return absl::StrCat("cannot create ", db_path_, ": ",
                        raw ? sqlite3_errmsg(raw) : "out of memory");
  if (sql::RegisterTables(db_.get()) != SQLITE_OK) return Error();
  // No journal (a failed export is deleted); SQLite's default page cache
  // (2 MiB): memory stays bounded by it and by the call depth, whatever the
  // trace's length.
  if (!Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            " PRAGMA page_size=8192; PRAGMA locking_mode=EXCLUSIVE; BEGIN"))
    return error_;
  // The small tables read the trace through the SQL tables, opened after
  // `reader_`: they show at least what it shows (every function an event
  // names). A cursor left open pins that snapshot for all of them.
  Stmt pin(Prepare("SELECT 1 FROM tracestore_functions(?1)"));
  if (!pin) return error_;
  sqlite3_bind_text(pin.get(), 1, path_.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(pin.get()) == SQLITE_ERROR) return Error();
  if (multi_process_) return RunTree(pin);
  counts_ = std::move(bulk.counts);
  stats_ = bulk.stats;
  if (!WriteProfile(bulk.profile)) return error_;
  for (const SmallTable& t : kSmallTables)
    if (!CopyTable(t.name, t.function, t.columns)) return error_;
  return Finish(pin);
}

std::string SqliteExport::Finish(Stmt& pin) {
  pin.reset();
  // The big tables' indexes are there already when one process's were
  // written as b-trees.
  if (multi_process_)
    for (const BulkIndex& i : kBulkIndexes)
      if (!Exec(absl::StrCat("CREATE INDEX ", i.name, " ON ", i.table, "(",
                             i.column, ")")))
        return error_;
  if (!Exec("CREATE INDEX marks_ts ON marks(ts)")) return error_;
  if (!WriteInfo()) return error_;
  if (!Exec("COMMIT")) return error_;
  return {};
}

}  // namespace tracestore::cli
