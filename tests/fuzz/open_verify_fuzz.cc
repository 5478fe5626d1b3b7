// Fuzz target: open a trace built from the input, read everything a tool
// reads (records, strings, problems, times), refresh, and verify it.

#include <cstddef>
#include <cstdint>

#include "fuzz_trace.h"
#include "tracestore/trace_reader.h"
#include "tracestore/verify.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tracestore;
  fuzz::DecodeTrace(data, size);
  const std::string& path = fuzz::ScratchTrace();
  auto trace = TraceReader::Open(path);
  if (trace.ok()) {
    TraceReader& t = **trace;
    uint64_t sink = 0;
    for (const auto& f : t.functions())
      sink += t.String(f.qualname).size() + t.String(f.module).size() +
              t.String(f.file).size();
    for (uint32_t i = 0; i < t.threads().size(); ++i) {
      sink += t.String(t.ThreadName(t.threads()[i])).size() +
              t.ThreadEndTicks(t.threads()[i]);
      for (const auto& e : t.events(i)) sink += t.ToNs(format::EventTicks(e));
    }
    for (const auto& m : t.marks()) sink += t.String(m.name).size();
    for (const auto& r : t.code_ranges()) sink += r.begin + r.function;
    sink += t.ToNs(t.DurationTicks()) + t.total_events();
    for (const auto& line : t.AllProblems().Summary()) sink += line.size();
    (void)t.Refresh();
    (void)t.writer_alive();
    // Keeps the reads from being optimized away.
    asm volatile("" : : "r"(sink) : "memory");
  }
  (void)VerifyTrace(path);
  return 0;
}
