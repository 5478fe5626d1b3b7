// `tracestore export --format sqlite TRACE -o OUT.db [--force]`: copies a
// trace into a regular SQLite database, for sharing or for tools that know
// nothing of tracestore.
//
//   tracestore export --format sqlite run.trace -o run.db
//   sqlite3 run.db "SELECT name, sum(self_dur) FROM calls GROUP BY 1"
//
// The database has the tables `query` shows (calls, events, functions,
// threads, marks; same columns, id the INTEGER PRIMARY KEY), indexes for the
// usual lookups, and trace_info(key, value): the trace's properties and
// header. It is written to OUT.db.tmp-PID and renamed into place, so OUT.db
// is either complete or absent. An existing OUT.db is kept unless --force.
// A live trace is exported as one snapshot of what had been committed.
//
// Other formats (chrome, speedscope, collapsed, html) are not available yet.
// Exit 0; 2 on a usage error, a trace that cannot be opened, or a failure.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

namespace {

constexpr char kUsage[] =
    "usage: tracestore export --format sqlite TRACE -o OUT.db [--force]\n";

constexpr const char* kLaterFormats[] = {"chrome", "speedscope", "collapsed",
                                         "html"};

// Tables in copy order; the column lists are those of the SQL tables.
struct ExportTable {
  const char* name;
  const char* function;
  const char* columns;  // CREATE TABLE body
};
constexpr ExportTable kTables[] = {
    {"events", "tracestore_events",
     "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
     " kind TEXT, function_id INTEGER, line INTEGER, mark_id INTEGER"},
    {"calls", "tracestore_calls",
     "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL,"
     " depth INTEGER NOT NULL, parent_id INTEGER, function_id INTEGER,"
     " name TEXT, module TEXT, file TEXT, line INTEGER, call_line INTEGER,"
     " ts INTEGER NOT NULL, dur INTEGER, self_dur INTEGER"},
    {"marks", "tracestore_marks",
     "id INTEGER PRIMARY KEY, ts INTEGER, thread_id INTEGER, name TEXT,"
     " kind TEXT, value INTEGER"},
    {"threads", "tracestore_threads",
     "id INTEGER PRIMARY KEY, os_tid INTEGER, name TEXT, start_ts INTEGER,"
     " end_ts INTEGER, event_count INTEGER"},
    {"functions", "tracestore_functions",
     "id INTEGER PRIMARY KEY, module TEXT, name TEXT, file TEXT,"
     " line INTEGER, is_python INTEGER, traced INTEGER, code_addr INTEGER"},
};

constexpr const char* kIndexes[] = {
    "CREATE INDEX events_ts ON events(ts)",
    "CREATE INDEX events_function ON events(function_id)",
    "CREATE INDEX calls_ts ON calls(ts)",
    "CREATE INDEX calls_function ON calls(function_id)",
    "CREATE INDEX calls_parent ON calls(parent_id)",
    "CREATE INDEX marks_ts ON marks(ts)",
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

int Fail(const std::string& message) {
  std::fprintf(stderr, "tracestore export: %s\n", message.c_str());
  return kExitUsage;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

class Exporter {
 public:
  Exporter(sqlite3* db, std::string trace)
      : db_(db), trace_(std::move(trace)) {}

  // Empty on success, else what failed.
  std::string Run(const TraceReader& reader) {
    if (!Exec("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
              " PRAGMA page_size=8192; BEGIN"))
      return error_;
    // A cursor left open on the trace pins one snapshot for every copy
    // below (tables refresh only when no scan of the trace is under way).
    Stmt pin = Prepare("SELECT 1 FROM tracestore_events(?1)");
    if (!pin || sqlite3_step(pin.get()) == SQLITE_ERROR) return Error();
    for (const ExportTable& t : kTables) {
      if (!Exec(absl::StrCat("CREATE TABLE ", t.name, "(", t.columns, ")")))
        return error_;
      Stmt copy = Prepare(absl::StrCat("INSERT INTO main.", t.name,
                                       " SELECT * FROM ", t.function, "(?1)"));
      if (!copy || sqlite3_step(copy.get()) != SQLITE_DONE) return Error();
      counts_.push_back(absl::StrCat(sqlite3_changes64(db_), " ", t.name));
    }
    pin.reset();
    for (const char* index : kIndexes)
      if (!Exec(index)) return error_;
    if (!Exec("CREATE TABLE trace_info(key TEXT PRIMARY KEY, value)"))
      return error_;
    const auto& h = reader.header();
    std::vector<std::pair<std::string, std::string>> info = reader.properties();
    info.emplace_back("trace", reader.path());
    info.emplace_back("state", reader.closed() ? "closed" : "recording");
    info.emplace_back("pid", absl::StrCat(h.pid));
    info.emplace_back("start_realtime_ns", absl::StrCat(h.start.realtime_ns));
    info.emplace_back("ticks_per_second", absl::StrCat(h.ticks_per_second));
    info.emplace_back("exported_by", "tracestore export");
    Stmt put = Prepare("INSERT OR REPLACE INTO trace_info VALUES (?1, ?2)");
    if (!put) return error_;
    for (const auto& [key, value] : info) {
      sqlite3_reset(put.get());
      sqlite3_bind_text(put.get(), 1, key.data(), static_cast<int>(key.size()),
                        SQLITE_TRANSIENT);
      sqlite3_bind_text(put.get(), 2, value.data(),
                        static_cast<int>(value.size()), SQLITE_TRANSIENT);
      if (sqlite3_step(put.get()) != SQLITE_DONE) return Error();
    }
    put.reset();
    if (!Exec("COMMIT")) return error_;
    return {};
  }
  const std::vector<std::string>& counts() const { return counts_; }

 private:
  bool Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK)
      return true;
    error_ = error != nullptr ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    return false;
  }
  Stmt Prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      error_ = sqlite3_errmsg(db_);
      return nullptr;
    }
    if (sqlite3_bind_parameter_count(stmt) > 0)
      sqlite3_bind_text(stmt, 1, trace_.c_str(), -1, SQLITE_TRANSIENT);
    return Stmt(stmt);
  }
  std::string Error() {
    if (error_.empty()) error_ = sqlite3_errmsg(db_);
    return error_;
  }

  sqlite3* db_;
  std::string trace_;
  std::string error_;
  std::vector<std::string> counts_;
};

}  // namespace

int RunExport(const std::vector<std::string>& args) {
  std::string format, output, trace;
  bool force = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= args.size()) return false;
      *out = args[++i];
      return true;
    };
    if (a == "--format" || a == "-f") {
      if (!value(&format))
        return Fail("--format needs a value\n" + std::string(kUsage));
    } else if (a.rfind("--format=", 0) == 0) {
      format = a.substr(9);
    } else if (a == "-o" || a == "--output") {
      if (!value(&output))
        return Fail("-o needs a file name\n" + std::string(kUsage));
    } else if (a.rfind("--output=", 0) == 0) {
      output = a.substr(9);
    } else if (a == "--force") {
      force = true;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.size() > 1 && a[0] == '-') {
      return Fail("unknown option '" + a + "'\n" + kUsage);
    } else if (trace.empty()) {
      trace = a;
    } else {
      return Fail("more than one trace given\n" + std::string(kUsage));
    }
  }
  if (format.empty() || trace.empty() || output.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  if (format != "sqlite") {
    for (const char* later : kLaterFormats)
      if (format == later)
        return Fail(absl::StrCat("format '", format,
                                 "' is not available yet (available: sqlite)"));
    return Fail(absl::StrCat("unknown format '", format,
                             "' (formats: sqlite; later: chrome, speedscope, "
                             "collapsed, html)"));
  }
  if (Exists(output) && !force)
    return Fail(output + " exists: not replacing it (use --force)");

  auto reader = TraceReader::Open(trace);
  if (!reader.ok()) return Fail(std::string(reader.status().message()));

  const std::string temp = absl::StrCat(output, ".tmp-", ::getpid());
  ::unlink(temp.c_str());
  std::string error;
  std::vector<std::string> counts;
  {
    sqlite3* raw = nullptr;
    const int rc =
        sqlite3_open_v2(temp.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    std::unique_ptr<sqlite3, DbCloser> db(raw);
    if (rc != SQLITE_OK) {
      error = absl::StrCat("cannot create ", temp, ": ",
                           raw ? sqlite3_errmsg(raw) : "out of memory");
    } else if (sql::RegisterTables(db.get()) != SQLITE_OK) {
      error = sqlite3_errmsg(db.get());
    } else {
      Exporter exporter(db.get(), trace);
      error = exporter.Run(**reader);
      counts = exporter.counts();
    }
  }
  if (error.empty()) {
    // Without --force, never replace a file that appeared meanwhile.
    int r = ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, output.c_str(),
                        force ? 0 : RENAME_NOREPLACE);
    if (r != 0 && errno == EINVAL && (force || !Exists(output)))
      r = ::rename(temp.c_str(), output.c_str());  // no renameat2 flags here
    if (r != 0)
      error = errno == EEXIST
                  ? output + " exists: not replacing it (use --force)"
                  : absl::StrCat("cannot rename ", temp, " to ", output, ": ",
                                 std::strerror(errno));
  }
  if (!error.empty()) {
    ::unlink(temp.c_str());
    return Fail(error);
  }
  std::string summary;
  for (const auto& c : counts)
    absl::StrAppend(&summary, summary.empty() ? "" : ", ", c);
  std::printf("wrote %s (%s)\n", output.c_str(), summary.c_str());
  return kExitOk;
}

}  // namespace tracestore::cli
