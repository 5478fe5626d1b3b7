// example_writer: records a small trace through the C++ writer API, the way
// the Python recorder does: functions registered once, then call/return
// events appended per thread, a mark range around the work.
//
//   example_writer OUT.trace [N]     # fib(N) on the main thread and a worker

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "tracestore/trace_writer.h"

namespace {

using tracestore::EventWriter;
using tracestore::format::EventKind;

struct Functions {
  uint32_t fib, work;
};

uint64_t Fib(EventWriter* events, const Functions& fn, int n, uint32_t line) {
  events->Append(EventKind::kCall, fn.fib, line);
  uint64_t r = n < 2 ? n : Fib(events, fn, n - 1, 4) + Fib(events, fn, n - 2, 4);
  events->Append(EventKind::kReturn, fn.fib, 4);
  return r;
}

void Work(tracestore::TraceWriter& trace, const Functions& fn, const char* name,
          int n) {
  EventWriter* events = trace.StartThread(syscall(SYS_gettid), name);
  if (events == nullptr) return;
  events->Append(EventKind::kCall, fn.work, 10);
  uint64_t r = Fib(events, fn, n, 7);
  events->Append(EventKind::kReturn, fn.work, 8);
  trace.EndThread(events);
  std::printf("%s: fib(%d) = %llu\n", name, n, static_cast<unsigned long long>(r));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT.trace [N]\n", argv[0]);
    return 2;
  }
  const int n = argc > 2 ? std::atoi(argv[2]) : 20;
  tracestore::TraceOptions options;
  options.path = argv[1];
  options.properties = {{"command_line", std::string(argv[0]) + " " + argv[1]},
                        {"created_by", "example_writer"}};
  auto trace = tracestore::TraceWriter::Create(options);
  if (!trace.ok()) {
    std::fprintf(stderr, "example_writer: %s\n",
                 std::string(trace.status().message()).c_str());
    return 1;
  }
  Functions fn;
  fn.fib = (*trace)->AddFunction({"example", "fib", "example.py", 3});
  fn.work = (*trace)->AddFunction({"example", "work", "example.py", 6});
  (*trace)->AddMark(0, "compute", tracestore::format::MarkKind::kStart);
  std::thread worker([&] { Work(**trace, fn, "worker", n - 2); });
  Work(**trace, fn, "MainThread", n);
  worker.join();
  (*trace)->AddMark(0, "compute", tracestore::format::MarkKind::kStop);
  if (auto s = (*trace)->Close(); !s.ok()) {
    std::fprintf(stderr, "example_writer: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  std::printf("wrote %s\n", argv[1]);
  return 0;
}
