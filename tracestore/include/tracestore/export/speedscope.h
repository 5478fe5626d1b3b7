// speedscope's file format
// (https://www.speedscope.app/file-format-schema.json): the functions as shared
// frames, and one "evented" profile per thread whose open ("O") and close ("C")
// events are the calls, in time order, in nanoseconds since the trace started.
//
//   {"$schema":"https://www.speedscope.app/file-format-schema.json",
//    "shared":{"frames":[{"name":"app.main","file":"/src/app.py","line":3},..]},
//    "profiles":[{"type":"evented","name":"MainThread","unit":"nanoseconds",
//      "startValue":0,"events":[{"type":"O","frame":0,"at":120},...],
//      "endValue":9000}],
//    "name":"app.py","activeProfileIndex":0,"exporter":"tracestore export"}
//
// Frame i is function id i + 1; the last frame stands for events without a
// known function. Threads without events get no profile. See export.h for
// the streaming and what happens to open calls.

#ifndef TRACESTORE_EXPORT_SPEEDSCOPE_H_
#define TRACESTORE_EXPORT_SPEEDSCOPE_H_

#include <span>

#include "absl/status/statusor.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::StatusOr<ExportStats> WriteSpeedscope(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out);

// Every process (export.h, ExportTraceProcesses): one profile per process and
// thread, named "pid N: thread", frames shared, times on the first
// process's time line.
absl::StatusOr<ExportStats> WriteSpeedscopeProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out);

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_SPEEDSCOPE_H_
