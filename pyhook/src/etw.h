// EtwEmitter: the recorder's second sink. The same hooks that append to the
// trace store hand each call, return, thread and mark to python-etwtrace's
// "Python" provider (etwbridge::PythonEvents): ETW on Windows, user_events
// on Linux, or an in-memory capture for tests. There is no second hook.
//
//   std::string why;
//   auto etw = EtwEmitter::Open(EtwEmitter::Mode::kPlatform, &why);  // or null
//   etw->OnFunction(id, info);            // at registration (GIL held)
//   etw->OnCall(id, caller_id, line);     // from the hooks
//   etw->OnExit(id);
//
// A PythonFunction event precedes a function's first Push in each session
// (etwbridge's generation), and a session that starts late gets a rundown:
// a PythonFunction for every known function and a PythonThread START for
// every live thread.
//
// Thread-safety: the On* methods run with the GIL held, except
// OnThreadStop (thread exit, no GIL) and the rundown (any thread); the
// function table and live threads are guarded by a mutex.

#ifndef TRACESTORE_PYHOOK_ETW_H_
#define TRACESTORE_PYHOOK_ETW_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "etwbridge/capture_sink.h"
#include "etwbridge/python_events.h"

namespace tracestore::pyhook {

class EtwEmitter {
 public:
  enum class Mode {
    kPlatform,         // ETW on Windows, user_events on Linux
    kCapture,          // in memory, a session at level 5, every keyword
    kCaptureDisabled,  // in memory, no session (what a disabled provider costs)
  };
  // nullptr with `why` set when the platform has neither ETW nor
  // user_events.
  static std::unique_ptr<EtwEmitter> Open(Mode mode, std::string* why);

  struct FunctionDesc {
    std::string file;  // source file, or a builtin's module
    std::string name;  // qualified name
    int32_t line = 0;
    bool is_python = true;
    // Stack mode: the function's trampoline slot [begin, end); else 0.
    uint64_t begin = 0, end = 0;
  };
  // A function with a code range is described at once (stack mode has no
  // Push to describe it before); others before their first Push.
  void OnFunction(uint32_t id, FunctionDesc desc);

  // A call (or resume) of `id` from `caller` (0: unknown) at `line`, and
  // its exit. `open` is the thread's stack of open calls: an exit with none
  // open (a frame entered before recording started, which setprofile and
  // sys.monitoring report) writes no Pop, and the stopping thread's open
  // calls are popped when the session ends, so Push/Pop stay balanced.
  inline void OnCall(std::vector<uint32_t>& open, uint32_t id,
                     uint32_t caller, uint32_t line) {
    open.push_back(id);
    if (!events_->IsEnabled(etwbridge::PythonEvent::kFunctionPush)) return;
    Push(id, caller, line);
  }
  inline void OnExit(std::vector<uint32_t>& open, uint32_t id) {
    if (open.empty()) return;
    open.pop_back();
    if (!events_->IsEnabled(etwbridge::PythonEvent::kFunctionPop)) return;
    events_->Pop(id);
  }
  void OnThreadStart(int32_t tid);
  void OnThreadStop(int32_t tid);
  void OnMark(std::string_view name, uint8_t opcode);
  void OnStackSample(std::string_view name);
  // The session ends: pops the calling thread's open calls (`open`), then
  // stops every live thread.
  void StopAll(std::vector<uint32_t>* open);

  // The capture sink when opened with capture=true, else nullptr.
  etwbridge::CaptureSink* capture() const { return capture_; }

 private:
  EtwEmitter() = default;
  void Push(uint32_t id, uint32_t caller, uint32_t line);
  // Whether `id` needs a PythonFunction in this generation. Reads without
  // the mutex: the table only grows under the GIL, which the caller holds.
  bool NeedsDescription(uint32_t id, uint32_t generation) {
    return id != 0 && (id > described_.size() ||
                       std::atomic_ref<uint32_t>(described_[id - 1])
                               .load(std::memory_order_relaxed) != generation);
  }
  void Describe(uint32_t id, uint32_t generation);  // mu_ held
  void Rundown();

  std::unique_ptr<etwbridge::PythonEvents> events_;
  etwbridge::CaptureSink* capture_ = nullptr;
  std::mutex mu_;
  std::vector<FunctionDesc> functions_;  // by id - 1
  std::vector<uint32_t> described_;      // generation last described in
  std::vector<int32_t> live_threads_;
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_ETW_H_
