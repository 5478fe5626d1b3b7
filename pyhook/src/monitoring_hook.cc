// The sys.monitoring backend (CPython 3.12+): C callbacks registered under
// the profiler tool id. Code the filter excludes answers DISABLE, so after
// its first event it runs at full speed: that is this backend's reason to
// exist.

#include "compat.h"
#include "monitoring_tool.h"
#include "recorder.h"

namespace tracestore::pyhook {

#if PY_VERSION_HEX >= 0x030C0000

namespace {

using format::EventKind;

bool g_installed = false;
PyObject* g_disable = nullptr;  // sys.monitoring.DISABLE

// The co_extra word of `code` (registering it on first sight), and the
// thread's state; false when the event is not to be recorded.
inline bool Lookup(PyObject* code_obj, ThreadState** t, uint64_t* word) {
  if (!PyCode_Check(code_obj)) return false;
  *t = Recorder::ThisThread();
  if (*t == nullptr || (*t)->busy) return false;
  *word = Recorder::Word(*t, reinterpret_cast<PyCodeObject*>(code_obj), [] {
    compat::Frame* f = compat::CurrentFrame(PyThreadState_Get());
    return f != nullptr ? compat::FrameGlobals(f) : nullptr;
  });
  return *word != 0;
}

PyObject* Disable() { return Py_NewRef(g_disable); }

PyObject* OnStart(EventKind kind, PyObject* const* args, Py_ssize_t nargs) {
  ThreadState* t;
  uint64_t word;
  if (nargs < 2 || !Lookup(args[0], &t, &word)) Py_RETURN_NONE;
  if (!(word & kCodeTraced)) return Disable();
  compat::Frame* f = compat::CurrentFrame(PyThreadState_Get());
  compat::Frame* caller = f != nullptr ? compat::CallerOfRunningFrame(f) : nullptr;
  const int line = Recorder::FrameLine(t, caller);
  const uint32_t id = CodeFunctionId(word);
  t->events->Append(kind, id, static_cast<uint32_t>(line));
  if (EtwEmitter* etw = Recorder::etw())
    etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(caller, t->session),
                static_cast<uint32_t>(line));
  Py_RETURN_NONE;
}

PyObject* OnExit(EventKind kind, PyObject* const* args, Py_ssize_t nargs,
                 bool can_disable) {
  ThreadState* t;
  uint64_t word;
  if (nargs < 2 || !Lookup(args[0], &t, &word)) Py_RETURN_NONE;
  if (!(word & kCodeTraced)) {
    if (can_disable) return Disable();
    Py_RETURN_NONE;
  }
  t->events->Append(kind, CodeFunctionId(word), 0);
  if (EtwEmitter* etw = Recorder::etw()) etw->OnExit(t->etw_open, CodeFunctionId(word));
  Py_RETURN_NONE;
}

PyObject* PyStart(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return OnStart(EventKind::kCall, a, n);
}
PyObject* PyResume(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return OnStart(EventKind::kResume, a, n);
}
PyObject* PyThrow(PyObject*, PyObject* const* a, Py_ssize_t n) {
  // An exception thrown into a suspended generator resumes it. Not
  // disableable.
  ThreadState* t;
  uint64_t word;
  if (n < 2 || !Lookup(a[0], &t, &word) || !(word & kCodeTraced))
    Py_RETURN_NONE;
  t->events->Append(EventKind::kResume, CodeFunctionId(word), 0);
  if (EtwEmitter* etw = Recorder::etw()) etw->OnCall(t->etw_open, CodeFunctionId(word), 0, 0);
  Py_RETURN_NONE;
}
PyObject* PyReturn(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return OnExit(EventKind::kReturn, a, n, true);
}
PyObject* PyYield(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return OnExit(EventKind::kYield, a, n, true);
}
PyObject* PyUnwind(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return OnExit(EventKind::kUnwind, a, n, false);
}

PyObject* CEvent(EventKind kind, PyObject* const* a, Py_ssize_t n) {
  // (code, offset, callable, arg0)
  if (n < 3) Py_RETURN_NONE;
  ThreadState* t = Recorder::ThisThread();
  Recorder* r = Recorder::current();
  if (t == nullptr || t->busy || r == nullptr) Py_RETURN_NONE;
  if (!PyCFunction_Check(a[2])) {
    // A call to Python code or another callable: PY_START covers Python.
    if (kind == EventKind::kCCall) return Disable();
    Py_RETURN_NONE;
  }
  const uint32_t id = r->CFunctionId(a[2]);
  if (id == 0) Py_RETURN_NONE;
  int line = 0;
  if (kind == EventKind::kCCall && PyCode_Check(a[0])) {
    const long offset = PyLong_AsLong(a[1]);
    if (offset >= 0)
      line = Recorder::Line(t, reinterpret_cast<PyCodeObject*>(a[0]),
                            static_cast<int>(offset));
    else
      PyErr_Clear();
  }
  t->events->Append(kind, id, static_cast<uint32_t>(line));
  if (EtwEmitter* etw = Recorder::etw()) {
    if (kind == EventKind::kCCall) {
      compat::Frame* f = compat::CurrentFrame(PyThreadState_Get());
      etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(f, t->session),
                  static_cast<uint32_t>(line));
    } else {
      etw->OnExit(t->etw_open, id);
    }
  }
  Py_RETURN_NONE;
}
PyObject* Call(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return CEvent(EventKind::kCCall, a, n);
}
PyObject* CReturn(PyObject*, PyObject* const* a, Py_ssize_t n) {
  return CEvent(EventKind::kCReturn, a, n);
}

// The callbacks, as sys.monitoring sees them: objects of a minimal type
// that is called through vectorcall directly. A builtin function object
// would do too, but its vectorcall charges one unit of the C recursion
// budget around every event ("while calling a Python object"), which
// moves RecursionError by one level in recursion through C code, and costs
// a few instructions per event.
using Handler = PyObject* (*)(PyObject*, PyObject* const*, Py_ssize_t);
struct Callback {
  PyObject_HEAD
  vectorcallfunc vectorcall;
};

template <Handler H>
PyObject* Dispatch(PyObject* self, PyObject* const* args, size_t nargsf,
                   PyObject*) {
  return H(self, args, PyVectorcall_NARGS(nargsf));
}

PyTypeObject g_callback_type = {
    PyVarObject_HEAD_INIT(nullptr, 0) "tracestore._MonitoringCallback",
    sizeof(Callback),
};

struct CallbackDef {
  const char* event;
  vectorcallfunc vectorcall;
  bool c_event;
};
const CallbackDef kCallbacks[] = {
    {"PY_START", Dispatch<PyStart>, false},
    {"PY_RESUME", Dispatch<PyResume>, false},
    {"PY_THROW", Dispatch<PyThrow>, false},
    {"PY_RETURN", Dispatch<PyReturn>, false},
    {"PY_YIELD", Dispatch<PyYield>, false},
    {"PY_UNWIND", Dispatch<PyUnwind>, false},
    {"CALL", Dispatch<Call>, true},
    {"C_RETURN", Dispatch<CReturn>, true},
    {"C_RAISE", Dispatch<CReturn>, true},
};

// A new callback object for `def`, or nullptr with an exception set.
PyObject* NewCallback(const CallbackDef& def) {
  if (g_callback_type.tp_flags == 0) {
    g_callback_type.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
    g_callback_type.tp_vectorcall_offset = offsetof(Callback, vectorcall);
    g_callback_type.tp_call = PyVectorcall_Call;
    g_callback_type.tp_new = nullptr;
    if (PyType_Ready(&g_callback_type) < 0) {
      g_callback_type.tp_flags = 0;
      return nullptr;
    }
  }
  Callback* cb = PyObject_New(Callback, &g_callback_type);
  if (cb == nullptr) return nullptr;
  cb->vectorcall = def.vectorcall;
  return reinterpret_cast<PyObject*>(cb);
}

// Calls sys.monitoring.<name>(*args), consuming `args` (may be nullptr for
// no arguments); returns a new reference or nullptr.
PyObject* CallMonitoring(const char* name, PyObject* args) {
  PyObject* monitoring = PySys_GetObject("monitoring");  // borrowed
  PyObject* fn = monitoring ? PyObject_GetAttrString(monitoring, name) : nullptr;
  PyObject* result = fn ? PyObject_CallObject(fn, args) : nullptr;
  Py_XDECREF(fn);
  Py_XDECREF(args);
  if (monitoring == nullptr)
    PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is not available");
  return result;
}

absl::Status PythonError(const char* what) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  std::string message = what;
  if (value != nullptr) {
    PyObject* s = PyObject_Str(value);
    if (s != nullptr) {
      const char* c = PyUnicode_AsUTF8(s);
      if (c != nullptr) message += std::string(": ") + c;
      Py_DECREF(s);
    }
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  PyErr_Clear();
  return absl::FailedPreconditionError(message);
}

}  // namespace

bool MonitoringAvailable() { return true; }

absl::Status InstallMonitoring(Recorder& r) {
  PyObject* monitoring = PySys_GetObject("monitoring");
  if (monitoring == nullptr) return PythonError("sys.monitoring is missing");
  PyObject* events = PyObject_GetAttrString(monitoring, "events");
  if (events == nullptr) return PythonError("sys.monitoring.events");
  if (g_disable == nullptr) g_disable = PyObject_GetAttrString(monitoring, "DISABLE");
  absl::StatusOr<int> tool = MonitoringTool::Acquire();
  if (!tool.ok()) {
    Py_DECREF(events);
    return tool.status();
  }
  const int kToolId = *tool;
  g_installed = true;  // from here RemoveMonitoring releases the id
  long mask = 0;
  for (const CallbackDef& def : kCallbacks) {
    if (def.c_event && !r.config().c_calls) continue;
    PyObject* event = PyObject_GetAttrString(events, def.event);
    PyObject* fn = NewCallback(def);
    if (event == nullptr || fn == nullptr) {
      Py_XDECREF(event);
      Py_XDECREF(fn);
      Py_DECREF(events);
      return PythonError("sys.monitoring event");
    }
    mask |= PyLong_AsLong(event);
    PyObject* args = Py_BuildValue("(iOO)", kToolId, event, fn);
    PyObject* old = CallMonitoring("register_callback", args);
    Py_DECREF(event);
    Py_DECREF(fn);
    if (old == nullptr) {
      Py_DECREF(events);
      return PythonError("sys.monitoring.register_callback");
    }
    Py_DECREF(old);
  }
  Py_DECREF(events);
  PyObject* set = CallMonitoring("set_events", Py_BuildValue("(il)", kToolId, mask));
  if (set == nullptr) return PythonError("sys.monitoring.set_events");
  Py_DECREF(set);
  // Locations disabled by an earlier session start reporting again.
  PyObject* restart = CallMonitoring("restart_events", nullptr);
  if (restart == nullptr) return PythonError("sys.monitoring.restart_events");
  Py_DECREF(restart);
  return absl::OkStatus();
}

void RemoveMonitoring() {
  if (!g_installed) return;
  g_installed = false;
  const int kToolId = MonitoringTool::id();
  PyObject* r = CallMonitoring("set_events", Py_BuildValue("(ii)", kToolId, 0));
  Py_XDECREF(r);
  // Drop our callbacks' references (3.12's free_tool_id keeps them).
  PyObject* monitoring = PySys_GetObject("monitoring");  // borrowed
  PyObject* events =
      monitoring ? PyObject_GetAttrString(monitoring, "events") : nullptr;
  for (const CallbackDef& def : kCallbacks) {
    PyObject* event = events ? PyObject_GetAttrString(events, def.event) : nullptr;
    r = event ? CallMonitoring("register_callback",
                               Py_BuildValue("(iOO)", kToolId, event, Py_None))
              : nullptr;
    Py_XDECREF(r);
    Py_XDECREF(event);
  }
  Py_XDECREF(events);
  PyErr_Clear();
  MonitoringTool::Release();
}

#else  // before 3.12

bool MonitoringAvailable() { return false; }
absl::Status InstallMonitoring(Recorder&) {
  return absl::FailedPreconditionError(
      "the sys.monitoring hook needs CPython 3.12 or later");
}
void RemoveMonitoring() {}

#endif

}  // namespace tracestore::pyhook
