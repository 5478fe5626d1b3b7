// Line events (--lines), in traced code only, beside whichever backend
// records calls:
//   3.12+   sys.monitoring LINE events, enabled per code object (locally)
//           for traced code only, so untraced code pays nothing
//   3.9-11  a C trace function (settrace) on every thread; it sees every
//           line of every frame and keeps those of traced code
// Either way lines cost far more than calls; they are opt-in.

#include "compat.h"
#include "monitoring_tool.h"
#include "recorder.h"

namespace tracestore::pyhook {

namespace {

using format::EventKind;

bool g_lines = false;

inline void RecordLine(PyCodeObject* code, int line) {
  ThreadState* t = Recorder::ThisThread();
  if (t == nullptr || t->busy) return;
  uint64_t word = compat::GetCodeExtra(code, Recorder::code_extra_index());
  if (CodeSession(word) != static_cast<uint16_t>(t->session) ||
      !(word & kCodeTraced))
    return;
  t->events->Append(EventKind::kLine, CodeFunctionId(word),
                    static_cast<uint32_t>(line));
}

#if PY_VERSION_HEX >= 0x030C0000

long g_line_event = 0;
int g_tool = -1;  // our sys.monitoring tool id while lines are on

PyObject* Monitoring(const char* name) {
  PyObject* m = PySys_GetObject("monitoring");
  return m ? PyObject_GetAttrString(m, name) : nullptr;
}

PyObject* OnLine(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (nargs >= 2 && PyCode_Check(args[0])) {
    const long line = PyLong_AsLong(args[1]);
    if (line >= 0)
      RecordLine(reinterpret_cast<PyCodeObject*>(args[0]),
                 static_cast<int>(line));
    else
      PyErr_Clear();
  }
  Py_RETURN_NONE;
}

PyMethodDef kLineDef = {
    "LINE", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(OnLine)),
    METH_FASTCALL, nullptr};

#else

int TraceFunc(PyObject*, PyFrameObject* frame, int what, PyObject*) {
  if (what == PyTrace_LINE) {
    if (PyCodeObject* code = compat::FrameCode(compat::FromFrameObject(frame)))
      RecordLine(code, PyFrame_GetLineNumber(frame));
  }
  return 0;
}

#endif

}  // namespace

#if PY_VERSION_HEX >= 0x030C0000

absl::Status InstallLines(Recorder&) {
  PyObject* reg = Monitoring("register_callback");
  PyObject* events = Monitoring("events");
  PyObject* line = events ? PyObject_GetAttrString(events, "LINE") : nullptr;
  PyObject* fn = PyCFunction_New(&kLineDef, nullptr);
  absl::Status status;
  if (reg == nullptr || line == nullptr || fn == nullptr) {
    status = absl::FailedPreconditionError("sys.monitoring is not usable");
  } else if (absl::StatusOr<int> tool = MonitoringTool::Acquire(); !tool.ok()) {
    status = tool.status();
  } else {
    g_tool = *tool;  // shared with the monitoring backend, if it runs
    g_line_event = PyLong_AsLong(line);
    PyObject* r = PyObject_CallFunction(reg, "iOO", g_tool, line, fn);
    if (r == nullptr) {
      PyErr_Clear();
      MonitoringTool::Release();
      status = absl::FailedPreconditionError(
          "sys.monitoring.register_callback(LINE) failed");
    }
    Py_XDECREF(r);
  }
  Py_XDECREF(reg);
  Py_XDECREF(events);
  Py_XDECREF(line);
  Py_XDECREF(fn);
  g_lines = status.ok();
  return status;
}

void EnableLinesFor(PyCodeObject* code) {
  if (!g_lines) return;
  PyObject* set = Monitoring("set_local_events");
  PyObject* r = set ? PyObject_CallFunction(set, "iOl", g_tool,
                                            reinterpret_cast<PyObject*>(code),
                                            g_line_event)
                    : nullptr;
  if (r == nullptr) PyErr_Clear();
  Py_XDECREF(r);
  Py_XDECREF(set);
}

void RemoveLines() {
  if (!g_lines) return;
  g_lines = false;
  PyObject* reg = Monitoring("register_callback");
  PyObject* events = Monitoring("events");
  PyObject* line = events ? PyObject_GetAttrString(events, "LINE") : nullptr;
  if (reg && line) {
    PyObject* r = PyObject_CallFunction(reg, "iOO", g_tool, line, Py_None);
    Py_XDECREF(r);
  }
  MonitoringTool::Release();
  g_tool = -1;
  Py_XDECREF(reg);
  Py_XDECREF(events);
  Py_XDECREF(line);
  PyErr_Clear();
}

#else

absl::Status InstallLines(Recorder&) {
  PyThreadState* self = PyThreadState_Get();
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(self->interp);
       ts != nullptr; ts = PyThreadState_Next(ts)) {
    if (_PyEval_SetTrace(ts, TraceFunc, nullptr) < 0) PyErr_Clear();
  }
  g_lines = true;
  return absl::OkStatus();
}

void EnableLinesFor(PyCodeObject*) {}

void RemoveLines() {
  if (!g_lines) return;
  g_lines = false;
  PyThreadState* self = PyThreadState_Get();
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(self->interp);
       ts != nullptr; ts = PyThreadState_Next(ts)) {
    if (_PyEval_SetTrace(ts, nullptr, nullptr) < 0) PyErr_Clear();
  }
}

#endif

// threading.settrace() target for new threads when lines are recorded
// before 3.12 (3.12+ monitoring covers every thread).
void TraceThisThread() {
#if PY_VERSION_HEX < 0x030C0000
  if (g_lines) PyEval_SetTrace(TraceFunc, nullptr);
#endif
}

}  // namespace tracestore::pyhook
