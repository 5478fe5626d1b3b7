// Trace Event JSON, streamed call by call.

#include "tracestore/export/chrome_trace.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "export/export_driver.h"
#include "tracestore/calls.h"
#include "tracestore/function_label.h"

namespace tracestore {

namespace {

// Thread ids for viewers: the OS id, unless an earlier thread of the trace
// had it (the OS reuses ids): then one outside the range of Linux ids.
std::vector<uint64_t> ViewerTids(const TraceReader& trace, uint32_t threads) {
  std::vector<uint64_t> tids(threads);
  absl::flat_hash_set<uint64_t> seen;
  const auto records = trace.threads();
  for (uint32_t i = 0; i < threads; ++i) {
    const uint64_t tid = records[i].os_tid;
    tids[i] = seen.insert(tid).second ? tid : uint64_t{1} << 32 | i;
  }
  return tids;
}

class ChromeWriter : public CallVisitor {
 public:
  ChromeWriter(const TraceReader& trace, const internal::ExportDriver& driver,
               Output& out, uint64_t offset_ns)
      : trace_(trace), time_(driver.time()), out_(out), offset_ns_(offset_ns) {
    const auto functions = trace.functions();
    suffix_.reserve(functions.size() + 1);
    for (uint32_t id = 0; id <= functions.size(); ++id)
      suffix_.push_back(Suffix(id));
  }

  void BeginThread(uint64_t pid, uint64_t tid) {
    prefix_ = absl::StrCat(",\n{\"ph\":\"X\",\"pid\":", pid, ",\"tid\":", tid,
                           ",\"ts\":");
  }

  void OnClose(uint32_t, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    const OpenCall& c = stack.back();
    const uint64_t start = time_.ToNs(c.start_ticks);
    out_.Append(prefix_);
    out_.MicrosFromNs(offset_ns_ + start);
    out_.Append(",\"dur\":");
    out_.MicrosFromNs(time_.ToNs(end_ticks) - start);
    // A flight recorder's call that began before the window (calls.h):
    // its ts is the window's start, its dur a lower bound.
    if (c.flags & kSliceStartsBeforeWindow)
      out_.Append(",\"args\":{\"starts_before_window\":true}");
    if (c.function < suffix_.size()) {
      out_.Append(suffix_[c.function]);
    } else {
      out_.Append(Suffix(c.function));
    }
  }

 private:
  std::string Suffix(uint32_t function) const {
    const auto functions = trace_.functions();
    const bool python =
        function != 0 && function <= functions.size() &&
        (functions[function - 1].flags & format::kFunctionIsPython);
    return absl::StrCat(
        ",\"name\":", Output::JsonQuote(FunctionLabel(trace_, function)),
        ",\"cat\":\"", python ? "python" : "c", "\"}");
  }

  const TraceReader& trace_;
  const TimeScale& time_;
  Output& out_;
  const uint64_t offset_ns_;
  std::string prefix_;
  std::vector<std::string> suffix_;  // by function id
};

void Metadata(Output& out, uint64_t pid, uint64_t tid, std::string_view what,
              std::string_view key, std::string_view value, bool quote) {
  out.Append(",\n{\"ph\":\"M\",\"pid\":");
  out.Uint(pid);
  out.Append(",\"tid\":");
  out.Uint(tid);
  out.Append(",\"name\":\"");
  out.Append(what);
  out.Append("\",\"args\":{\"");
  out.Append(key);
  out.Append("\":");
  if (quote) {
    out.JsonString(value);
  } else {
    out.Append(value);
  }
  out.Append("}}");
}

void Marks(const TraceReader& trace, const TimeScale& time, uint64_t pid,
           const std::vector<uint64_t>& tids, uint64_t offset_ns, Output& out) {
  for (const format::MarkRecord& m : trace.marks()) {
    const uint64_t tid = m.thread < tids.size() ? tids[m.thread] : pid;
    const char* ph =
        m.kind == static_cast<uint32_t>(format::MarkKind::kStart)  ? "b"
        : m.kind == static_cast<uint32_t>(format::MarkKind::kStop) ? "e"
                                                                   : "i";
    out.Append(",\n{\"ph\":\"");
    out.Append(ph);
    out.Append(ph[0] == 'i' ? "\",\"s\":\"t\"" : "\",\"cat\":\"mark\",\"id\":");
    if (ph[0] != 'i') out.Uint(m.thread);
    out.Append(",\"pid\":");
    out.Uint(pid);
    out.Append(",\"tid\":");
    out.Uint(tid);
    out.Append(",\"ts\":");
    out.MicrosFromNs(offset_ns + time.ToNs(m.ticks));
    out.Append(",\"name\":");
    out.JsonString(trace.String(m.name));
    out.Append(",\"args\":{\"value\":");
    out.Uint(m.value);
    out.Append("}}");
  }
}

}  // namespace

absl::StatusOr<ExportStats> WriteChromeTrace(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out) {
  const ChromeProcess one{&trace, thread_ended, 0};
  return WriteChromeTraceProcesses(std::span(&one, 1), options, out);
}

absl::StatusOr<ExportStats> WriteChromeTraceProcesses(
    std::span<const ChromeProcess> processes, const ExportOptions& options,
    Output& out) {
  if (processes.empty()) return absl::InvalidArgumentError("no process");
  const TraceReader& root = *processes[0].trace;
  out.Append("{\"displayTimeUnit\":\"ns\",\"otherData\":{");
  out.Append("\"exporter\":\"tracestore export\",\"trace\":");
  out.JsonString(root.path());
  for (const auto& [key, value] : root.properties()) {
    if (key == "exporter" || key == "trace") continue;
    out.Char(',');
    out.JsonString(key);
    out.Char(':');
    out.JsonString(value);
  }
  out.Append("},\"traceEvents\":[\n");
  ExportStats total;
  for (size_t i = 0; i < processes.size(); ++i) {
    const TraceReader& trace = *processes[i].trace;
    internal::ExportDriver driver(trace, processes[i].thread_ended, options);
    const uint64_t pid = trace.header().pid;
    const std::vector<uint64_t> tids = ViewerTids(trace, driver.threads());
    // The first element needs no comma before it; every later one starts
    // with ",\n".
    if (i != 0) out.Append(",\n");
    out.Append("{\"ph\":\"M\",\"pid\":");
    out.Uint(pid);
    out.Append(",\"tid\":");
    out.Uint(pid);
    out.Append(",\"name\":\"process_name\",\"args\":{\"name\":");
    out.JsonString(i == 0 ? driver.Title() : internal::ProcessLabel(trace));
    out.Append("}}");
    if (processes.size() > 1)
      Metadata(out, pid, pid, "process_sort_index", "sort_index",
               absl::StrCat(i), false);
    for (uint32_t t = 0; t < driver.threads(); ++t) {
      Metadata(out, pid, tids[t], "thread_name", "name",
               internal::ThreadLabel(trace, t), true);
      Metadata(out, pid, tids[t], "thread_sort_index", "sort_index",
               absl::StrCat(t), false);
    }
    ChromeWriter writer(trace, driver, out, processes[i].offset_ns);
    for (uint32_t t = 0; t < driver.threads(); ++t) {
      writer.BeginThread(pid, tids[t]);
      if (!driver.RunThread(t, writer, out)) return out.status();
    }
    Marks(trace, driver.time(), pid, tids, processes[i].offset_ns, out);
    total += driver.stats();
  }
  out.Append("\n]}\n");
  if (!out.ok()) return out.status();
  return total;
}

}  // namespace tracestore
