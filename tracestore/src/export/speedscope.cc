// speedscope evented profiles, streamed call by call.

#include "tracestore/export/speedscope.h"

#include <algorithm>
#include <string>

#include "export/export_driver.h"
#include "tracestore/function_label.h"

namespace tracestore {

namespace {

class SpeedscopeWriter : public CallVisitor {
 public:
  SpeedscopeWriter(const TimeScale& time, uint32_t frames, Output& out)
      : time_(time), unknown_frame_(frames), out_(out) {}

  void BeginThread() {
    first_ = true;
    end_ns_ = 0;
  }
  uint64_t end_ns() const { return end_ns_; }

  void OnOpen(uint32_t, std::span<const OpenCall> stack) override {
    const OpenCall& c = stack.back();
    Event("{\"type\":\"O\",\"frame\":", c.function, time_.ToNs(c.start_ticks));
  }
  void OnClose(uint32_t, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    Event("{\"type\":\"C\",\"frame\":", stack.back().function,
          time_.ToNs(end_ticks));
  }

 private:
  void Event(std::string_view head, uint32_t function, uint64_t at) {
    if (!first_) out_.Append(",\n");
    first_ = false;
    out_.Append(head);
    out_.Uint(function == 0 || function > unknown_frame_ ? unknown_frame_
                                                         : function - 1);
    out_.Append(",\"at\":");
    out_.Uint(at);
    out_.Char('}');
    end_ns_ = std::max(end_ns_, at);
  }

  const TimeScale& time_;
  const uint32_t unknown_frame_;  // = number of functions
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

}  // namespace tracestore
