// The PEP 523 eval-frame backends: every Python frame the interpreter
// evaluates passes through EvalHook, which records a call (or resume) before
// and a return (unwind, yield) after the default evaluation; or, in stack
// mode, through StackHook, which calls a traced frame's evaluation through
// its function's trampoline slot and records nothing.
//
// Cost per traced call: two co_extra reads are not needed (the word is read
// once), two clock reads, two 16-byte appends, and a cached line lookup for
// the call site. Excluded code costs one co_extra read.

#include <x86intrin.h>

#include "compat.h"
#include "recorder.h"
#include "stack_guard.h"
#include "stack_mode.h"

namespace tracestore::pyhook {

namespace {

using format::EventKind;

compat::EvalFrameFunc g_previous = nullptr;  // another tool's hook, if any

inline PyObject* EvalNext(PyThreadState* ts, compat::Frame* f, int throwflag) {
  compat::RefundEvalEntry refund(ts);
  if (g_previous != nullptr) [[unlikely]]
    return g_previous(ts, f, throwflag);
  return compat::EvalDefault(ts, f, throwflag);
}

PyObject* EvalHook(PyThreadState* ts, compat::Frame* f, int throwflag) {
  if (StackGuard::Low()) [[unlikely]]
    return StackGuard::OnFreshSegment(EvalHook, ts, f, throwflag);
  ThreadState* t = Recorder::ThisThread();
  if (t == nullptr || t->busy) return EvalNext(ts, f, throwflag);
  PyCodeObject* code = compat::FrameCode(f);
  if (code == nullptr) return EvalNext(ts, f, throwflag);
  const uint64_t word =
      Recorder::Word(t, code, [f] { return compat::FrameGlobals(f); });
  if (!(word & kCodeTraced) || compat::IsGeneratorCreation(f, code))
    return EvalNext(ts, f, throwflag);
  if (word & kCodeInit) compat::KeepInitCallsVisible(f);

  EventWriter* events = t->events;  // used only while t's session runs
  EtwEmitter* etw = Recorder::etw();  // likewise
  const uint32_t id = CodeFunctionId(word);
  const bool generator = compat::IsGeneratorFrame(f, code);
  const bool resume =
      generator && !compat::IsFirstEntry(f, CodeBodyStart(word));
  compat::Frame* caller = compat::CallerOfNewFrame(ts, f);
  const auto line = static_cast<uint32_t>(Recorder::FrameLine(t, caller));
  events->Append(resume ? EventKind::kResume : EventKind::kCall, id, line);
  if (etw != nullptr) [[unlikely]]
    etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(caller, t->session), line);
  PyObject* result = EvalNext(ts, f, throwflag);
  // The session that saw the call has ended meanwhile (stopped, or this
  // is a child forked during the call, whose stores are the parent's,
  // mapped shared): its exit belongs to no trace of ours.
  if (t->session != Recorder::session()) [[unlikely]]
    return result;
  EventKind exit = EventKind::kReturn;
  if (result == nullptr) {
    exit = EventKind::kUnwind;
  } else if (generator && compat::SuspendedAfterEval(f)) {
    exit = EventKind::kYield;
  }
  events->Append(exit, id, 0);
  // ETW only while the session that saw the call runs (after it stopped,
  // the events would follow its PythonThread STOPs).
  if (etw != nullptr && etw == Recorder::etw()) [[unlikely]]
    etw->OnExit(t->etw_open, id);
  return result;
}

// Stack mode: traced frames run through their function's trampoline slot,
// which calls the next evaluator; nothing is recorded per call.
using SlotFunc = PyObject* (*)(PyThreadState*, compat::Frame*, int,
                               compat::EvalFrameFunc);
uintptr_t g_slot_zero = 0;               // StackMode::slot_zero()
compat::EvalFrameFunc g_stack_next = nullptr;  // what a slot calls

// Calls a frame through its function's slot, or straight on if untraced.
inline PyObject* CallThrough(uint64_t word, PyThreadState* ts,
                             compat::Frame* f, int throwflag) {
  compat::RefundEvalEntry refund(ts);
  if (word & kCodeTraced) {
    if (word & kCodeInit) compat::KeepInitCallsVisible(f);
    const auto slot = reinterpret_cast<SlotFunc>(
        g_slot_zero + CodeFunctionId(word) * thunk::kSlotBytes);
    return slot(ts, f, throwflag, g_stack_next);
  }
  return g_stack_next(ts, f, throwflag);
}

// First sight of a code object in this session: register it (and give it
// a slot). Out of line so that the hot path saves no registers.
[[gnu::noinline]] PyObject* StackHookSlow(PyThreadState* ts, compat::Frame* f,
                                          int throwflag, PyCodeObject* code) {
  Recorder* r = Recorder::current();
  const uint64_t word =
      r != nullptr ? r->CodeWord(code, compat::FrameGlobals(f)) : 0;
  return CallThrough(word, ts, f, throwflag);
}

PyObject* StackHook(PyThreadState* ts, compat::Frame* f, int throwflag) {
  if (StackGuard::Low()) [[unlikely]]
    return StackGuard::OnFreshSegment(StackHook, ts, f, throwflag);
  PyCodeObject* code = compat::FrameCode(f);
  if (code == nullptr) [[unlikely]]
    return CallThrough(0, ts, f, throwflag);
  const uint64_t word =
      compat::GetCodeExtra(code, Recorder::code_extra_index());
  if (CodeSession(word) != static_cast<uint16_t>(Recorder::session()))
      [[unlikely]]
    return StackHookSlow(ts, f, throwflag, code);
  return CallThrough(word, ts, f, throwflag);
}

// The floor: what any eval-frame recorder costs at least.
thread_local uint64_t floor_sink __attribute__((tls_model("initial-exec")));

PyObject* FloorHook(PyThreadState* ts, compat::Frame* f, int throwflag) {
  const uint64_t t0 = __rdtsc();
  PyObject* result = compat::EvalDefault(ts, f, throwflag);
  floor_sink += __rdtsc() - t0;
  return result;
}

}  // namespace

absl::Status InstallFloor() {
  g_previous = nullptr;
  compat::SetEvalFrame(FloorHook);
  return absl::OkStatus();
}

namespace {

// Installs `hook`, remembering another tool's evaluator (if any) as the
// next one to call.
void Install(compat::EvalFrameFunc hook) {
  auto current = reinterpret_cast<compat::EvalFrameFunc>(
      _PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get()));
  g_previous = current == reinterpret_cast<compat::EvalFrameFunc>(
                              &_PyEval_EvalFrameDefault)
                   ? nullptr
                   : current;
  compat::SetEvalFrame(hook);
  compat::RouteInitCallsThroughHook(true);
  compat::DeoptimizeInlinedCalls();
}

}  // namespace

absl::Status InstallEvalFrame(Recorder&) {
  if (!compat::EvalFrameIs(EvalHook)) Install(EvalHook);
  return absl::OkStatus();
}

absl::Status InstallStack(const StackMode& stack) {
  g_slot_zero = stack.slot_zero();
  if (compat::EvalFrameIs(StackHook)) return absl::OkStatus();
  Install(StackHook);
  g_stack_next = g_previous != nullptr
                     ? g_previous
                     : reinterpret_cast<compat::EvalFrameFunc>(
                           &_PyEval_EvalFrameDefault);
  return absl::OkStatus();
}

void RemoveEvalFrame() {
  if (compat::EvalFrameIs(FloorHook)) {
    compat::SetEvalFrame(reinterpret_cast<compat::EvalFrameFunc>(
        &_PyEval_EvalFrameDefault));
    return;
  }
  if (!compat::EvalFrameIs(EvalHook) && !compat::EvalFrameIs(StackHook))
    return;
  compat::SetEvalFrame(g_previous != nullptr
                           ? g_previous
                           : reinterpret_cast<compat::EvalFrameFunc>(
                                 &_PyEval_EvalFrameDefault));
  g_previous = nullptr;
  compat::RouteInitCallsThroughHook(false);
}

}  // namespace tracestore::pyhook
