// One self-contained HTML page for a trace: an interactive flame graph
// (click a frame to zoom into it, Esc to zoom out, a search box that
// highlights matching frames and says how much time they hold) and a
// sortable table of the functions by self time, total time and calls. No
// network access: the HTML, CSS and script are in the file, with the data
// as JSON in a <script type="application/json"> element.
//
//   tracestore export run.trace --format html -o run.html
//   xdg-open run.html
//
// The graph is the StackTree (stack_tree.h) by thread: the root spans all
// threads, each thread is a frame below it, its calls below that; a frame's
// width is its total time. At most ExportOptions::max_html_frames frames,
// the widest, go into the page (a narrower one could not be seen anyway);
// the table holds the max_html_functions functions with the most self time,
// computed by Profile (profile.h), so its totals count recursion once.
// Opening the page as page.html#q=REGEX starts with that search.
// When the trace has line events (record --lines), clicking a function (in
// the table or the graph) shows its source with hits, times and a heat bar
// per line (export/line_view.h); page.html#lines=NAME opens that view. That
// takes one more pass over the events.
// The page's markup, style and script live in flamegraph_template.cc.

#ifndef TRACESTORE_EXPORT_FLAMEGRAPH_HTML_H_
#define TRACESTORE_EXPORT_FLAMEGRAPH_HTML_H_

#include <span>
#include <string_view>

#include "absl/status/statusor.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::StatusOr<ExportStats> WriteFlameGraphHtml(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out);

// Every process (export.h, ExportTraceProcesses): a frame per process
// ("pid N: command line") under "all", threads under it; one function
// table whose rows add up the processes' calls of a function (same name,
// file and line).
absl::StatusOr<ExportStats> WriteFlameGraphHtmlProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out);

namespace internal {
// The page, with kFlameGraphDataMarker where the JSON data goes.
extern const std::string_view kFlameGraphTemplate;
inline constexpr std::string_view kFlameGraphDataMarker = "__TRACESTORE_DATA__";
}  // namespace internal

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_FLAMEGRAPH_HTML_H_
