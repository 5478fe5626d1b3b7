// Folded ("collapsed") stacks, the input of flamegraph.pl and inferno:
// one line per distinct call stack, frames from the root joined by ';',
// then a space and the ns of self time spent in that stack.
//
//   app.main;app.load;json.loads 1200345
//   app.main;app.work 98000312
//
//   tracestore export run.trace --format collapsed -o run.folded
//   flamegraph.pl --countname ns run.folded > run.svg   # or inferno-flamegraph
//
// The values add up to the traced self time (sum of self_dur in `calls`).
// Stacks with no self time are left out. Frames are FunctionLabel()s with
// ';' turned into ':' and control characters into spaces; with
// ExportOptions::collapsed_threads each stack starts with "thread NAME".
// Distinct stacks are capped (ExportOptions::max_stack_nodes, stack_tree.h).

#ifndef TRACESTORE_EXPORT_COLLAPSED_H_
#define TRACESTORE_EXPORT_COLLAPSED_H_

#include <span>

#include "absl/status/statusor.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::StatusOr<ExportStats> WriteCollapsed(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out);

// Every process (export.h, ExportTraceProcesses): with
// options.collapsed_processes a root frame "pid N: command line" per process,
// else the stacks of all processes merged by their text.
absl::StatusOr<ExportStats> WriteCollapsedProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out);

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_COLLAPSED_H_
