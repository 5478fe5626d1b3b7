// speedscope evented profiles, streamed call by call.

#include "tracestore/export/speedscope.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "export/export_driver.h"
#include "tracestore/function_label.h"

namespace tracestore {

namespace {

class SpeedscopeWriter : public CallVisitor {
 public:
  SpeedscopeWriter(const TimeScale& time, uint32_t frames, Output& out)
      : time_(&time), frames_(frames), unknown_frame_(frames), out_(out) {}

  // A process of many: its clock, its first frame, its functions, its
  // offset on the first process's time line.
  void BeginProcess(const TimeScale& time, uint32_t frame_base,
                    uint32_t functions, uint64_t offset_ns) {
    time_ = &time;
    frame_base_ = frame_base;
    frames_ = functions;
    offset_ns_ = offset_ns;
  }
  void BeginThread() {
    first_ = true;
    end_ns_ = 0;
  }
  uint64_t end_ns() const { return end_ns_; }

  void OnOpen(uint32_t, std::span<const OpenCall> stack) override {
    const OpenCall& c = stack.back();
    Event("{\"type\":\"O\",\"frame\":", c.function,
          offset_ns_ + time_->ToNs(c.start_ticks));
  }
  void OnClose(uint32_t, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    Event("{\"type\":\"C\",\"frame\":", stack.back().function,
          offset_ns_ + time_->ToNs(end_ticks));
  }

 private:
  void Event(std::string_view head, uint32_t function, uint64_t at) {
    if (!first_) out_.Append(",\n");
    first_ = false;
    out_.Append(head);
    out_.Uint(function == 0 || function > frames_ ? unknown_frame_
                                                  : frame_base_ + function - 1);
    out_.Append(",\"at\":");
    out_.Uint(at);
    out_.Char('}');
    end_ns_ = std::max(end_ns_, at);
  }

  const TimeScale* time_;
  uint32_t frame_base_ = 0;       // the process's first frame
  uint32_t frames_;               // its functions
  const uint32_t unknown_frame_;  // = number of functions in all
  uint64_t offset_ns_ = 0;
  Output& out_;
  bool first_ = true;
  uint64_t end_ns_ = 0;
};

}  // namespace

absl::StatusOr<ExportStats> WriteSpeedscope(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out) {
  internal::ExportDriver driver(trace, thread_ended, options);
  const auto functions = trace.functions();
  const auto threads = trace.threads();

  out.Append(
      "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
      "\"name\":");
  out.JsonString(driver.Title());
  out.Append(
      ",\"exporter\":\"tracestore export\",\"activeProfileIndex\":0,\n"
      "\"shared\":{\"frames\":[");
  for (uint32_t i = 0; i < functions.size(); ++i) {
    const format::FunctionRecord& f = functions[i];
    out.Append(i == 0 ? "\n{\"name\":" : ",\n{\"name\":");
    out.JsonString(FunctionLabel(trace, i + 1));
    const std::string_view file = trace.String(f.file);
    if (!file.empty()) {
      out.Append(",\"file\":");
      out.JsonString(file);
    }
    if (f.first_line != 0) {
      out.Append(",\"line\":");
      out.Uint(f.first_line);
    }
    out.Char('}');
  }
  out.Append(functions.empty() ? "\n" : ",\n");
  out.Append("{\"name\":\"(unknown function)\"}]},\n\"profiles\":[");

  SpeedscopeWriter writer(driver.time(),
                          static_cast<uint32_t>(functions.size()), out);
  bool first_profile = true;
  for (uint32_t t = 0; t < driver.threads(); ++t) {
    const auto events = trace.events(t);
    if (events.empty()) continue;
    const uint64_t start_ns = driver.time().ToNs(
        std::min(threads[t].start_ticks, format::EventTicks(events.front())));
    out.Append(first_profile ? "\n" : ",\n");
    first_profile = false;
    out.Append("{\"type\":\"evented\",\"name\":");
    out.JsonString(internal::ThreadLabel(trace, t));
    out.Append(",\"unit\":\"nanoseconds\",\"startValue\":");
    out.Uint(start_ns);
    out.Append(",\"events\":[\n");
    writer.BeginThread();
    if (!driver.RunThread(t, writer, out)) return out.status();
    uint64_t end_ns =
        std::max({writer.end_ns(), start_ns,
                  driver.time().ToNs(format::EventTicks(events.back()))});
    if (t < thread_ended.size() && thread_ended[t] != 0)
      end_ns = std::max(end_ns, driver.time().ToNs(thread_ended[t]));
    out.Append("],\"endValue\":");
    out.Uint(end_ns);
    out.Char('}');
  }
  out.Append("]}\n");
  if (!out.ok()) return out.status();
  return driver.stats();
}

absl::StatusOr<ExportStats> WriteSpeedscopeProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out) {
  if (processes.empty()) return absl::InvalidArgumentError("no process");
  const TraceReader& root = *processes[0].trace;
  internal::ExportDriver root_driver(root, processes[0].thread_ended, options);
  out.Append(
      "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",\n"
      "\"name\":");
  out.JsonString(root_driver.Title());
  out.Append(
      ",\"exporter\":\"tracestore export\",\"activeProfileIndex\":0,\n"
      "\"shared\":{\"frames\":[");
  // Every process's functions, one after the other.
  std::vector<uint32_t> frame_base;
  uint32_t frames = 0;
  for (const ExportProcess& p : processes) {
    const TraceReader& trace = *p.trace;
    const auto functions = trace.functions();
    frame_base.push_back(frames);
    for (uint32_t i = 0; i < functions.size(); ++i) {
      const format::FunctionRecord& f = functions[i];
      out.Append(frames++ == 0 ? "\n{\"name\":" : ",\n{\"name\":");
      out.JsonString(FunctionLabel(trace, i + 1));
      const std::string_view file = trace.String(f.file);
      if (!file.empty()) {
        out.Append(",\"file\":");
        out.JsonString(file);
      }
      if (f.first_line != 0) {
        out.Append(",\"line\":");
        out.Uint(f.first_line);
      }
      out.Char('}');
    }
  }
  out.Append(frames == 0 ? "\n" : ",\n");
  out.Append("{\"name\":\"(unknown function)\"}]},\n\"profiles\":[");

  ExportStats total;
  bool first_profile = true;
  SpeedscopeWriter writer(root_driver.time(), frames, out);
  for (size_t i = 0; i < processes.size(); ++i) {
    const ExportProcess& p = processes[i];
    const TraceReader& trace = *p.trace;
    internal::ExportDriver driver(trace, p.thread_ended, options);
    const auto threads = trace.threads();
    const uint64_t off = p.offset_ns;
    writer.BeginProcess(driver.time(), frame_base[i],
                        static_cast<uint32_t>(trace.functions().size()), off);
    for (uint32_t t = 0; t < driver.threads(); ++t) {
      const auto events = trace.events(t);
      if (events.empty()) continue;
      const uint64_t start_ns = off + driver.time().ToNs(std::min(
                                          threads[t].start_ticks,
                                          format::EventTicks(events.front())));
      out.Append(first_profile ? "\n" : ",\n");
      first_profile = false;
      out.Append("{\"type\":\"evented\",\"name\":");
      out.JsonString(absl::StrCat("pid ", trace.header().pid, ": ",
                                  internal::ThreadLabel(trace, t)));
      out.Append(",\"unit\":\"nanoseconds\",\"startValue\":");
      out.Uint(start_ns);
      out.Append(",\"events\":[\n");
      writer.BeginThread();
      if (!driver.RunThread(t, writer, out)) return out.status();
      uint64_t end_ns = std::max(
          {writer.end_ns(), start_ns,
           off + driver.time().ToNs(format::EventTicks(events.back()))});
      if (t < p.thread_ended.size() && p.thread_ended[t] != 0)
        end_ns = std::max(end_ns, off + driver.time().ToNs(p.thread_ended[t]));
      out.Append("],\"endValue\":");
      out.Uint(end_ns);
      out.Char('}');
    }
    total += driver.stats();
  }
  out.Append("]}\n");
  if (!out.ok()) return out.status();
  return total;
}

}  // namespace tracestore
