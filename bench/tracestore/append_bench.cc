// Append throughput of the trace store, beside the machine's own limits in
// the same run:
//   BM_Memset           memset bandwidth over a 256 MiB buffer (bytes/s)
//   BM_StoreLoop        16-byte stores into a pre-faulted buffer: the
//                       ceiling for any recorder of 16-byte records
//   BM_Rdtsc            one timestamp
//   BM_PageProvision    fresh file pages mapped shared and pre-faulted, the
//                       way the page filler provisions chunks: the kernel's
//                       ceiling for any mmap recorder on this machine
//   BM_Append           EventWriter::Append: timestamp + record + publish,
//                       into a real trace file, 1 and 2 threads. The
//                       real_time rows are end to end (they include waiting
//                       for the page filler); the others count CPU time of
//                       the appending thread only: the hot path's cost.
//   BM_AppendAt         the same without reading the clock
//   BM_AppendRing       BM_Append into a flight recorder's ring stores
//                       (max_event_bytes 64 MiB: the ring wraps every few
//                       million appends and reuses chunks that are already
//                       allocated, mapped and faulted in)
//
// Traces go to $TRACESTORE_BENCH_DIR, else $TMPDIR, else /tmp: where users
// record. (On these VMs tmpfs provisions pages more slowly than ext4.)
//
//   build/bin/append_bench --benchmark_repetitions=3

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>

#include "benchmark/benchmark.h"
#include "tracestore/clock.h"
#include "tracestore/trace_writer.h"

namespace tracestore {
namespace {

constexpr int kBatch = 256;  // appends per benchmark iteration

std::string BenchDir() {
  if (const char* d = std::getenv("TRACESTORE_BENCH_DIR")) return d;
  if (const char* t = std::getenv("TMPDIR")) return t;
  return "/tmp";
}

// One trace per benchmark run, shared by its threads.
struct SharedTrace {
  explicit SharedTrace(uint64_t max_event_bytes = 0)
      : max_event_bytes(max_event_bytes) {}
  const uint64_t max_event_bytes;
  std::mutex mu;
  std::unique_ptr<TraceWriter> writer;
  std::string path;
  int users = 0;

  TraceWriter* Acquire() {
    std::lock_guard<std::mutex> lock(mu);
    if (users++ == 0) {
      path = BenchDir() + "/append_bench." + std::to_string(::getpid()) +
             ".trace";
      std::filesystem::remove_all(path);
      TraceOptions o;
      o.path = path;
      o.max_event_bytes = max_event_bytes;
      auto w = TraceWriter::Create(o);
      if (!w.ok()) {
        std::fprintf(stderr, "append_bench: %s\n",
                     std::string(w.status().message()).c_str());
        std::exit(1);
      }
      writer = *std::move(w);
    }
    return writer.get();
  }
  // Returns appends that waited for a chunk; the last user removes the trace.
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    if (--users == 0) {
      (void)writer->Close();
      writer.reset();
      std::filesystem::remove_all(path);
    }
  }
};
SharedTrace g_trace;
SharedTrace g_ring_trace(uint64_t{64} << 20);

void BM_Append(benchmark::State& state) {
  TraceWriter* trace = g_trace.Acquire();
  EventWriter* events = trace->StartThread(::gettid(), "bench");
  uint32_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k, ++i)
      events->Append(format::EventKind::kCall, i & 1023, i);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch *
                          sizeof(format::EventRecord));
  trace->EndThread(events);
  g_trace.Release();
}
BENCHMARK(BM_Append)->Threads(1)->Threads(2);
BENCHMARK(BM_Append)->Threads(1)->Threads(2)->UseRealTime();

void BM_AppendRing(benchmark::State& state) {
  TraceWriter* trace = g_ring_trace.Acquire();
  EventWriter* events = trace->StartThread(::gettid(), "bench");
  uint32_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k, ++i)
      events->Append(format::EventKind::kCall, i & 1023, i);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch *
                          sizeof(format::EventRecord));
  trace->EndThread(events);
  g_ring_trace.Release();
}
BENCHMARK(BM_AppendRing)->Threads(1)->Threads(2);
BENCHMARK(BM_AppendRing)->Threads(1)->Threads(2)->UseRealTime();

void BM_AppendAt(benchmark::State& state) {
  TraceWriter* trace = g_trace.Acquire();
  EventWriter* events = trace->StartThread(::gettid(), "bench");
  uint32_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k, ++i)
      events->AppendAt(i, format::EventKind::kCall, i & 1023, i);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch *
                          sizeof(format::EventRecord));
  trace->EndThread(events);
  g_trace.Release();
}
BENCHMARK(BM_AppendAt)->Threads(1);
BENCHMARK(BM_AppendAt)->Threads(1)->UseRealTime();

void BM_PageProvision(benchmark::State& state) {
  const std::string dir = BenchDir() + "/page_provision." +
                          std::to_string(::getpid());
  std::filesystem::remove_all(dir);
  Env* env = Env::Default();
  if (!env->CreateDir(dir).ok()) std::exit(1);
  auto file = env->CreateWritable(dir + "/f");
  if (!file.ok()) std::exit(1);
  constexpr uint64_t kChunk = uint64_t{8} << 20;
  uint64_t offset = 0;
  for (auto _ : state) {
    if (!(*file)->Allocate(offset + kChunk).ok()) std::exit(1);
    auto p = (*file)->Map(offset, kChunk);
    if (!p.ok() || !(*file)->Populate(*p, kChunk).ok()) std::exit(1);
    (*file)->Unmap(*p, kChunk);
    offset += kChunk;
    if (offset >= (uint64_t{2} << 30)) {  // keep the file under 2 GiB
      state.PauseTiming();
      (void)(*file)->Truncate(0);
      offset = 0;
      state.ResumeTiming();
    }
  }
  state.SetBytesProcessed(state.iterations() * kChunk);
  file->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PageProvision)->UseRealTime();

void BM_Rdtsc(benchmark::State& state) {
  Clock clock = Clock::Detect();
  uint64_t sum = 0;
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k) sum += clock.Now();
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * kBatch);
}
BENCHMARK(BM_Rdtsc);

constexpr size_t kBufferBytes = size_t{256} << 20;

std::byte* FaultedBuffer() {
  static std::byte* buf = [] {
    void* p = ::mmap(nullptr, kBufferBytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    return static_cast<std::byte*>(p);
  }();
  return buf;
}

void BM_Memset(benchmark::State& state) {
  std::byte* buf = FaultedBuffer();
  constexpr size_t kBlock = size_t{1} << 20;
  size_t off = 0;
  for (auto _ : state) {
    std::memset(buf + off, static_cast<int>(off >> 20), kBlock);
    benchmark::ClobberMemory();
    off = (off + kBlock) % kBufferBytes;
  }
  state.SetBytesProcessed(state.iterations() * kBlock);
}
BENCHMARK(BM_Memset);

void BM_StoreLoop(benchmark::State& state) {
  auto* records = reinterpret_cast<format::EventRecord*>(FaultedBuffer());
  const size_t n = kBufferBytes / sizeof(format::EventRecord);
  size_t pos = 0;
  uint32_t i = 0;
  for (auto _ : state) {
    for (int k = 0; k < kBatch; ++k, ++i) {
      records[pos] = format::EventRecord{
          format::PackTimeKind(i, format::EventKind::kCall), i & 1023, i};
      pos = pos + 1 == n ? 0 : pos + 1;
    }
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.SetBytesProcessed(state.iterations() * kBatch *
                          sizeof(format::EventRecord));
}
BENCHMARK(BM_StoreLoop);

}  // namespace
}  // namespace tracestore

BENCHMARK_MAIN();
