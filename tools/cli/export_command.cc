// `tracestore export TRACE --format FMT -o OUT [--force]`: writes a trace in
// a format other tools open.
//
//   tracestore export run.trace --format chrome -o run.json  # Perfetto UI
//   tracestore export run.trace --format speedscope -o run.ss.json
//   tracestore export run.trace --format collapsed -o - | flamegraph.pl >x.svg
//   tracestore export run.trace --format html -o run.html  # flame graph
//   tracestore export --format sqlite run.trace -o run.db
//   sqlite3 run.db "SELECT name, sum(self_dur) FROM calls GROUP BY 1"
//
// chrome, speedscope, collapsed and html are streamed by the library's
// writers (tracestore/export/*.h) in memory bounded by the call depth or the
// distinct stacks; a progress bar shows on stderr when the export takes
// more than a couple of seconds and stderr is a terminal (--progress: always,
// --no-progress: never). `-o -` writes to stdout; a device or named pipe
// (/dev/null, a FIFO) is written in place.
//
// sqlite: a regular SQLite database with the tables `query` shows (calls,
// events, functions, threads, marks; same columns, id the INTEGER PRIMARY
// KEY), indexes for the usual lookups, and trace_info(key, value): the
// trace's properties and header. A trace of many processes
// (process_tree.h) adds a pid column to each table (functions, threads and
// marks then have the key (pid, id); event and call ids are unique over the
// tree) and a processes table.
//
// Every regular file is written to OUT.tmp-PID and renamed into place, so
// OUT is either complete or absent. An existing OUT is kept unless --force. A
// live trace is exported as one snapshot of what had been committed (calls
// still open end at their thread's last event). OUT may not lie inside the
// trace directory. Exit 0; 2 on a usage error, a trace that cannot be opened,
// or a failure; 3 when the trace is damaged: OUT holds what could be read and
// the problems are on stderr.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "commands.h"
#include "problem_report.h"
#include "progress.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/call_stream.h"
#include "tracestore/export/chrome_trace.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/process_tree.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

namespace {

constexpr char kUsage[] =
    "usage: tracestore export TRACE --format FORMAT -o OUT [--force]\n"
    "formats:\n"
    "  chrome       Trace Event JSON (Perfetto UI, chrome://tracing)\n"
    "  speedscope   speedscope's JSON (one evented profile per thread)\n"
    "  collapsed    folded stacks for flamegraph.pl / inferno (ns of self\n"
    "               time); --threads: a root frame per thread,\n"
    "               --processes: a root frame per process\n"
    "  html         one self-contained page: flame graph and function table\n"
    "  sqlite       a regular SQLite database of the query tables\n"
    "options: -o - (stdout; not sqlite), --title TEXT, --progress,\n"
    "         --no-progress\n";

// Tables in copy order; the column lists are those of the SQL tables.
struct ExportTable {
  const char* name;
  const char* function;
  const char* columns;  // CREATE TABLE body
  bool tree_ids;        // ids unique over a process tree (else per process)
};
constexpr ExportTable kTables[] = {
    {"events", "tracestore_events",
     "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL, ts INTEGER NOT NULL,"
     " kind TEXT, function_id INTEGER, line INTEGER, mark_id INTEGER",
     true},
    {"calls", "tracestore_calls",
     "id INTEGER PRIMARY KEY, thread_id INTEGER NOT NULL,"
     " depth INTEGER NOT NULL, parent_id INTEGER, function_id INTEGER,"
     " name TEXT, module TEXT, file TEXT, line INTEGER, call_line INTEGER,"
     " ts INTEGER NOT NULL, dur INTEGER, self_dur INTEGER",
     true},
    {"marks", "tracestore_marks",
     "id INTEGER PRIMARY KEY, ts INTEGER, thread_id INTEGER, name TEXT,"
     " kind TEXT, value INTEGER",
     false},
    {"threads", "tracestore_threads",
     "id INTEGER PRIMARY KEY, os_tid INTEGER, name TEXT, start_ts INTEGER,"
     " end_ts INTEGER, event_count INTEGER",
     false},
    {"functions", "tracestore_functions",
     "id INTEGER PRIMARY KEY, module TEXT, name TEXT, file TEXT,"
     " line INTEGER, is_python INTEGER, traced INTEGER, code_addr INTEGER,"
     " slot_begin INTEGER, slot_end INTEGER",
     false},
    {"lines", "tracestore_lines",
     "function_id INTEGER NOT NULL, name TEXT, module TEXT, file TEXT,"
     " line INTEGER NOT NULL, hits INTEGER, time INTEGER, self_time INTEGER,"
     " time_in_calls INTEGER, PRIMARY KEY (function_id, line)",
     false},
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

// What -o names. A device, FIFO or socket (/dev/null, a named pipe) is
// written in place: renaming a file over it would replace it.
enum class Target { kNew, kFile, kStream, kDirectory };
Target Classify(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return Exists(path) ? Target::kFile : Target::kNew;  // a dangling link
  if (S_ISDIR(st.st_mode)) return Target::kDirectory;
  if (S_ISREG(st.st_mode)) return Target::kFile;
  return Target::kStream;
}

// True when `output` names a file in the trace directory `trace` (or the
// directory itself): writing there would damage what is being read.
bool InsideTrace(const std::string& output, const std::string& trace) {
  char* real_trace = ::realpath(trace.c_str(), nullptr);
  if (real_trace == nullptr) return false;  // opening the trace reports it
  const std::string t = real_trace;
  std::free(real_trace);
  // The directory -o would write into (its file need not exist yet).
  const size_t slash = output.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : slash == 0 ? "/" : output.substr(0, slash);
  char* real_dir = ::realpath(dir.c_str(), nullptr);
  if (real_dir == nullptr) return false;  // creating OUT will fail and say so
  const std::string d = real_dir;
  std::free(real_dir);
  if (d == t) return true;
  char* real_out = ::realpath(output.c_str(), nullptr);
  const bool same = real_out != nullptr && std::string(real_out) == t;
  std::free(real_out);
  return same;
}

class Exporter {
 public:
  Exporter(sqlite3* db, std::string trace, bool multi_process)
      : db_(db), trace_(std::move(trace)), multi_process_(multi_process) {}

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
      std::string columns = t.columns;
      if (multi_process_) {
        if (!t.tree_ids && columns.find("PRIMARY KEY (") != std::string::npos) {
          // A composite key: the process first.
          columns = absl::StrReplaceAll(
              columns, {{"PRIMARY KEY (", "pid INTEGER NOT NULL, PRIMARY KEY (pid, "}});
        } else if (!t.tree_ids) {
          columns = absl::StrReplaceAll(
              columns, {{"id INTEGER PRIMARY KEY", "id INTEGER NOT NULL"}});
          columns += ", pid INTEGER NOT NULL, PRIMARY KEY (pid, id)";
        } else {
          columns += ", pid INTEGER NOT NULL";
        }
      }
      if (!Exec(absl::StrCat("CREATE TABLE ", t.name, "(", columns, ")")))
        return error_;
      Stmt copy = Prepare(absl::StrCat("INSERT INTO main.", t.name, " SELECT *",
                                       multi_process_ ? ", pid" : "", " FROM ",
                                       t.function, "(?1)"));
      if (!copy || sqlite3_step(copy.get()) != SQLITE_DONE) return Error();
      counts_.push_back(absl::StrCat(sqlite3_changes64(db_), " ", t.name));
    }
    if (multi_process_) {
      const std::string from =
          absl::StrCat(" SELECT * FROM ", sql::kProcessesTableFunction, "(?1)");
      Stmt create =
          Prepare(absl::StrCat("CREATE TABLE main.", sql::kProcessesPlainName,
                               " AS", from, " WHERE 0"));
      if (!create || sqlite3_step(create.get()) != SQLITE_DONE) return Error();
      Stmt copy = Prepare(
          absl::StrCat("INSERT INTO main.", sql::kProcessesPlainName, from));
      if (!copy || sqlite3_step(copy.get()) != SQLITE_DONE) return Error();
      counts_.push_back(
          absl::StrCat(sqlite3_changes64(db_), " ", sql::kProcessesPlainName));
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
  bool multi_process_;
  std::string error_;
  std::vector<std::string> counts_;
};

// Renames the finished temporary file into place; "" or what failed.
// Without --force, never replaces a file that appeared meanwhile.
std::string Publish(const std::string& temp, const std::string& output,
                    bool force) {
  int r = ::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, output.c_str(),
                      force ? 0 : RENAME_NOREPLACE);
  if (r != 0 && errno == EINVAL && (force || !Exists(output)))
    r = ::rename(temp.c_str(), output.c_str());  // no renameat2 flags here
  if (r == 0) return {};
  return errno == EEXIST ? output + " exists: not replacing it (use --force)"
                         : absl::StrCat("cannot rename ", temp, " to ", output,
                                        ": ", std::strerror(errno));
}

std::string Count(uint64_t n, const char* what) {
  return absl::StrCat(n, " ", what);
}

struct StreamArgs {
  ExportFormat format;
  std::string trace, output, title;
  bool force = false, collapsed_threads = false, collapsed_processes = false;
  ProgressBar::Mode progress = ProgressBar::Mode::kAuto;
};

// chrome, speedscope, collapsed, html.
int ExportStreamed(const StreamArgs& a) {
  const bool to_stdout = a.output == "-";
  const Target target = to_stdout ? Target::kStream : Classify(a.output);
  if (target == Target::kDirectory)
    return Fail(a.output + " is a directory");
  if (target == Target::kFile && !a.force)
    return Fail(a.output + " exists: not replacing it (use --force)");
  // Through a temporary file renamed into place, unless stdout or a device.
  const bool direct = target == Target::kStream;
  auto reader = TraceReader::Open(a.trace);
  if (!reader.ok()) return Fail(std::string(reader.status().message()));
  std::vector<uint64_t> ended;
  if (absl::Status s = RefreshWithThreadEnds(**reader, &ended); !s.ok())
    return Fail(std::string(s.message()));
  // A trace of many processes: every process, each with its own clock,
  // on the root's time line (ExportTraceProcesses).
  auto tree = ProcessTree::Open(a.trace);
  if (!tree.ok()) return Fail(std::string(tree.status().message()));
  std::vector<std::unique_ptr<TraceReader>> children;
  std::vector<std::vector<uint64_t>> children_ended;
  std::vector<ExportProcess> processes = {{reader->get(), ended, 0}};
  for (size_t i = 1; i < (*tree)->size(); ++i) {
    const ProcessTree::Process& p = (*tree)->process(i);
    auto child = TraceReader::Open(p.path);
    if (!child.ok()) return Fail(std::string(child.status().message()));
    children_ended.emplace_back();
    if (absl::Status s = RefreshWithThreadEnds(**child, &children_ended.back());
        !s.ok())
      return Fail(std::string(s.message()));
    children.push_back(*std::move(child));
  }
  for (size_t i = 0; i < children.size(); ++i)
    processes.push_back({children[i].get(), children_ended[i],
                         (*tree)->process(i + 1).offset_ns});

  const std::string temp =
      direct ? "" : absl::StrCat(a.output, ".tmp-", ::getpid());
  int fd = STDOUT_FILENO;
  if (!to_stdout) {
    const std::string& path = direct ? a.output : temp;
    if (!direct) ::unlink(temp.c_str());
    fd = direct ? ::open(path.c_str(), O_WRONLY | O_CLOEXEC)
                : ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                         0644);
    if (fd < 0)
      return Fail(absl::StrCat("cannot ", direct ? "open " : "create ", path,
                               ": ", std::strerror(errno)));
  }
  const std::string format_name(ExportFormatName(a.format));
  ProgressBar bar(absl::StrCat("exporting ", format_name), a.progress);
  ExportOptions options;
  options.title = a.title;
  options.collapsed_threads = a.collapsed_threads;
  options.collapsed_processes = a.collapsed_processes;
  options.progress = [&bar](uint64_t done, uint64_t total) {
    bar.Update(done, total);
  };
  FdSink sink(fd, to_stdout ? "stdout" : direct ? a.output : temp);
  Output out(&sink);
  absl::StatusOr<ExportStats> stats =
      processes.size() > 1
          ? ExportTraceProcesses(processes, a.format, options, out)
          : ExportTrace(**reader, ended, a.format, options, out);
  absl::Status finished = out.Finish();
  bar.Done();
  std::string error;
  if (!stats.ok()) {
    error = std::string(stats.status().message());
  } else if (!finished.ok()) {
    error = std::string(finished.message());
  }
  if (!to_stdout) {
    if (::close(fd) != 0 && error.empty())
      error = absl::StrCat("cannot write ", direct ? a.output : temp, ": ",
                           std::strerror(errno));
    if (!direct) {
      if (error.empty()) error = Publish(temp, a.output, a.force);
      if (!error.empty()) ::unlink(temp.c_str());
    }
  }
  if (!error.empty()) return Fail(error);

  std::vector<std::string> notes = {Count(stats->calls, "calls"),
                                    Count(stats->events, "events")};
  if (stats->closed_at_end != 0)
    notes.push_back(Count(stats->closed_at_end,
                          "calls still open, ended at their thread's last "
                          "event"));
  if (stats->unmatched != 0)
    notes.push_back(Count(stats->unmatched, "returns without a call"));
  if (stats->folded_calls != 0)
    notes.push_back(Count(stats->folded_calls,
                          "calls on stacks past the limit, under "
                          "[more stacks]"));
  std::string summary;
  for (const auto& n : notes)
    absl::StrAppend(&summary, summary.empty() ? "" : ", ", n);
  // The summary goes to stderr when the data may have gone to stdout.
  std::fprintf(direct ? stderr : stdout, "wrote %s (%s: %s, %llu bytes)\n",
               to_stdout ? "stdout" : a.output.c_str(), format_name.c_str(),
               summary.c_str(), static_cast<unsigned long long>(out.bytes()));
  std::fflush(stdout);
  return ReportProblems("export", (*tree)->AllProblems());
}

}  // namespace

int RunExport(const std::vector<std::string>& args) {
  std::string format, output, trace, title;
  bool force = false, collapsed_threads = false, collapsed_processes = false;
  ProgressBar::Mode progress = ProgressBar::Mode::kAuto;
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
    } else if (a == "--title") {
      if (!value(&title))
        return Fail("--title needs a value\n" + std::string(kUsage));
    } else if (a == "--threads") {
      collapsed_threads = true;
    } else if (a == "--processes") {
      collapsed_processes = true;
    } else if (a == "--progress") {
      progress = ProgressBar::Mode::kAlways;
    } else if (a == "--no-progress") {
      progress = ProgressBar::Mode::kNever;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
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
  if (output != "-" && InsideTrace(output, trace))
    return Fail(output + " is inside the trace being exported: not writing "
                "there");
  if (format != "sqlite") {
    StreamArgs stream;
    if (!ParseExportFormat(format, &stream.format))
      return Fail(absl::StrCat("unknown format '", format,
                               "' (formats: chrome, speedscope, collapsed, "
                               "html, sqlite)"));
    stream.trace = trace;
    stream.output = output;
    stream.title = title;
    stream.force = force;
    stream.collapsed_threads = collapsed_threads;
    stream.collapsed_processes = collapsed_processes;
    stream.progress = progress;
    return ExportStreamed(stream);
  }
  if (output == "-") return Fail("sqlite needs a file name: -o OUT.db");
  if (collapsed_threads) return Fail("--threads is for --format collapsed");
  if (collapsed_processes) return Fail("--processes is for --format collapsed");
  if (const Target t = Classify(output);
      t == Target::kDirectory || t == Target::kStream)
    return Fail(output + " is not a regular file (sqlite writes a database)");
  if (Exists(output) && !force)
    return Fail(output + " exists: not replacing it (use --force)");

  auto reader = TraceReader::Open(trace);
  if (!reader.ok()) return Fail(std::string(reader.status().message()));
  auto tree = ProcessTree::Open(trace);
  if (!tree.ok()) return Fail(std::string(tree.status().message()));
  const bool multi_process = (*tree)->MultiProcess();

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
      Exporter exporter(db.get(), trace, multi_process);
      error = exporter.Run(**reader);
      counts = exporter.counts();
    }
  }
  if (error.empty()) error = Publish(temp, output, force);
  if (!error.empty()) {
    ::unlink(temp.c_str());
    return Fail(error);
  }
  std::string summary;
  for (const auto& c : counts)
    absl::StrAppend(&summary, summary.empty() ? "" : ", ", c);
  std::printf("wrote %s (%s)\n", output.c_str(), summary.c_str());
  std::fflush(stdout);
  // What the copy read: every process's problems.
  if (absl::Status s = (*tree)->Refresh(); !s.ok())
    return Fail(std::string(s.message()));
  return ReportProblems("export", (*tree)->AllProblems());
}

}  // namespace tracestore::cli
