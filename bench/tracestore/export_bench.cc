// The exporters (tracestore/export/*.h) and the live profile
// (tracestore/profile.h) over a generated trace, events per second:
//
//   BM_Export/chrome, /speedscope, /collapsed, /html   into a sink that
//                       only counts bytes (the encoding, not the disk)
//   BM_ProfileUpdate    what `top` does on its first screen: the whole
//                       trace through a fresh Profile
//
// The trace (default 2 M events, 4 threads) looks like a program: 1000
// functions in a fixed call graph (each calls a few others), a few hot,
// trees of about ten calls, some C calls and line events. It is written to
// $TRACESTORE_BENCH_DIR, else $TMPDIR, else /tmp, and removed at exit.
//
//   build/bin/export_bench                           # 2 M events
//   build/bin/export_bench --events=100000           # the ctest smoke run
//   build/bin/export_bench --events=10000000 --write_trace=/tmp/t.trace
//       writes the trace and exits (bench/tools/export_10m.sh uses it)

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "benchmark/benchmark.h"
#include "tracestore/call_stream.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/profile.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"

namespace tracestore {
namespace {

using format::EventKind;

uint64_t g_events = 2'000'000;
constexpr uint32_t kThreads = 4;
constexpr uint32_t kFunctions = 1000;
constexpr uint32_t kCallees = 4;

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "export_bench: %s\n", what.c_str());
  std::exit(1);
}

// Calls along a fixed call graph: function f calls some of Callee(f, k).
class ProgramGen {
 public:
  ProgramGen(EventWriter* w, uint64_t seed) : w_(w), rng_(seed) {}
  void Run(uint64_t events) {
    while (w_->count() < events) {
      // Entry points: the first 20 functions, the first few more often.
      const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
      Call(static_cast<uint32_t>(20 * u * u), 0, events);
    }
  }

 private:
  static uint32_t Callee(uint32_t f, uint32_t k) {
    return (f * 31 + k * 97 + 7) % kFunctions;
  }
  void Tick(uint32_t spread) { now_ += 5 + rng_() % spread; }
  void Call(uint32_t f, uint32_t depth, uint64_t limit) {
    const bool c_call = f % 10 == 9;  // a tenth of the functions are C
    // A few functions do most of the work.
    Tick(f % 50 == 3 ? 5000 : 200);
    w_->AppendAt(now_, c_call ? EventKind::kCCall : EventKind::kCall, f + 1,
                 static_cast<uint32_t>(rng_() % 300));
    if (!c_call) {
      while (depth < 30 && w_->count() < limit && rng_() % 100 < 47) {
        if (rng_() % 4 == 0) {
          Tick(50);
          w_->AppendAt(now_, EventKind::kLine, f + 1,
                       static_cast<uint32_t>(rng_() % 300));
        }
        Call(Callee(f, static_cast<uint32_t>(rng_() % kCallees)), depth + 1,
             limit);
      }
    }
    Tick(200);
    w_->AppendAt(now_, c_call ? EventKind::kCReturn : EventKind::kReturn, f + 1,
                 static_cast<uint32_t>(rng_() % 300));
  }

  EventWriter* w_;
  std::mt19937_64 rng_;
  uint64_t now_ = 0;
};

void WriteTrace(const std::string& path, uint64_t events) {
  TraceOptions o;
  o.path = path;
  o.quiet = true;
  o.properties = {{"command_line", "export_bench (generated program)"},
                  {"created_by", "bench/tracestore/export_bench"}};
  auto w = TraceWriter::Create(o);
  if (!w.ok()) Die(w.status().ToString());
  for (uint32_t f = 0; f < kFunctions; ++f) {
    const std::string module = absl::StrCat("app.module", f % 37);
    const std::string name = absl::StrCat("Handler", f % 11, ".step_", f);
    const std::string file = "/src/" + module + ".py";
    FunctionInfo info{module, name, file, f * 7 + 1};
    if (f % 10 == 9) info.flags = format::kFunctionTraced;  // C
    (*w)->AddFunction(info);
  }
  for (uint32_t t = 0; t < kThreads; ++t) {
    EventWriter* ew = (*w)->StartThread(100 + t, absl::StrCat("worker-", t));
    ProgramGen(ew, t + 1).Run(events / kThreads);
    (*w)->EndThread(ew);
  }
  if (!(*w)->Close().ok()) Die("close");
}

std::string BenchDir() {
  if (const char* d = std::getenv("TRACESTORE_BENCH_DIR")) return d;
  if (const char* t = std::getenv("TMPDIR")) return t;
  return "/tmp";
}

class CountingSink : public ByteSink {
 public:
  absl::Status Write(std::string_view bytes) override {
    bytes_ += bytes.size();
    return absl::OkStatus();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  uint64_t bytes_ = 0;
};

struct Data {
  std::string dir, path;
  std::unique_ptr<TraceReader> reader;
  std::vector<uint64_t> ended;
  Data() {
    dir = absl::StrCat(BenchDir(), "/export_bench.", ::getpid());
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    path = dir + "/bench.trace";
    std::fprintf(stderr, "export_bench: writing %llu events to %s ...\n",
                 static_cast<unsigned long long>(g_events), path.c_str());
    WriteTrace(path, g_events);
    auto r = TraceReader::Open(path);
    if (!r.ok()) Die(r.status().ToString());
    reader = *std::move(r);
    if (!RefreshWithThreadEnds(*reader, &ended).ok()) Die("refresh");
  }
  ~Data() {
    reader.reset();
    std::filesystem::remove_all(dir);
  }
};
Data* g_data = nullptr;

void BM_Export(benchmark::State& state, ExportFormat format) {
  uint64_t bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    Output out(&sink);
    auto stats = ExportTrace(*g_data->reader, g_data->ended, format, {}, out);
    if (!stats.ok() || !out.Finish().ok()) state.SkipWithError("export failed");
    bytes = sink.bytes();
  }
  state.SetItemsProcessed(state.iterations() * g_data->reader->total_events());
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_Export, chrome, ExportFormat::kChrome)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Export, speedscope, ExportFormat::kSpeedscope)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Export, collapsed, ExportFormat::kCollapsed)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Export, html, ExportFormat::kHtml)
    ->Unit(benchmark::kMillisecond);

void BM_ProfileUpdate(benchmark::State& state) {
  for (auto _ : state) {
    Profile profile;
    profile.Update(*g_data->reader, g_data->ended);
    benchmark::DoNotOptimize(profile.calls());
  }
  state.SetItemsProcessed(state.iterations() * g_data->reader->total_events());
}
BENCHMARK(BM_ProfileUpdate)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace tracestore

int main(int argc, char** argv) {
  std::string write_trace;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--events=", 9) == 0) {
      tracestore::g_events = std::strtoull(argv[i] + 9, nullptr, 10);
    } else if (std::strncmp(argv[i], "--write_trace=", 14) == 0) {
      write_trace = argv[i] + 14;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!write_trace.empty()) {
    tracestore::WriteTrace(write_trace, tracestore::g_events);
    return 0;
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  tracestore::g_data = new tracestore::Data();
  benchmark::RunSpecifiedBenchmarks();
  delete tracestore::g_data;
  return 0;
}
