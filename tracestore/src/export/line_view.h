// The HTML report's line view data (issue 20): for the functions of the
// page's function table that have line events, their per-line hits and
// times (line_times.h) and their source text, as the "lines" member of the
// page's JSON:
//
//   "lines": [[name, first_line, source_status, [text, ...],
//              [line, hits, self_ns, in_calls_ns, ...]], ...]
//
// name is the function's index in "names"; the texts are the source lines
// first_line .. the last line that ran; source_status is 0 (text included),
// 1 (the source file was not found) or 2 (left out: the page's source
// budget was spent on hotter functions).

#ifndef TRACESTORE_EXPORT_LINE_VIEW_H_
#define TRACESTORE_EXPORT_LINE_VIEW_H_

#include <cstdint>
#include <functional>
#include <span>

#include "tracestore/event_scan.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore::internal {

struct LineViewLimits {
  uint64_t max_source_lines = 200'000;       // over all functions
  uint32_t max_function_source_lines = 5'000;
};

// Writes `"lines":[...]` for `functions` (in table order). name_index
// gives a function's index in the page's names.
void WriteLineView(const TraceReader& trace,
                   std::span<const uint64_t> thread_ended,
                   const TimeScale& time, std::span<const uint32_t> functions,
                   const std::function<uint32_t(uint32_t)>& name_index,
                   const LineViewLimits& limits, Output& out);

}  // namespace tracestore::internal

#endif  // TRACESTORE_EXPORT_LINE_VIEW_H_
