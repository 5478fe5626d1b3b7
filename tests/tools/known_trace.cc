// Writes a trace whose calls are known exactly, for the CLI tests of the
// exports and of `top` (tests/tools/*.py):
//
//   known_trace OUT.trace                 # closed; times are synthetic ns
//   known_trace OUT.trace --live SECONDS  # grows for SECONDS, then closes
//
// The closed trace, two threads (times in ns, ticks = ns):
//   MainThread: app.main -> 200 x [ app.io.load -> 5 x app.io.parse_line
//               (-> builtins.len), 3 x app.compute.Matrix.multiply (->
//               app.compute.Matrix.__init__), app.report.render ]
//   worker-1:   100 x [ 2 x multiply (-> __init__), render ]
// = 4101 calls; app.compute.Matrix.multiply has the most self time
// (26.4 ms of 34.1 ms). Marks: a "load" range and a "checkpoint" point.
// The live trace repeats a MainThread iteration (without app.main around
// it) every 2 ms at the real clock's pace, with multiply the hottest again.

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tracestore/trace_writer.h"

namespace {

using tracestore::EventWriter;
using tracestore::TraceWriter;
using tracestore::format::EventKind;

enum Fn : uint32_t {
  kMain = 1,
  kLoad,
  kParse,
  kMultiply,
  kInit,
  kLen,
  kRender
};

// Writes calls on one thread with a synthetic clock.
class Calls {
 public:
  Calls(EventWriter* w, uint64_t start) : w_(w), now_(start) {}
  template <class Body>
  void Call(uint32_t fn, uint64_t self_ns, Body body, bool c = false) {
    w_->AppendAt(now_, c ? EventKind::kCCall : EventKind::kCall, fn, 10);
    now_ += self_ns / 2;
    body();
    now_ += self_ns - self_ns / 2;
    w_->AppendAt(now_, c ? EventKind::kCReturn : EventKind::kReturn, fn, 11);
  }
  void Leaf(uint32_t fn, uint64_t self_ns, bool c = false) {
    Call(
        fn, self_ns, [] {}, c);
  }
  uint64_t now() const { return now_; }
  void set_now(uint64_t now) { now_ = now; }

 private:
  EventWriter* w_;
  uint64_t now_;
};

void MainIteration(Calls& c) {
  c.Call(kLoad, 4'000, [&] {
    for (int k = 0; k < 5; ++k)
      c.Call(kParse, 2'500, [&] { c.Leaf(kLen, 500, /*c=*/true); });
  });
  for (int k = 0; k < 3; ++k)
    c.Call(kMultiply, 38'000, [&] { c.Leaf(kInit, 2'000); });
  c.Leaf(kRender, 10'000);
}

int Fail(const char* what) {
  std::fprintf(stderr, "known_trace: %s\n", what);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && !(argc == 4 && std::strcmp(argv[2], "--live") == 0)) {
    std::fprintf(stderr, "usage: known_trace OUT.trace [--live SECONDS]\n");
    return 2;
  }
  const bool live = argc == 4;
  tracestore::TraceOptions o;
  o.path = argv[1];
  o.use_tsc = false;  // ticks are ns
  o.properties = {{"command_line", live ? "known_trace --live" : "known_trace"},
                  {"created_by", "tests/tools/known_trace"}};
  auto w = TraceWriter::Create(o);
  if (!w.ok()) return Fail(std::string(w.status().message()).c_str());
  TraceWriter& trace = **w;
  const struct {
    const char *module, *name;
    uint32_t flags;
  } functions[] = {
      {"app", "main", 3},
      {"app.io", "load", 3},
      {"app.io", "parse_line", 3},
      {"app.compute", "Matrix.multiply", 3},
      {"app.compute", "Matrix.__init__", 3},
      {"builtins", "len", tracestore::format::kFunctionTraced},
      {"app.report", "render", 3},
  };
  for (const auto& f : functions) {
    const std::string file = std::string("/src/") + f.module + ".py";
    trace.AddFunction({f.module, f.name, file, 1, f.flags});
  }
  EventWriter* main_thread = trace.StartThread(4242, "MainThread");

  if (live) {
    const double seconds = std::atof(argv[3]);
    Calls c(main_thread, trace.Now());
    const uint64_t end = trace.Now() + static_cast<uint64_t>(seconds * 1e9);
    while (trace.Now() < end) {
      if (c.now() < trace.Now()) c.set_now(trace.Now());
      MainIteration(c);
      const timespec pause = {0, 2'000'000};
      nanosleep(&pause, nullptr);
    }
  } else {
    EventWriter* worker = trace.StartThread(4243, "worker-1");
    Calls c(main_thread, 1'000);
    trace.AddMark(0, "load", tracestore::format::MarkKind::kStart);
    c.Call(kMain, 5'000, [&] {
      for (int i = 0; i < 200; ++i) MainIteration(c);
    });
    trace.AddMark(0, "load", tracestore::format::MarkKind::kStop);
    trace.AddMark(0, "checkpoint", tracestore::format::MarkKind::kPoint, 7);
    Calls wc(worker, 2'000);
    for (int i = 0; i < 100; ++i) {
      for (int k = 0; k < 2; ++k)
        wc.Call(kMultiply, 18'000, [&] { wc.Leaf(kInit, 2'000); });
      wc.Leaf(kRender, 3'000);
    }
  }
  if (auto s = trace.Close(); !s.ok())
    return Fail(std::string(s.message()).c_str());
  return 0;
}
