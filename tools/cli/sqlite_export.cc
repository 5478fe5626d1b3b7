// SqliteExport: the trace as a regular SQLite database, streamed.

#include "sqlite_export.h"

#include <algorithm>
#include <memory>

#include "absl/container/btree_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tracestore/call_stream.h"
#include "tracestore/calls.h"
#include "tracestore/event_scan.h"

namespace tracestore::cli {

namespace {

// The column lists are those of the SQL tables (sqlite_ext/src/*_table.cc).
constexpr char kEventsColumns[] =
    "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
    " kind TEXT, function_id INTEGER, line INTEGER, mark_id INTEGER";
constexpr char kCallsColumns[] =
    "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL,"
    " depth INTEGER NOT NULL, parent_id INTEGER, function_id INTEGER,"
    " name TEXT, module TEXT, file TEXT, line INTEGER, call_line INTEGER,"
    " ts INTEGER NOT NULL, dur INTEGER, self_dur INTEGER,"
    " starts_before_window INTEGER, kind TEXT, recursive INTEGER";
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

constexpr const char* kIndexes[] = {
    "CREATE INDEX events_ts ON events(ts)",
    "CREATE INDEX events_function ON events(function_id)",
    "CREATE INDEX calls_ts ON calls(ts)",
    "CREATE INDEX calls_function ON calls(function_id)",
    "CREATE INDEX calls_parent ON calls(parent_id)",
    "CREATE INDEX marks_ts ON marks(ts)",
};

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

// Writes each call as it closes (after --min-dur), the columns the calls
// table gives it.
class CallRows : public CallVisitor {
 public:
  CallRows(const TraceReader& reader, sqlite3_stmt* insert, sqlite3* db)
      : reader_(reader),
        functions_(reader.functions()),
        time_(reader.header().ticks_per_second),
        insert_(insert),
        db_(db) {}

  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override {
    Thread& t = Get(thread);
    const uint32_t f = stack.back().function;
    if (t.active.size() <= f && f < kDense) t.active.resize(size_t{f} + 1);
    bool recursive = false;
    if (f < kDense) {
      recursive = t.active[f]++ != 0;
    } else {
      for (size_t i = 0; i + 1 < stack.size(); ++i)
        recursive |= stack[i].function == f;
    }
    t.recursive.push_back(recursive);
  }

  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    Thread& t = Get(thread);
    const OpenCall& c = stack.back();
    const bool recursive = !t.recursive.empty() && t.recursive.back();
    if (!t.recursive.empty()) t.recursive.pop_back();
    if (c.function < kDense && c.function < t.active.size() &&
        t.active[c.function] > 0)
      --t.active[c.function];
    if (!error_.empty()) return;
    sqlite3_stmt* s = insert_;
    const uint64_t start = time_.ToNs(c.start_ticks);
    const uint64_t dur = time_.ToNs(end_ticks) - start;
    const uint64_t ticks = end_ticks - c.start_ticks;
    BindId(s, 1, MakeRowId(thread, c.open_index));
    BindId(s, 2, thread);
    BindId(s, 3, stack.size() - 1);
    if (stack.size() > 1) {
      BindId(s, 4, MakeRowId(thread, stack[stack.size() - 2].open_index));
    } else {
      sqlite3_bind_null(s, 4);
    }
    if (c.function == 0) {
      sqlite3_bind_null(s, 5);
    } else {
      BindId(s, 5, c.function);
    }
    if (c.function != 0 && c.function <= functions_.size()) {
      const format::FunctionRecord& f = functions_[c.function - 1];
      BindText(s, 6, reader_.String(f.qualname));
      BindText(s, 7, reader_.String(f.module));
      BindText(s, 8, reader_.String(f.file));
      BindId(s, 9, f.first_line);
    } else {
      for (int i = 6; i <= 9; ++i) sqlite3_bind_null(s, i);
    }
    BindId(s, 10, c.call_line);
    BindId(s, 11, start);
    if (t.finishing) {  // still open in the trace: no end yet
      sqlite3_bind_null(s, 12);
      sqlite3_bind_null(s, 13);
    } else {
      BindId(s, 12, dur);
      BindId(s, 13,
             time_.ToNs(ticks > c.child_ticks ? ticks - c.child_ticks : 0));
    }
    sqlite3_bind_int(s, 14, (c.flags & kSliceStartsBeforeWindow) != 0 ? 1 : 0);
    const std::string_view kind =
        EventKindName(static_cast<format::EventKind>(c.open_kind));
    sqlite3_bind_text(s, 15, kind.data(), static_cast<int>(kind.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(s, 16, recursive ? 1 : 0);
    if (sqlite3_step(s) != SQLITE_DONE) error_ = sqlite3_errmsg(db_);
    sqlite3_reset(s);
    ++rows_;
    // The profile table: these rows summed (as tracestore_profile does).
    Profile& p = profile_[c.function];
    ++(c.open_kind == static_cast<uint8_t>(format::EventKind::kResume)
           ? p.resumes
           : p.calls);
    if (t.finishing) {
      ++p.open;
    } else {
      p.self_ns +=
          time_.ToNs(ticks > c.child_ticks ? ticks - c.child_ticks : 0);
      if (!recursive) p.total_ns += dur;
    }
  }

  struct Profile {
    uint64_t calls = 0, resumes = 0, open = 0, total_ns = 0, self_ns = 0;
  };
  const absl::btree_map<uint32_t, Profile>& profile() const {
    return profile_;
  }

  // The calls of `thread` that close from now on are still open.
  void Finishing(uint32_t thread) { Get(thread).finishing = true; }
  const std::string& error() const { return error_; }
  uint64_t rows() const { return rows_; }

 private:
  static constexpr uint32_t kDense = 1u << 22;
  struct Thread {
    std::vector<uint32_t> active;   // open calls per function id
    std::vector<uint8_t> recursive;  // per open call
    bool finishing = false;
  };
  Thread& Get(uint32_t thread) {
    if (threads_.size() <= thread) threads_.resize(size_t{thread} + 1);
    return threads_[thread];
  }

  const TraceReader& reader_;
  std::span<const format::FunctionRecord> functions_;
  TimeScale time_;
  sqlite3_stmt* insert_;
  sqlite3* db_;
  std::vector<Thread> threads_;
  absl::btree_map<uint32_t, Profile> profile_;  // by function id
  std::string error_;
  uint64_t rows_ = 0;
};

}  // namespace

bool SqliteExport::Exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK)
    return true;
  error_ = error != nullptr ? error : sqlite3_errmsg(db_);
  sqlite3_free(error);
  return false;
}

sqlite3_stmt* SqliteExport::Prepare(const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db_);
    return nullptr;
  }
  return stmt;
}

std::string SqliteExport::Error() {
  if (error_.empty()) error_ = sqlite3_errmsg(db_);
  return error_;
}

bool SqliteExport::CopyEvents() {
  if (!Exec(absl::StrCat("CREATE TABLE events(", kEventsColumns, ")")))
    return false;
  Stmt insert(Prepare("INSERT INTO events VALUES (?1,?2,?3,?4,?5,?6,?7)"));
  if (!insert) return false;
  sqlite3_stmt* s = insert.get();
  const TimeScale time(reader_.header().ticks_per_second);
  uint64_t rows = 0;
  const uint32_t threads = static_cast<uint32_t>(
      std::min<size_t>(reader_.threads().size(), kMaxRowIdThreads));
  for (uint32_t t = 0; t < threads; ++t) {
    const auto events = reader_.events(t);
    for (uint64_t i = 0; i < events.size(); ++i) {
      const format::EventRecord& e = events[i];
      const format::EventKind kind = format::GetEventKind(e);
      BindId(s, 1, MakeRowId(t, i));
      BindId(s, 2, t);
      BindId(s, 3, time.ToNs(format::EventTicks(e)));
      const std::string_view name = EventKindName(kind);
      if (name.empty()) {
        sqlite3_bind_null(s, 4);
      } else {
        sqlite3_bind_text(s, 4, name.data(), static_cast<int>(name.size()),
                          SQLITE_STATIC);
      }
      if (e.function == 0) {
        sqlite3_bind_null(s, 5);
      } else {
        BindId(s, 5, e.function);
      }
      const bool mark = kind == format::EventKind::kMark;
      if (mark) {
        sqlite3_bind_null(s, 6);
        BindId(s, 7, e.value);
      } else {
        BindId(s, 6, e.value);
        sqlite3_bind_null(s, 7);
      }
      if (sqlite3_step(s) != SQLITE_DONE) return Error(), false;
      sqlite3_reset(s);
      if (++rows % CallStream::kProgressEvents == 0 && options_.progress)
        options_.progress(rows, 2 * reader_.total_events());
    }
  }
  counts_.push_back(absl::StrCat(rows, " events"));
  return true;
}

bool SqliteExport::CopyCalls() {
  if (!Exec(absl::StrCat("CREATE TABLE calls(", kCallsColumns, ")")))
    return false;
  Stmt insert(Prepare(
      "INSERT INTO calls VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,"
      "?14,?15,?16)"));
  if (!insert) return false;
  CallRows rows(reader_, insert.get(), db_);
  // Progress: the events pass was the first half.
  ExportOptions options = options_;
  if (options_.progress)
    options.progress = [this](uint64_t done, uint64_t total) {
      options_.progress(total + done, 2 * total);
    };
  options.before_finish = [&rows](uint32_t thread) { rows.Finishing(thread); };
  stats_ = StreamCalls(reader_, ended_, options, rows);
  if (!rows.error().empty()) {
    error_ = rows.error();
    return false;
  }
  if (!WriteProfile(rows.profile())) return false;
  // Rows: the calls and, apart, the resumes (kind 'resume').
  counts_.push_back(absl::StrCat(stats_.calls, " calls"));
  if (stats_.resumes != 0)
    counts_.push_back(absl::StrCat(stats_.resumes, " resumes"));
  return true;
}

template <class Map>
bool SqliteExport::WriteProfile(const Map& profile) {
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
  counts_.push_back(absl::StrCat(sqlite3_changes64(db_), " ", name));
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
      absl::StrCat(sqlite3_changes64(db_), " ", sql::kProcessesPlainName));
  return Finish(pin);
}

std::string SqliteExport::Run() {
  if (multi_process_ && options_.min_dur_ns != 0)
    return "--min-dur: the sqlite export of a process tree copies every call"
           " (export one process's trace, TRACE/child-PID.trace, to filter)";
  // No journal (a failed export is deleted); SQLite's default page cache
  // (2 MiB; a bigger one measured no faster and the index builds' sorter
  // grows with it): memory stays bounded by it and by the call depth,
  // whatever the trace's length.
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
  // Events: a closed trace cannot change, so the SQL table's scan (an
  // INSERT ... SELECT, faster than binding each row) reads what `reader_`
  // reads; a live one is copied from `reader_`, the calls' snapshot.
  if (reader_.closed()) {
    if (!CopyTable("events", "tracestore_events", kEventsColumns))
      return error_;
  } else if (!CopyEvents()) {
    return error_;
  }
  if (!CopyCalls()) return error_;
  for (const SmallTable& t : kSmallTables)
    if (!CopyTable(t.name, t.function, t.columns)) return error_;
  return Finish(pin);
}

std::string SqliteExport::Finish(Stmt& pin) {
  pin.reset();
  for (const char* index : kIndexes)
    if (!Exec(index)) return error_;
  if (!WriteInfo()) return error_;
  if (!Exec("COMMIT")) return error_;
  return {};
}

}  // namespace tracestore::cli
