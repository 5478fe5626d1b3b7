// `tracestore export TRACE --format FMT -o OUT [--force]`: writes a trace in
// a format other tools open.
//
//   tracestore export run.trace --format chrome -o run.json  # Perfetto UI
//   tracestore export run.trace --format perfetto -o run.pftrace
//   tracestore export run.trace --format chrome --min-dur 50us -o run.json
//   tracestore export run.trace --format speedscope -o run.ss.json
//   tracestore export run.trace --format collapsed -o - | flamegraph.pl >x.svg
//   tracestore export run.trace --format html -o run.html  # flame graph
//   tracestore export --format sqlite run.trace -o run.db
//   sqlite3 run.db "SELECT name, sum(self_dur) FROM calls GROUP BY 1"
//
// --min-dur DURATION (every format): calls shorter than DURATION (ns, us,
// ms or s) are left out; their time stays in their callers, and the
// summary says how many and how long.
//
// chrome, perfetto, speedscope, collapsed and html are streamed by the library's
// writers (tracestore/export/*.h) in memory bounded by the call depth or the
// distinct stacks; a progress bar shows on stderr when the export takes
// more than a couple of seconds and stderr is a terminal (--progress: always,
// --no-progress: never). `-o -` writes to stdout; a device or named pipe
// (/dev/null, a FIFO) is written in place.
//
// sqlite: a regular SQLite database with the tables `query` shows, streamed;
// a trace of many processes gets a pid column and a processes table
// (sqlite_export.h).
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
#include "absl/strings/str_format.h"
#include "commands.h"
#include "problem_report.h"
#include "progress.h"
#include "sqlite_export.h"
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
    "                         [--min-dur DURATION]\n"
    "formats:\n"
    "  chrome       Trace Event JSON (Perfetto UI, chrome://tracing)\n"
    "  perfetto     Perfetto's native protobuf trace (Perfetto UI,\n"
    "               trace_processor): a few times smaller than chrome\n"
    "  speedscope   speedscope's JSON (one evented profile per thread)\n"
    "  collapsed    folded stacks for flamegraph.pl / inferno (ns of self\n"
    "               time); --threads: a root frame per thread,\n"
    "               --processes: a root frame per process\n"
    "  html         one self-contained page: flame graph and function table\n"
    "  sqlite       a regular SQLite database of the query tables\n"
    "options: -o - (stdout; not sqlite), --title TEXT, --progress,\n"
    "         --no-progress, --min-dur DURATION (leave out calls shorter\n"
    "         than DURATION, e.g. 50us or 1ms: their time stays in their\n"
    "         callers)\n";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
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

// "250ns", "50us", "1.5ms", "2s" -> ns; false for anything else.
bool ParseDuration(const std::string& text, uint64_t* ns) {
  struct Unit {
    const char* suffix;
    double ns;
  };
  constexpr Unit kUnits[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}};
  for (const Unit& u : kUnits) {
    const size_t n = std::strlen(u.suffix);
    if (text.size() <= n || text.compare(text.size() - n, n, u.suffix) != 0)
      continue;
    const std::string number = text.substr(0, text.size() - n);
    if (number.find_first_not_of("0123456789.") != std::string::npos)
      return false;
    char* end = nullptr;
    const double v = std::strtod(number.c_str(), &end);
    if (end == number.c_str() || *end != '\0' || !(v >= 0) || v * u.ns > 1e18)
      return false;
    *ns = static_cast<uint64_t>(v * u.ns + 0.5);
    return true;
  }
  return false;
}

std::string DurationText(uint64_t ns) {
  if (ns >= 1'000'000'000 && ns % 1'000'000 == 0)
    return absl::StrCat(ns / 1e9, "s");
  if (ns >= 1'000'000 && ns % 1'000 == 0) return absl::StrCat(ns / 1e6, "ms");
  if (ns >= 1'000) return absl::StrCat(ns / 1e3, "us");
  return absl::StrCat(ns, "ns");
}

// What --min-dur left out, for the summary line.
std::string ShortNote(const ExportStats& stats, uint64_t min_dur_ns) {
  return absl::StrCat(stats.short_calls, " calls (and ", stats.short_resumes,
                      " resumes) shorter than ", DurationText(min_dur_ns),
                      " left out: ",
                      absl::StrFormat("%.3f", stats.short_ns / 1e6),
                      " ms, in their callers' self time");
}

struct StreamArgs {
  ExportFormat format;
  uint64_t min_dur_ns = 0;
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
  options.min_dur_ns = a.min_dur_ns;
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
  if (stats->resumes != 0)
    notes.push_back(Count(stats->resumes, "generator/coroutine resumes"));
  if (a.min_dur_ns != 0) notes.push_back(ShortNote(*stats, a.min_dur_ns));
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
  std::string format, output, trace, title, min_dur;
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
    } else if (a == "--min-dur") {
      if (!value(&min_dur))
        return Fail("--min-dur needs a duration (e.g. 50us)\n" +
                    std::string(kUsage));
    } else if (a.rfind("--min-dur=", 0) == 0) {
      min_dur = a.substr(10);
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
  uint64_t min_dur_ns = 0;
  if (!min_dur.empty() && !ParseDuration(min_dur, &min_dur_ns))
    return Fail("--min-dur '" + min_dur +
                "' is not a duration: a number with ns, us, ms or s (50us)");
  if (output != "-" && InsideTrace(output, trace))
    return Fail(output + " is inside the trace being exported: not writing "
                "there");
  if (format != "sqlite") {
    StreamArgs stream;
    if (!ParseExportFormat(format, &stream.format))
      return Fail(absl::StrCat("unknown format '", format,
                               "' (formats: chrome, perfetto, speedscope, "
                               "collapsed, html, sqlite)"));
    stream.trace = trace;
    stream.output = output;
    stream.title = title;
    stream.force = force;
    stream.collapsed_threads = collapsed_threads;
    stream.collapsed_processes = collapsed_processes;
    stream.progress = progress;
    stream.min_dur_ns = min_dur_ns;
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
  std::vector<uint64_t> ended;
  if (absl::Status s = RefreshWithThreadEnds(**reader, &ended); !s.ok())
    return Fail(std::string(s.message()));
  auto tree = ProcessTree::Open(trace);
  if (!tree.ok()) return Fail(std::string(tree.status().message()));
  const bool multi_process = (*tree)->MultiProcess();

  const std::string temp = absl::StrCat(output, ".tmp-", ::getpid());
  ::unlink(temp.c_str());
  std::string error;
  std::vector<std::string> counts;
  ExportStats stats;
  ProgressBar bar("exporting sqlite", progress);
  ExportOptions options;
  options.min_dur_ns = min_dur_ns;
  options.progress = [&bar](uint64_t done, uint64_t total) {
    bar.Update(done, total);
  };
  {
    SqliteExport exporter(temp, trace, **reader, ended, options,
                          multi_process);
    error = exporter.Run();
    counts = exporter.counts();
    stats = exporter.stats();
  }
  bar.Done();
  if (error.empty()) error = Publish(temp, output, force);
  if (!error.empty()) {
    ::unlink(temp.c_str());
    return Fail(error);
  }
  if (min_dur_ns != 0)
    counts.push_back(ShortNote(stats, min_dur_ns));
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
