// Exports of a trace to the files other viewers open, streamed: each
// writer walks the calls once, thread by thread, through a CallStream
// (call_stream.h) and writes as it goes, so memory stays bounded by the
// call depth (chrome, speedscope) or by the distinct call stacks, capped
// (collapsed, html) — never by the trace's length.
//
//   auto trace = TraceReader::Open("run.trace");
//   std::vector<uint64_t> ended;
//   TS_RETURN_IF_ERROR(RefreshWithThreadEnds(**trace, &ended));
//   FdSink sink(fd, "out.json");
//   Output out(&sink);
//   ExportOptions options;
//   auto stats = ExportTrace(**trace, ended, ExportFormat::kChrome, options,
//                            out);
//   TS_RETURN_IF_ERROR(out.Finish());
//
// The formats, one writer each:
//   kChrome      Trace Event JSON (chrome_trace.h): Perfetto, chrome://tracing
//   kSpeedscope  speedscope's file format, one evented profile per thread
//                (speedscope.h)
//   kCollapsed   folded stacks for flamegraph.pl / inferno, ns of self time
//                (collapsed.h)
//   kHtml        one self-contained page: flame graph and function table
//                (flamegraph_html.h)
//   kPerfetto    Perfetto's native protobuf trace (TrackEvent): Perfetto UI,
//                trace_processor (perfetto.h)
//
// A live trace (or one whose writer died) is exported as what the reader
// shows: calls still open are closed at their thread's last event, and
// counted in ExportStats::closed_at_end. Function names are FunctionLabel()s.
//
// Thread-safety: none; the reader must not be refreshed during an export.

#ifndef TRACESTORE_EXPORT_EXPORT_H_
#define TRACESTORE_EXPORT_EXPORT_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "tracestore/call_stream.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

enum class ExportFormat { kChrome, kSpeedscope, kCollapsed, kHtml, kPerfetto };

// "chrome", "speedscope", "collapsed", "html", "perfetto"; false for
// anything else.
bool ParseExportFormat(std::string_view name, ExportFormat* format);
std::string_view ExportFormatName(ExportFormat format);

struct ExportOptions {
  // Called every million events or so, and after each thread, with the
  // events consumed and the events to consume in all.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // collapsed: a root frame per thread ("thread MainThread") instead of
  // merging every thread's stacks.
  bool collapsed_threads = false;
  // collapsed, of many processes: a root frame per process ("pid 42: cmd")
  // instead of merging every process's stacks (html always has it).
  bool collapsed_processes = false;
  // collapsed, html: distinct call stacks kept; calls on stacks beyond it
  // add their time to a "[more stacks]" frame under the deepest one kept,
  // so the sums stay exact.
  size_t max_stack_nodes = size_t{1} << 20;
  // html: frames sent to the page (the widest); the rest of their parent's
  // width shows empty. And rows of the function table (most self time).
  size_t max_html_frames = 50'000;
  size_t max_html_functions = 5'000;
  // html, speedscope: the name shown; default the command line, else the
  // trace's path.
  std::string title;
  // Every format: calls shorter than this (ns) are left out; their time
  // stays in their callers (self time, and the callers' full span on a
  // timeline), and ExportStats says how many and how long.
  uint64_t min_dur_ns = 0;
  // Called for a thread right before its calls still open (a live trace,
  // or one whose writer died) are closed at its last event: a writer that
  // shows them as open (the sqlite export: dur NULL) can tell them apart.
  std::function<void(uint32_t thread)> before_finish;
};

struct ExportStats {
  uint64_t events = 0;         // events consumed
  uint64_t calls = 0;          // calls exported (resumes not counted)
  uint64_t resumes = 0;        // generator/coroutine resumes exported
  uint64_t closed_at_end = 0;  // calls still open, closed at the end
  uint64_t unmatched = 0;      // closing events that matched no call
  uint64_t folded_calls = 0;   // calls under "[more stacks]"
  uint64_t short_calls = 0;    // min_dur_ns: calls left out
  uint64_t short_resumes = 0;  //   resumes left out
  uint64_t short_ns = 0;       //   their time (outermost ones only)

  // Adds another process's figures (the exports of a process tree).
  ExportStats& operator+=(const ExportStats& o) {
    events += o.events;
    calls += o.calls;
    resumes += o.resumes;
    closed_at_end += o.closed_at_end;
    unmatched += o.unmatched;
    folded_calls += o.folded_calls;
    short_calls += o.short_calls;
    short_resumes += o.short_resumes;
    short_ns += o.short_ns;
    return *this;
  }
};

// One process of a trace of many (process_tree.h): its trace, its thread
// ends (RefreshWithThreadEnds) and where its time 0 lies on the first
// process's time line.
struct ExportProcess {
  const TraceReader* trace;
  std::span<const uint64_t> thread_ended;
  uint64_t offset_ns = 0;
};

// Every process in one file, the first being the root: chrome, one pid per
// process; speedscope, a profile per process and thread; collapsed, a root
// frame per process with collapsed_processes (else the stacks of all
// processes merged by name); html, a frame per process under "all" and one
// function table. With one process: the same as ExportTrace.
absl::StatusOr<ExportStats> ExportTraceProcesses(
    std::span<const ExportProcess> processes, ExportFormat format,
    const ExportOptions& options, Output& out);

// Writes the export to `out`; the caller Finish()es it. thread_ended as
// from RefreshWithThreadEnds (call_stream.h). Fails on an output error.
absl::StatusOr<ExportStats> ExportTrace(const TraceReader& trace,
                                        std::span<const uint64_t> thread_ended,
                                        ExportFormat format,
                                        const ExportOptions& options,
                                        Output& out);

// The walk every format shares, for a writer outside the library (the
// CLI's sqlite export): each thread's calls to `visitor`, thread by thread,
// calls shorter than options.min_dur_ns left out, calls still open closed
// at the end, progress reported. A visitor that fails remembers it and
// ignores the calls after.
ExportStats StreamCalls(const TraceReader& trace,
                        std::span<const uint64_t> thread_ended,
                        const ExportOptions& options, CallVisitor& visitor);

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_EXPORT_H_
