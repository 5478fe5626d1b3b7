// The line view data of the HTML report (line_view.h).

#include "export/line_view.h"

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tracestore/line_times.h"
#include "tracestore/source_lines.h"

namespace tracestore::internal {

void WriteLineView(const TraceReader& trace,
                   std::span<const uint64_t> thread_ended,
                   const TimeScale& time, std::span<const uint32_t> functions,
                   const std::function<uint32_t(uint32_t)>& name_index,
                   const LineViewLimits& limits, Output& out) {
  LineTimes lines;
  lines.Update(trace, thread_ended);
  out.Append("\"lines\":[");
  if (lines.line_events() == 0) {
    out.Char(']');
    return;
  }
  const auto records = trace.functions();
  absl::flat_hash_map<std::string, std::unique_ptr<SourceLines>> files;
  uint64_t budget = limits.max_source_lines;
  bool first_function = true;
  for (uint32_t id : functions) {
    if (id == 0 || id > records.size()) continue;
    const std::vector<LineTimes::Row> rows = lines.Rows(id, id);
    if (rows.empty()) continue;
    const format::FunctionRecord& f = records[id - 1];
    const std::string file(trace.String(f.file));
    auto [it, added] = files.try_emplace(file, nullptr);
    if (added) {
      auto src = std::make_unique<SourceLines>();
      if (src->Read(file)) it->second = std::move(src);
    }
    const SourceLines* src = it->second.get();
    const uint32_t last = rows.back().line;
    const uint32_t first =
        f.first_line != 0 && f.first_line <= rows.front().line
            ? f.first_line
            : rows.front().line;
    int status = 0;
    uint32_t text_last = 0;
    if (src == nullptr) {
      status = 1;
    } else {
      text_last = std::min(last, src->size());
      const uint64_t want = text_last >= first ? text_last - first + 1 : 0;
      if (want > budget || want > limits.max_function_source_lines) {
        status = 2;
      } else {
        budget -= want;
      }
    }
    out.Append(first_function ? "\n[" : ",\n[");
    first_function = false;
    out.Uint(name_index(id));
    out.Char(',');
    out.Uint(first);
    out.Char(',');
    out.Uint(static_cast<uint64_t>(status));
    out.Append(",[");
    if (status == 0) {
      for (uint32_t line = first; line <= text_last; ++line) {
        if (line != first) out.Char(',');
        out.JsonString(src->Line(line));
      }
    }
    out.Append("],[");
    bool first_row = true;
    for (const LineTimes::Row& r : rows) {
      if (!first_row) out.Char(',');
      first_row = false;
      out.Uint(r.line);
      out.Char(',');
      out.Uint(r.stat.hits);
      out.Char(',');
      out.Uint(time.ToNs(r.stat.self_ticks));
      out.Char(',');
      out.Uint(time.ToNs(r.stat.call_ticks));
    }
    out.Append("]]");
  }
  out.Char(']');
}

}  // namespace tracestore::internal
