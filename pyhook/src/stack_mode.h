// StackMode: the per-session part of stack-sampling mode. Each traced
// function gets a trampoline slot (trampolines.h) that the stack-mode
// eval-frame hook (eval_hook.cc) calls the function's frames through, so
// native stacks sampled by perf or ETW show one frame per Python function.
// No per-call event is recorded; the slot's range is recorded instead (in
// the trace's code ranges, the perf map and jitdump, and PythonFunction's
// BeginAddress/EndAddress).
//
//   auto stack = StackMode::Start(/*perf_files=*/true, &why);
//   uintptr_t slot = stack->AddFunction(id, "Cls.f", "/app/m.py");  // GIL
//   // the hook calls frames of `id` through SlotAddress(id)
//
// Function ids of a session are dense from 1, so a session owns the slots
// [first, first + ids) and the hook finds a slot with one multiply-add.

#ifndef TRACESTORE_PYHOOK_STACK_MODE_H_
#define TRACESTORE_PYHOOK_STACK_MODE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "thunk.h"

namespace tracestore::pyhook {

class PerfFiles;
class Trampolines;

class StackMode {
 public:
  // nullptr, with `why`, where stack mode cannot run.
  static std::unique_ptr<StackMode> Start(bool perf_files, std::string* why);

  // Commits function `id`'s slot and names it for perf. Returns its
  // address, or 0 (reported once on stderr) when no slot can be had: the
  // function then runs without one.
  uintptr_t AddFunction(uint32_t id, std::string_view qualname,
                        std::string_view file);
  // Where function `id`'s slot is (id >= 1): slot_zero() + id * kSlotBytes.
  uintptr_t slot_zero() const { return slot_zero_; }

 private:
  StackMode(Trampolines* slots, PerfFiles* perf, uint64_t first);

  Trampolines* slots_;
  PerfFiles* perf_;        // nullptr: no perf map or jitdump
  uint64_t first_;         // slot of function id 1
  uintptr_t slot_zero_;
  bool complained_ = false;
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_STACK_MODE_H_
