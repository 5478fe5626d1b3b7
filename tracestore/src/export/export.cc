// ExportTrace: one entry point over the format writers.

#include "tracestore/export/export.h"

#include "export/export_driver.h"
#include "tracestore/export/chrome_trace.h"
#include "tracestore/export/collapsed.h"
#include "tracestore/export/flamegraph_html.h"
#include "tracestore/export/perfetto.h"
#include "tracestore/export/speedscope.h"

namespace tracestore {

namespace {

struct FormatName {
  ExportFormat format;
  std::string_view name;
};
constexpr FormatName kFormats[] = {
    {ExportFormat::kChrome, "chrome"},
    {ExportFormat::kSpeedscope, "speedscope"},
    {ExportFormat::kCollapsed, "collapsed"},
    {ExportFormat::kHtml, "html"},
    {ExportFormat::kPerfetto, "perfetto"},
};

}  // namespace

bool ParseExportFormat(std::string_view name, ExportFormat* format) {
  for (const FormatName& f : kFormats) {
    if (f.name == name) {
      *format = f.format;
      return true;
    }
  }
  return false;
}

std::string_view ExportFormatName(ExportFormat format) {
  for (const FormatName& f : kFormats)
    if (f.format == format) return f.name;
  return "";
}

absl::StatusOr<ExportStats> ExportTrace(const TraceReader& trace,
                                        std::span<const uint64_t> thread_ended,
                                        ExportFormat format,
                                        const ExportOptions& options,
                                        Output& out) {
  switch (format) {
    case ExportFormat::kChrome:
      return WriteChromeTrace(trace, thread_ended, options, out);
    case ExportFormat::kSpeedscope:
      return WriteSpeedscope(trace, thread_ended, options, out);
    case ExportFormat::kCollapsed:
      return WriteCollapsed(trace, thread_ended, options, out);
    case ExportFormat::kHtml:
      return WriteFlameGraphHtml(trace, thread_ended, options, out);
    case ExportFormat::kPerfetto:
      return WritePerfettoTrace(trace, thread_ended, options, out);
  }
  return absl::InvalidArgumentError("unknown export format");
}

ExportStats StreamCalls(const TraceReader& trace,
                        std::span<const uint64_t> thread_ended,
                        const ExportOptions& options, CallVisitor& visitor) {
  internal::ExportDriver driver(trace, thread_ended, options);
  StringSink none;  // the driver's output check: nothing is written to it
  Output out(&none);
  driver.RunAll(visitor, out);
  return driver.stats();
}

absl::StatusOr<ExportStats> ExportTraceProcesses(
    std::span<const ExportProcess> processes, ExportFormat format,
    const ExportOptions& options, Output& out) {
  if (processes.empty()) return absl::InvalidArgumentError("no process");
  if (processes.size() == 1)
    return ExportTrace(*processes[0].trace, processes[0].thread_ended, format,
                       options, out);
  switch (format) {
    case ExportFormat::kChrome:
      return WriteChromeTraceProcesses(processes, options, out);
    case ExportFormat::kSpeedscope:
      return WriteSpeedscopeProcesses(processes, options, out);
    case ExportFormat::kCollapsed:
      return WriteCollapsedProcesses(processes, options, out);
    case ExportFormat::kHtml:
      return WriteFlameGraphHtmlProcesses(processes, options, out);
    case ExportFormat::kPerfetto:
      return absl::UnimplementedError(
          "the perfetto export reads one process: export a child's trace "
          "(TRACE/child-PID.trace) on its own, or use --format chrome for "
          "the whole tree");
  }
  return absl::InvalidArgumentError("unknown export format");
}

}  // namespace tracestore
