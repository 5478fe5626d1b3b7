// The cost of the ETW bridge per event: the check a disabled event costs
// (IsEnabled, and a write call that finds its event disabled), and the
// encoding of Push / Pop / Function / Mark into a sink that only counts
// bytes (NullSink: no ETW, no syscall, so the figure is our encoder's). Also
// the EventHeader framing over a user_events file that discards, and the
// generic EventBuilder building a Push-shaped event from scratch.
//
//   etwbridge_encode_bench --benchmark_repetitions=3
//
// Target (issue 6): a disabled event costs one load and a compare; the
// recorder with the provider present but disabled stays within 2 % of
// without it.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "etwbridge/python_events.h"
#include "etwbridge/sink.h"
#include "etwbridge/tracelogging.h"
#include "etwbridge/user_events_sink.h"

namespace etwbridge {
namespace {

// Enabled for everything; adds up the bytes it is handed.
class NullSink final : public Sink {
 public:
  NullSink() : Sink("Python") {}
  Status Register(EventSet* set) override {
    set->enable_word.store(enabled_ ? 1 : 0);
    sets_[count_++] = set;
    return OkStatus();
  }
  int Write(const EventSet&, const EventView& event) override {
    bytes_ += event.metadata.size() + event.payload.size() + traits().size();
    return 0;
  }
  void SetEnabled(bool on) {
    enabled_ = on;
    for (int i = 0; i < count_; ++i) sets_[i]->enable_word.store(on ? 1 : 0);
  }
  uint64_t bytes() const { return bytes_; }

 private:
  bool enabled_ = true;
  EventSet* sets_[16] = {};
  int count_ = 0;
  uint64_t bytes_ = 0;
};

// A user_events file that drops every write (the kernel's side is not
// what we measure).
class DiscardingUserEventsFile final : public UserEventsFile {
 public:
  int Register(const std::string&, std::atomic<uint32_t>* word,
               uint32_t* write_index) override {
    word->store(1);
    *write_index = 0;
    return 0;
  }
  int Unregister(std::atomic<uint32_t>*) override { return 0; }
  int Write(std::span<const IoSlice> slices) override {
    size_t n = 0;
    for (const IoSlice& s : slices) n += s.size;
    benchmark::DoNotOptimize(n);
    return 0;
  }
};

std::unique_ptr<PythonEvents> MakeEvents(bool enabled, NullSink** out) {
  auto sink = std::make_unique<NullSink>();
  NullSink* raw = sink.get();
  auto events = PythonEvents::Create(std::move(sink));
  raw->SetEnabled(enabled);
  if (out != nullptr) *out = raw;
  return std::move(*events);
}

void BM_IsEnabledDisabled(benchmark::State& state) {
  auto events = MakeEvents(false, nullptr);
  uint64_t hits = 0;
  for (auto _ : state) {
    hits += events->IsEnabled(PythonEvent::kFunctionPush);
    benchmark::ClobberMemory();  // reload the word every time
  }
  benchmark::DoNotOptimize(hits);
}
BENCHMARK(BM_IsEnabledDisabled);

void BM_PushDisabled(benchmark::State& state) {
  auto events = MakeEvents(false, nullptr);
  uint64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(events->Push(id, id - 1, 10));
    ++id;
  }
}
BENCHMARK(BM_PushDisabled);

void BM_Push(benchmark::State& state) {
  NullSink* sink = nullptr;
  auto events = MakeEvents(true, &sink);
  uint64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(events->Push(id, id - 1, 10));
    ++id;
  }
  benchmark::DoNotOptimize(sink->bytes());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Push);

void BM_Pop(benchmark::State& state) {
  NullSink* sink = nullptr;
  auto events = MakeEvents(true, &sink);
  uint64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(events->Pop(id++));
  }
  benchmark::DoNotOptimize(sink->bytes());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Pop);

// A realistic PythonFunction: a 60-byte path and a 20-byte name, ASCII.
void BM_Function(benchmark::State& state) {
  NullSink* sink = nullptr;
  auto events = MakeEvents(true, &sink);
  const std::string file =
      "/home/user/project/.venv/lib/python3.12/site-packages/app.py";
  const std::string name = "handle_request_batch";
  uint64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        events->Function(id++, 0, 0, 120, file, name, true));
  }
  benchmark::DoNotOptimize(sink->bytes());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Function);

void BM_Mark(benchmark::State& state) {
  NullSink* sink = nullptr;
  auto events = MakeEvents(true, &sink);
  for (auto _ : state) {
    benchmark::DoNotOptimize(events->Mark("phase-one", kOpcodeStart));
  }
  benchmark::DoNotOptimize(sink->bytes());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Mark);

// Push through the user_events sink's EventHeader framing (gathered write).
void BM_PushUserEventsFraming(benchmark::State& state) {
  auto sink = UserEventsSink::Create(
      "Python", std::make_unique<DiscardingUserEventsFile>());
  auto events = PythonEvents::Create(std::move(*sink));
  uint64_t id = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize((*events)->Push(id, id - 1, 10));
    ++id;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PushUserEventsFraming);

// The generic path: metadata and payload built from scratch per event.
void BM_EventBuilderPushShaped(benchmark::State& state) {
  EventBuilder eb;
  uint64_t id = 1;
  for (auto _ : state) {
    eb.Reset("PythonFunctionPush", kLevelVerbose, 0x1000);
    eb.AddHexInt64("FunctionID", id);
    eb.AddHexInt64("Caller", id - 1);
    eb.AddUInt64("CallerLine", 10);
    benchmark::DoNotOptimize(eb.payload().data());
    ++id;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventBuilderPushShaped);

}  // namespace
}  // namespace etwbridge

BENCHMARK_MAIN();
