// The setprofile backend: a C profile function on every thread. It is the
// fallback for Python calls (--hook setprofile) and the source of C-function
// calls (--c-calls) beside the other backends.
//
// Limits (setprofile's, not ours): on 3.12+ an exception unwinding a frame
// arrives as a plain return.

#include "compat.h"
#include "recorder.h"

namespace tracestore::pyhook {

namespace {

using format::EventKind;

bool g_python_calls = false;
bool g_c_calls = false;
bool g_installed = false;

int OnPythonEvent(ThreadState* t, PyFrameObject* frame_object, int what,
                  PyObject* arg) {
  compat::Frame* f = compat::FromFrameObject(frame_object);
  PyCodeObject* code = compat::FrameCode(f);
  if (code == nullptr) return 0;
  const uint64_t word =
      Recorder::Word(t, code, [f] { return compat::FrameGlobals(f); });
  if (!(word & kCodeTraced) || compat::IsGeneratorCreation(f, code)) return 0;
  const uint32_t id = CodeFunctionId(word);
  const bool generator = compat::IsGeneratorFrame(f, code);
  if (what == PyTrace_CALL) {
    const bool resume =
        generator && !compat::IsFirstEntry(f, CodeBodyStart(word));
    compat::Frame* caller = compat::CallerOfRunningFrame(f);
    const int line = Recorder::FrameLine(t, caller);
    t->events->Append(resume ? EventKind::kResume : EventKind::kCall, id,
                      static_cast<uint32_t>(line));
    if (EtwEmitter* etw = Recorder::etw())
      etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(caller, t->session),
                  static_cast<uint32_t>(line));
  } else {
    EventKind kind = EventKind::kReturn;
    if (arg == nullptr) {
      kind = EventKind::kUnwind;
    } else if (generator && compat::YieldingInProfile(f)) {
      kind = EventKind::kYield;
    }
    t->events->Append(kind, id, 0);
    if (EtwEmitter* etw = Recorder::etw()) etw->OnExit(t->etw_open, id);
  }
  return 0;
}

int ProfileFunc(PyObject*, PyFrameObject* frame, int what, PyObject* arg) {
  ThreadState* t = Recorder::ThisThread();
  if (t == nullptr || t->busy) return 0;
  switch (what) {
    case PyTrace_CALL:
    case PyTrace_RETURN:
      if (g_python_calls) return OnPythonEvent(t, frame, what, arg);
      return 0;
    case PyTrace_C_CALL:
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION: {
      if (!g_c_calls) return 0;
      Recorder* r = Recorder::current();
      if (r == nullptr) return 0;
      const uint32_t id = r->CFunctionId(arg);
      if (id == 0) return 0;
      if (what == PyTrace_C_CALL) {
        compat::Frame* f = compat::FromFrameObject(frame);
        const int line = Recorder::FrameLine(t, f);
        t->events->Append(EventKind::kCCall, id, static_cast<uint32_t>(line));
        if (EtwEmitter* etw = Recorder::etw())
          etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(f, t->session),
                      static_cast<uint32_t>(line));
      } else {
        t->events->Append(EventKind::kCReturn, id, 0);
        if (EtwEmitter* etw = Recorder::etw()) etw->OnExit(t->etw_open, id);
      }
      return 0;
    }
    default:
      return 0;
  }
}

}  // namespace

absl::Status InstallProfile(Recorder&, bool python_calls, bool c_calls) {
  g_python_calls = python_calls;
  g_c_calls = c_calls;
  compat::SetProfileAllThreads(ProfileFunc, nullptr);
  // Threads started later get it through threading.setprofile's C twin:
  // new thread states inherit nothing, so the Python layer also calls
  // threading.setprofile (see tracestore/_session.py).
  g_installed = true;
  return absl::OkStatus();
}

void RemoveProfile() {
  if (!g_installed) return;
  compat::SetProfileAllThreads(nullptr, nullptr);
  g_installed = false;
}

// Called by the Python layer in each new thread (threading.setprofile hook)
// so threads started after Start() are profiled too.
void ProfileThisThread() {
  if (g_installed) PyEval_SetProfile(ProfileFunc, nullptr);
}

}  // namespace tracestore::pyhook
