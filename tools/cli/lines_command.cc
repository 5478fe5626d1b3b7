// `tracestore lines TRACE [--function NAME|ID] [-n N]`: per-line hits and
// times (record --lines), the way kernprof / line_profiler prints them: for
// each function, its source with hits, time, time per hit and % of the
// function's time beside each line that ran.
//
//   tracestore lines run.trace                     # the 10 functions whose
//                                                  # lines ran longest (self)
//   tracestore lines run.trace --function mod.work  # or a function id
//
// A line's time is its own running plus the callees it started
// (line_times.h); "In calls" is the callees' part. % Time is of the sum of
// the function's line times. The source is read from the file the trace
// names; when it is not there the lines are shown without their text, and
// a note says so. Exit 0; 2 on a usage error, a trace that cannot be
// opened, no line events or no such function; 3 when the trace is damaged
// (the problems on stderr, the output what could be read).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "problem_report.h"
#include "tracestore/line_times.h"
#include "tracestore/source_lines.h"
#include "tracestore/trace_view.h"

namespace tracestore::cli {

namespace {

constexpr char kUsage[] =
    "usage: tracestore lines TRACE [--function NAME|ID] [-n N]\n"
    "  per-line hits and times of a trace recorded with --lines;\n"
    "  NAME: a qualified name (Class.method) or module.qualname;\n"
    "  -n N: the N functions whose lines ran longest, callees not\n"
    "        counted (default 10)\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "tracestore lines: %s\n", message.c_str());
  return kExitUsage;
}

// A failure on a damaged trace: what the reader found wrong first (the
// missing lines may be why), then the message.
int FailDamaged(const Problems& problems, const std::string& message) {
  for (const std::string& line : problems.Summary())
    std::fprintf(stderr, "tracestore lines: warning: %s\n", line.c_str());
  return Fail(message);
}

struct FunctionLines {
  uint32_t function;
  uint64_t total_ns = 0;  // sum of its lines' times
  uint64_t self_ns = 0;   // sum of its lines' self times: the ranking
  std::vector<LineTimes::Row> rows;
};

// A line's time as the SQL table shows it: self + time_in_calls, each
// converted once.
uint64_t LineNs(const TimeScale& time, const LineStat& s) {
  return time.ToNs(s.self_ticks) + time.ToNs(s.call_ticks);
}

std::string Micros(uint64_t ns) {
  return absl::StrFormat("%.1f", static_cast<double>(ns) / 1000.0);
}

void Print(const TraceReader& trace, const TimeScale& time,
           const FunctionLines& fl) {
  const auto functions = trace.functions();
  std::string name = "?", module, file;
  uint32_t first_line = 0;
  if (fl.function != 0 && fl.function <= functions.size()) {
    const format::FunctionRecord& f = functions[fl.function - 1];
    name = std::string(trace.String(f.qualname));
    module = std::string(trace.String(f.module));
    file = std::string(trace.String(f.file));
    first_line = f.first_line;
  }
  std::printf("Total time: %.6f s\n", static_cast<double>(fl.total_ns) / 1e9);
  std::printf("File: %s\n", file.c_str());
  std::printf("Function: %s%s%s at line %u (id %u)\n", module.c_str(),
              module.empty() ? "" : ".", name.c_str(), first_line,
              fl.function);
  SourceLines source;
  const bool have_source = source.Read(file);
  if (!have_source)
    std::printf("(source file not found: %s; lines shown without text)\n",
                file.empty() ? "no file recorded" : file.c_str());
  std::printf("\n%6s %10s %12s %10s %7s %12s  %s\n", "Line #", "Hits",
              "Time (us)", "Per Hit", "% Time", "In calls", "Line Contents");
  std::printf("%s\n", std::string(86, '=').c_str());
  std::map<uint32_t, const LineTimes::Row*> by_line;
  uint32_t last = 0;
  for (const LineTimes::Row& r : fl.rows) {
    by_line[r.line] = &r;
    last = std::max(last, r.line);
  }
  // The function's text from its first line to its last line that ran
  // (with the source); only the lines that ran (without).
  uint32_t from = first_line != 0 && first_line <= last ? first_line
                                                        : fl.rows.front().line;
  if (have_source) last = std::min(last, std::max(source.size(), from));
  for (uint32_t line = from; line <= last; ++line) {
    auto it = by_line.find(line);
    if (it == by_line.end() && !have_source) continue;
    const std::string_view text = have_source ? source.Line(line) : "";
    if (it == by_line.end()) {
      std::printf("%6u %10s %12s %10s %7s %12s  %.*s\n", line, "", "", "", "",
                  "", static_cast<int>(text.size()), text.data());
      continue;
    }
    const LineStat& s = it->second->stat;
    const uint64_t ns = LineNs(time, s);
    const double pct =
        fl.total_ns == 0 ? 0.0 : 100.0 * static_cast<double>(ns) /
                                     static_cast<double>(fl.total_ns);
    std::printf("%6u %10llu %12s %10s %7.1f %12s  %.*s\n", line,
                static_cast<unsigned long long>(s.hits), Micros(ns).c_str(),
                s.hits ? Micros(ns / s.hits).c_str() : "", pct,
                Micros(time.ToNs(s.call_ticks)).c_str(),
                static_cast<int>(text.size()), text.data());
  }
  // Lines beyond the end of the file as it is now: the file changed.
  for (const auto& [line, row] : by_line) {
    if (line <= last) continue;
    const LineStat& s = row->stat;
    std::printf("%6u %10llu %12s %10s %7s %12s  (beyond the end of the file)\n",
                line, static_cast<unsigned long long>(s.hits),
                Micros(LineNs(time, s)).c_str(), "", "", "");
  }
  std::printf("\n");
}

// Whether `want` names function f: its id, its qualname, or module.qualname.
bool Names(const TraceReader& trace, const format::FunctionRecord& f,
           const std::string& want) {
  const std::string_view name = trace.String(f.qualname);
  if (want == name) return true;
  const std::string_view module = trace.String(f.module);
  return !module.empty() && want.size() == module.size() + 1 + name.size() &&
         want.compare(0, module.size(), module) == 0 &&
         want[module.size()] == '.' &&
         want.compare(module.size() + 1, std::string::npos, name) == 0;
}

}  // namespace

int RunLines(const std::vector<std::string>& args) {
  std::vector<std::string> positional;
  std::string function;
  bool have_function = false;
  size_t max_functions = 10;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a == "--function" || a == "-f") {
      if (i + 1 >= args.size()) return Fail("--function needs a NAME or ID");
      function = args[++i];
      have_function = true;
    } else if (a == "-n") {
      uint64_t n = 0;
      if (i + 1 >= args.size() || !absl::SimpleAtoi(args[i + 1], &n) || n == 0)
        return Fail("-n needs a positive number");
      ++i;
      max_functions = static_cast<size_t>(n);
    } else if (a.size() > 1 && a[0] == '-') {
      std::fprintf(stderr, "tracestore lines: unknown option '%s'\n%s",
                   a.c_str(), kUsage);
      return kExitUsage;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 1) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  auto opened = TraceView::Open(positional[0]);
  if (!opened.ok()) return Fail(std::string(opened.status().message()));
  TraceView& view = **opened;
  if (absl::Status s = view.CheckStores(TraceView::kEvents |
                                        TraceView::kFunctions |
                                        TraceView::kStrings);
      !s.ok())
    return Fail(std::string(s.message()));
  const TraceReader& trace = view.reader();
  const TimeScale& time = view.time();
  const LineTimes& lines = view.lines();
  if (lines.line_events() == 0)
    return FailDamaged(trace.AllProblems(), positional[0] +
                " has no line events (record with --lines to get them)");

  // The functions asked for.
  std::vector<FunctionLines> shown;
  {
    std::vector<LineTimes::Row> rows = lines.Rows(0, UINT32_MAX);
    for (const LineTimes::Row& r : rows) {
      if (shown.empty() || shown.back().function != r.function)
        shown.push_back(FunctionLines{r.function, 0, 0, {}});
      shown.back().rows.push_back(r);
      shown.back().total_ns += LineNs(time, r.stat);
      shown.back().self_ns += time.ToNs(r.stat.self_ticks);
    }
  }
  const auto functions = trace.functions();
  if (have_function) {
    uint64_t id = 0;
    const bool by_id = absl::SimpleAtoi(function, &id);
    std::vector<FunctionLines> picked;
    bool exists = false;
    for (FunctionLines& fl : shown) {
      const bool match =
          by_id ? fl.function == id
                : fl.function != 0 && fl.function <= functions.size() &&
                      Names(trace, functions[fl.function - 1], function);
      if (match) picked.push_back(std::move(fl));
    }
    for (uint32_t i = 0; i < functions.size() && !exists; ++i)
      exists = by_id ? functions[i].id == id
                     : Names(trace, functions[i], function);
    if (picked.empty())
      return FailDamaged(trace.AllProblems(), exists ? absl::StrCat("function ", function,
                                        " has no line events in this trace")
                         : absl::StrCat("no function ", function,
                                        " in this trace"));
    shown = std::move(picked);
  } else {
    std::stable_sort(shown.begin(), shown.end(),
                     [](const FunctionLines& a, const FunctionLines& b) {
                       return a.self_ns > b.self_ns;
                     });
    if (shown.size() > max_functions) shown.resize(max_functions);
  }
  std::printf("Timer unit: 1e-06 s (times in microseconds)\n\n");
  for (const FunctionLines& fl : shown) Print(trace, time, fl);
  std::fflush(stdout);
  return ReportProblems("lines", trace.AllProblems());
}

}  // namespace tracestore::cli
