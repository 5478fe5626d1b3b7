// Every CPython version difference the recorder depends on, in one place,
// behind PY_VERSION_HEX. The supported range is TS_PY_MIN_HEX..TS_PY_MAX_HEX
// from the generated supported_pythons.h (one fact: pyhook/supported.txt);
// not free-threaded builds.
//
// The eval-frame hook sees a different frame type per version:
//   3.9, 3.10   PyFrameObject*         (f_code, f_back, f_lasti, f_globals)
//   3.11+       _PyInterpreterFrame*   (internal; Py_BUILD_CORE headers)
// Everything else in pyhook goes through the helpers below.

#ifndef TRACESTORE_PYHOOK_COMPAT_H_
#define TRACESTORE_PYHOOK_COMPAT_H_

#define PY_SSIZE_T_CLEAN
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <frameobject.h>

#include "supported_pythons.h"
#if PY_VERSION_HEX < TS_PY_MIN_HEX || PY_VERSION_HEX >= TS_PY_MAX_HEX + 0x00010000
#error "tracestore does not support this CPython version (see pyhook/supported.txt)"
#endif
#ifdef Py_GIL_DISABLED
#error "tracestore does not support free-threaded CPython builds"
#endif

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030D0000
#include "internal/pycore_genobject.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe.h"
#include <opcode.h>
#include "internal/pycore_ceval.h"  // _Py_InitializeRecursionLimits
#include "internal/pycore_tstate.h"
#endif

#include <cstdint>
#include <string_view>

#if PY_VERSION_HEX < 0x030A0000
inline PyObject* Py_NewRef(PyObject* o) {
  Py_INCREF(o);
  return o;
}
#endif

namespace tracestore::pyhook::compat {

// The UTF-8 of a str (borrowed: valid while `s` lives), or "" for anything
// else or an encoding error (cleared).
inline std::string_view Utf8(PyObject* s) {
  if (s == nullptr || !PyUnicode_Check(s)) return {};
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == nullptr) {
    PyErr_Clear();
    return {};
  }
  return {p, static_cast<size_t>(n)};
}

#if PY_VERSION_HEX >= 0x030B0000
using Frame = _PyInterpreterFrame;
#else
using Frame = PyFrameObject;
#endif

using EvalFrameFunc = PyObject* (*)(PyThreadState*, Frame*, int);

inline PyObject* EvalDefault(PyThreadState* ts, Frame* f, int throwflag) {
  return _PyEval_EvalFrameDefault(ts, f, throwflag);
}

inline void SetEvalFrame(EvalFrameFunc func) {
  _PyInterpreterState_SetEvalFrameFunc(
      PyInterpreterState_Get(),
      reinterpret_cast<_PyFrameEvalFunction>(func));
}

inline bool EvalFrameIs(EvalFrameFunc func) {
  return _PyInterpreterState_GetEvalFrameFunc(PyInterpreterState_Get()) ==
         reinterpret_cast<_PyFrameEvalFunction>(func);
}

// The code object a frame runs, or nullptr (3.12+ shim frames).
inline PyCodeObject* FrameCode(Frame* f) {
#if PY_VERSION_HEX >= 0x030E0000
  PyObject* exe = PyStackRef_AsPyObjectBorrow(f->f_executable);
  return PyCode_Check(exe) ? reinterpret_cast<PyCodeObject*>(exe) : nullptr;
#elif PY_VERSION_HEX >= 0x030D0000
  PyObject* exe = f->f_executable;
  return PyCode_Check(exe) ? reinterpret_cast<PyCodeObject*>(exe) : nullptr;
#else
  return f->f_code;
#endif
}

inline PyObject* FrameGlobals(Frame* f) { return f->f_globals; }

// The interpreter frame behind a frame object (profile/trace callbacks).
inline Frame* FromFrameObject(PyFrameObject* frame) {
#if PY_VERSION_HEX >= 0x030B0000
  return frame->f_frame;
#else
  return frame;
#endif
}

// Index of the last instruction started, in bytes from the start of the
// code (what PyCode_Addr2Line takes); negative before the first.
inline int FrameLastiBytes(Frame* f) {
#if PY_VERSION_HEX >= 0x030B0000
  return _PyInterpreterFrame_LASTI(f) * static_cast<int>(sizeof(_Py_CODEUNIT));
#elif PY_VERSION_HEX >= 0x030A0000
  return f->f_lasti < 0 ? -1 : f->f_lasti * 2;
#else
  return f->f_lasti;
#endif
}

// The address of the instruction at byte offset `lasti` of `code`: a key
// that names (code, offset) with one word while the code object lives (the
// line caches use it).
inline const void* InstrKey(PyCodeObject* code, int lasti) {
#if PY_VERSION_HEX >= 0x030B0000
  return reinterpret_cast<const char*>(_PyCode_CODE(code)) + lasti;
#else
  return PyBytes_AS_STRING(code->co_code) + lasti;
#endif
}
// The same for the instruction a frame is at (FrameLastiBytes), read
// straight from the frame on 3.11+.
inline const void* InstrKey(Frame* f) {
#if PY_VERSION_HEX >= 0x030D0000
  return f->instr_ptr;
#elif PY_VERSION_HEX >= 0x030B0000
  return f->prev_instr;
#else
  return InstrKey(f->f_code, FrameLastiBytes(f));
#endif
}

#if PY_VERSION_HEX >= 0x030B0000
// Skips frames that are not (yet) Python code: incomplete frames and, on
// 3.12+, the interpreter's own entry and shim frames (FRAME_OWNED_BY_CSTACK;
// from 3.14 FRAME_OWNED_BY_INTERPRETER, the only such kind in 3.15).
inline bool IsShim(Frame* f) {
#if PY_VERSION_HEX >= 0x030E0000
  return f->owner >= FRAME_OWNED_BY_INTERPRETER;
#elif PY_VERSION_HEX >= 0x030C0000
  return f->owner == FRAME_OWNED_BY_CSTACK;
#else
  (void)f;
  return false;
#endif
}
inline Frame* SkipShims(Frame* f) {
  while (f != nullptr && (IsShim(f) || _PyFrame_IsIncomplete(f)))
    f = f->previous;
  return f;
}

// The thread's newest frame, shim or not (in a sys.monitoring PY_START or
// PY_RESUME callback: the frame that starts).
inline Frame* TopFrame(PyThreadState* ts) {
#if PY_VERSION_HEX >= 0x030D0000
  return ts->current_frame;
#else
  return ts->cframe->current_frame;
#endif
}

// The frame running on this thread, without creating a frame object.
inline Frame* CurrentFrame(PyThreadState* ts) {
#if PY_VERSION_HEX >= 0x030D0000
  return SkipShims(ts->current_frame);
#else
  return SkipShims(ts->cframe->current_frame);
#endif
}
#endif

// The frame that is calling `f`, a frame handed to the eval-frame hook and
// not yet running (on 3.11+ its `previous` link is set only once the default
// eval starts it, so the caller is the thread's current frame).
inline Frame* CallerOfNewFrame(PyThreadState* ts, Frame* f) {
#if PY_VERSION_HEX >= 0x030B0000
  (void)f;
  return CurrentFrame(ts);
#else
  (void)ts;
  return f->f_back;
#endif
}

// The frame that called `f`, a frame that is running.
inline Frame* CallerOfRunningFrame(Frame* f) {
#if PY_VERSION_HEX >= 0x030B0000
  return SkipShims(f->previous);
#else
  return f->f_back;
#endif
}

inline bool IsGeneratorCode(PyCodeObject* code) {
  return (code->co_flags &
          (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) != 0;
}

// True when the frame belongs to a generator, coroutine or async generator
// object (as opposed to the short call that creates one on 3.11+).
inline bool IsGeneratorFrame(Frame* f, PyCodeObject* code) {
#if PY_VERSION_HEX >= 0x030B0000
  (void)code;
  return f->owner == FRAME_OWNED_BY_GENERATOR;
#else
  (void)f;
  return IsGeneratorCode(code);
#endif
}

// 3.11+: calling a generator function runs its frame briefly (up to
// RETURN_GENERATOR) to create the generator. That is not a call of the
// body, so the recorder skips it.
inline bool IsGeneratorCreation(Frame* f, PyCodeObject* code) {
#if PY_VERSION_HEX >= 0x030B0000
  return f->owner != FRAME_OWNED_BY_GENERATOR && IsGeneratorCode(code);
#else
  (void)f;
  (void)code;
  return false;
#endif
}

// For a generator frame about to run, or at its RESUME (profile and
// monitoring callbacks): true on its first entry, false when it resumes
// after a yield. `body_start` is the byte offset of the code's first RESUME
// (3.11+; see BodyStartBytes), unused before.
inline bool IsFirstEntry(Frame* f, int body_start) {
#if PY_VERSION_HEX >= 0x030B0000
  return FrameLastiBytes(f) <= body_start;
#else
  (void)body_start;
  return f->f_lasti < 0;
#endif
}

// After the default eval returned a value for a generator frame: did the
// generator suspend (yield/await) rather than finish?
inline bool SuspendedAfterEval(Frame* f) {
#if PY_VERSION_HEX >= 0x030E0000
  return FRAME_STATE_SUSPENDED(_PyGen_GetGeneratorFromFrame(f)->gi_frame_state);
#elif PY_VERSION_HEX >= 0x030D0000
  return FRAME_STATE_SUSPENDED(_PyFrame_GetGenerator(f)->gi_frame_state);
#elif PY_VERSION_HEX >= 0x030B0000
  return _PyFrame_GetGenerator(f)->gi_frame_state == FRAME_SUSPENDED;
#elif PY_VERSION_HEX >= 0x030A0000
  return f->f_state == FRAME_SUSPENDED;
#else
  return f->f_stacktop != nullptr;
#endif
}

// In a profile function's 'return' for a generator frame: is it a yield?
// Up to 3.13 the frame is already marked suspended then; from 3.14 the
// PY_YIELD event that setprofile rides on fires before that, while the
// frame is still at its (instrumented) YIELD_VALUE.
inline bool YieldingInProfile(Frame* f) {
#if PY_VERSION_HEX >= 0x030E0000
  const int op = f->instr_ptr->op.code;
  return op == INSTRUMENTED_YIELD_VALUE || op == YIELD_VALUE;
#else
  return SuspendedAfterEval(f);
#endif
}

// Byte offset of the first RESUME instruction (3.11+), which ends a
// generator's prologue; 0 where not needed. Called once per code object.
int BodyStartBytes(PyCodeObject* code);

// 3.11+ (before, the recorder recovers it: qualname.h).
#if PY_VERSION_HEX >= 0x030B0000
inline PyObject* CodeQualname(PyCodeObject* code) { return code->co_qualname; }
#endif

inline Py_ssize_t RequestCodeExtraIndex() {
#if PY_VERSION_HEX >= 0x030C0000
  return PyUnstable_Eval_RequestCodeExtraIndex(nullptr);
#else
  return _PyEval_RequestCodeExtraIndex(nullptr);
#endif
}

// The co_extra word at `index`, read directly: this runs for every frame,
// and the API call (with its argument checks) costs as much as the rest of
// the lookup. The layout of the extra block, {ce_size; ce_extras[]}, is the
// same in CPython 3.9 to 3.13 (Objects/codeobject.c, pycore_code.h).
struct CodeExtraBlock {
  Py_ssize_t size;
  void* extras[1];
};
inline uint64_t GetCodeExtra(PyCodeObject* code, Py_ssize_t index) {
  const auto* block = static_cast<const CodeExtraBlock*>(code->co_extra);
  if (block == nullptr || index >= block->size) return 0;
  return reinterpret_cast<uintptr_t>(block->extras[index]);
}

inline void SetCodeExtra(PyCodeObject* code, Py_ssize_t index,
                         uint64_t value) {
  void* extra = reinterpret_cast<void*>(static_cast<uintptr_t>(value));
#if PY_VERSION_HEX >= 0x030C0000
  if (PyUnstable_Code_SetExtra(reinterpret_cast<PyObject*>(code), index,
                               extra) != 0)
#else
  if (_PyCode_SetExtra(reinterpret_cast<PyObject*>(code), index, extra) != 0)
#endif
    PyErr_Clear();
}


// 3.12+: some specialised instructions (class calls entering __init__,
// property getters, __getitem__) push the callee's frame inline, without the
// eval-frame function; CPython refuses to create them while a PEP 523 hook is
// installed, but ones created before keep bypassing it. Invalidating every
// type's version makes them fall back (and not respecialise). No-op before
// 3.12.
void DeoptimizeInlinedCalls();

// 3.12+: _PyEval_EvalFrameDefault charges this many units of the thread's
// C recursion budget (c_recursion_remaining) on entry and gives them back
// on exit (PY_EVAL_C_STACK_UNITS in Python/ceval.c). Untraced, a
// Python-to-Python call is inlined and pays nothing; a PEP 523 hook makes
// every call enter the evaluator, so 3.12 would raise RecursionError at a
// quarter of the depth (3.13 at a half). The hooks give the units back
// around each call (RefundEvalEntry), so direct recursion fails at the
// depth it fails untraced; the real C stack is StackGuard's job.
// (3.11 charges nothing on entry; 3.14 replaced the budget with checks of
// the real stack pointer, which StackGuard keeps true.)
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
#define TS_C_RECURSION_BUDGET 1
inline constexpr int kEvalEntryCUnits = 2;
#endif
class RefundEvalEntry {
 public:
  explicit RefundEvalEntry(PyThreadState* ts) : ts_(ts) {
#ifdef TS_C_RECURSION_BUDGET
    ts_->c_recursion_remaining += kEvalEntryCUnits;
#endif
  }
  ~RefundEvalEntry() {
#ifdef TS_C_RECURSION_BUDGET
    ts_->c_recursion_remaining -= kEvalEntryCUnits;
#endif
  }
  RefundEvalEntry(const RefundEvalEntry&) = delete;
  RefundEvalEntry& operator=(const RefundEvalEntry&) = delete;

 private:
  [[maybe_unused]] PyThreadState* ts_;
};

// True for an __init__ method's code.
inline bool IsInitCode(PyCodeObject* code) {
  return code->co_argcount >= 1 && !IsGeneratorCode(code) &&
         PyUnicode_Check(code->co_name) &&
         PyUnicode_CompareWithASCIIString(code->co_name, "__init__") == 0;
}

// 3.13: CALL_ALLOC_AND_ENTER_INIT (a specialised call of a class whose
// __init__ is plain Python) pushes the __init__ frame without the
// eval-frame function, and CPython creates it even while a hook is
// installed (3.14 checks for a hook, _CHECK_PEP_523). It is only created for heap types whose tp_alloc is
// PyType_GenericAlloc, so while an eval-frame hook is installed those
// types get an allocator that only calls PyType_GenericAlloc (objects are
// allocated exactly as before): every existing type when the hook is
// installed, every type `type.__new__` creates meanwhile, and, as a
// backstop for types made some other way, the type of each traced
// __init__'s `self` (KeepInitCallsVisible, from the hooks). Call sites
// specialised before tracing started fall back once DeoptimizeInlinedCalls
// has invalidated the type versions. No-ops but on 3.13.
void RouteInitCallsThroughHook(bool on);
#if PY_VERSION_HEX >= 0x030D0000 && PY_VERSION_HEX < 0x030E0000
#define TS_ROUTE_INIT_CALLS 1
void RouteAllocThroughHook(PyTypeObject* type);
// `f` is a frame of code flagged kCodeInit, about to run.
inline void KeepInitCallsVisible(Frame* f) {
  PyObject* self = f->localsplus[0];
  if (self != nullptr && Py_TYPE(self)->tp_alloc == PyType_GenericAlloc)
    RouteAllocThroughHook(Py_TYPE(self));
}
#else
inline void KeepInitCallsVisible(Frame*) {}
#endif

// Sets (or clears, with func == nullptr) a C profile function on every
// thread of the interpreter.
void SetProfileAllThreads(Py_tracefunc func, PyObject* arg);

}  // namespace tracestore::pyhook::compat

#endif  // TRACESTORE_PYHOOK_COMPAT_H_
