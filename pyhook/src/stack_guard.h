// StackGuard: keeps the eval-frame hooks from running a thread out of C
// stack where the untraced program would not.
//
// From CPython 3.11 on, the interpreter runs a Python-to-Python call inside
// the caller's C frame ("inlined"): untraced, a recursion 50,000 deep uses
// no C stack at all. Any PEP 523 hook turns every such call into a C call
// (hook -> _PyEval_EvalFrameDefault), so the same recursion would need
// tens of MiB of C stack and crash. The hooks therefore check, before each
// frame, how much of the current stack segment is left; below a reserve
// they continue on a fresh segment (an anonymous mapping, reserved but not
// committed up front, reused for the thread's life):
//
//   PyObject* Hook(PyThreadState* ts, Frame* f, int throwflag) {
//     if (StackGuard::Low()) [[unlikely]]
//       return StackGuard::OnFreshSegment(Hook, ts, f, throwflag);
//     ...
//   }
//
// The check is one thread-local load and a compare. A segment switch keeps
// the frame-pointer chain and has DWARF call-frame information, so
// unwinders (gdb, libgcc's backtrace, perf) walk from one segment back into
// the previous one. The reserve left for whatever C code runs between two
// Python frames is half the thread's own stack, at most 4 MiB; a segment
// is 64 MiB of address space.
//
// CPython 3.11+ on x86-64 only. Before 3.11 every Python call is a C call
// untraced too, and the hook adds only its own small frame; elsewhere the
// recorder is not built. Low() is then always false.

#ifndef TRACESTORE_PYHOOK_STACK_GUARD_H_
#define TRACESTORE_PYHOOK_STACK_GUARD_H_

#include <cstdint>

#include "compat.h"

namespace tracestore::pyhook {

class StackGuard {
 public:
  // True when the calling thread's stack segment is below its reserve (or
  // the thread has not been measured yet).
  static bool Low() {
#if defined(__x86_64__) && PY_VERSION_HEX >= 0x030B0000
    return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)) < tls_limit_;
#else
    return false;
#endif
  }

  // Runs eval(ts, f, throwflag) on a fresh segment when the stack is really
  // low, or in place when it was only not measured yet.
  static PyObject* OnFreshSegment(compat::EvalFrameFunc eval, PyThreadState* ts,
                                  compat::Frame* f, int throwflag);

 private:
  // The lowest frame address the current segment lets a hook start at;
  // UINTPTR_MAX until the thread's stack is measured.
  static constinit thread_local uintptr_t tls_limit_
      __attribute__((tls_model("initial-exec")));
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_STACK_GUARD_H_
