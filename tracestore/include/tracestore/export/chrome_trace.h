// The Trace Event format (JSON) that Perfetto UI (ui.perfetto.dev, "Open
// trace file") and chrome://tracing open: one complete event ("ph":"X")
// per call, thread and process names as metadata events ("ph":"M"), marks
// as instant events (points) and async begin/end pairs (ranges).
//
//   {"displayTimeUnit":"ns","otherData":{...},"traceEvents":[
//   {"ph":"M","pid":42,"tid":42,"name":"process_name","args":{"name":"app.py"}},
//   {"ph":"X","pid":42,"tid":42,"ts":12.345,"dur":0.678,"name":"app.main","cat":"python"},
//   ...]}
//
// Times are microseconds since the trace started, with three decimals (ns
// exact); a call's ts + dur is its end exactly. tid is the OS thread id
// (made unique when the OS reused one). Events are written as the calls
// close, one per line, so a callee comes before its caller: viewers sort.
// See export.h for the streaming and what happens to open calls.

#ifndef TRACESTORE_EXPORT_CHROME_TRACE_H_
#define TRACESTORE_EXPORT_CHROME_TRACE_H_

#include <span>

#include "absl/status/statusor.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::StatusOr<ExportStats> WriteChromeTrace(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out);

using ChromeProcess = ExportProcess;

// Every process in one file, each under its own pid (named "pid N: its
// command line"; the first, the root, by ExportOptions::title's rule), its
// threads named per process, times on the first process's time line.
// otherData describes the first. With one process, the same as
// WriteChromeTrace.
absl::StatusOr<ExportStats> WriteChromeTraceProcesses(
    std::span<const ChromeProcess> processes, const ExportOptions& options,
    Output& out);

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_CHROME_TRACE_H_
