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

// The hot path's test, for an event of code object args[0]: its co_extra
// word when the thread records right now (its gate is open) and the code
// is traced in this session, else 0. Nothing is looked up, registered or
// set up here; when it answers 0, the general path (Lookup) decides.
inline uint64_t ReadyWord(ThreadState* t, PyObject* const* args,
                          Py_ssize_t nargs) {
  if (t == nullptr || t->gate != Recorder::session() || nargs < 2 ||
      !PyCode_Check(args[0])) [[unlikely]]
    return 0;
  const uint64_t w = compat::GetCodeExtra(
      reinterpret_cast<PyCodeObject*>(args[0]), Recorder::code_extra_index());
  return (w & kCodeSessionAndState) == t->traced_word ? w : 0;
}

// The general test: the thread's state (set up on first sight) and the
// co_extra word of the code (registered on first sight); false when the
// event is not to be recorded.
bool Lookup(PyObject* const* args, Py_ssize_t nargs, ThreadState** t,
            uint64_t* word) {
  if (nargs < 2 || !PyCode_Check(args[0])) return false;
  *t = Recorder::ThisThread();
  if (*t == nullptr || (*t)->busy) return false;
  *word = Recorder::Word(*t, reinterpret_cast<PyCodeObject*>(args[0]), [] {
    compat::Frame* f = compat::CurrentFrame(PyThreadState_Get());
    return f != nullptr ? compat::FrameGlobals(f) : nullptr;
  });
  return *word != 0;
}

PyObject* Disable() { return Py_NewRef(g_disable); }

// A start event of traced code: a call (PY_START) or a resume (PY_RESUME),
// with the line its caller is at. The starting frame is the thread's top
// frame (the event runs in it, at its RESUME).
inline int CallLine(PyThreadState* ts, ThreadState* t, compat::Frame** caller) {
  compat::Frame* f = compat::TopFrame(ts);
  *caller = f != nullptr ? compat::CallerOfRunningFrame(f) : nullptr;
  return Recorder::FrameLine(t, *caller);
}

[[gnu::noinline]] PyObject* RecordStart(PyThreadState* ts, ThreadState* t,
                                        uint64_t word, EventKind kind) {
  compat::Frame* caller;
  const int line = CallLine(ts, t, &caller);
  const uint32_t id = CodeFunctionId(word);
  t->events->Append(kind, id, static_cast<uint32_t>(line));
  if (EtwEmitter* etw = Recorder::etw())
    etw->OnCall(t->etw_open, id, Recorder::FrameFunctionId(caller, t->session),
                static_cast<uint32_t>(line));
  Py_RETURN_NONE;
}

[[gnu::noinline]] PyObject* RecordExit(ThreadState* t, uint64_t word,
                                       EventKind kind) {
  t->events->Append(kind, CodeFunctionId(word), 0);
  if (EtwEmitter* etw = Recorder::etw())
    etw->OnExit(t->etw_open, CodeFunctionId(word));
  Py_RETURN_NONE;
}

// The general paths, for everything the hot path's test leaves out.
[[gnu::noinline]] PyObject* StartSlow(EventKind kind, PyObject* const* args,
                                      Py_ssize_t nargs) {
  ThreadState* t;
  uint64_t word;
  if (!Lookup(args, nargs, &t, &word)) Py_RETURN_NONE;
  if (!(word & kCodeTraced)) return Disable();
  return RecordStart(PyThreadState_Get(), t, word, kind);
}

[[gnu::noinline]] PyObject* ExitSlow(EventKind kind, PyObject* const* args,
                                     Py_ssize_t nargs, bool can_disable) {
  ThreadState* t;
  uint64_t word;
  if (!Lookup(args, nargs, &t, &word)) Py_RETURN_NONE;
  if (!(word & kCodeTraced)) {
    if (can_disable) return Disable();
    Py_RETURN_NONE;
  }
  return RecordExit(t, word, kind);
}

// The callbacks' entry points (vectorcall functions). The hot path calls
// nothing it must come back from, so it needs no stack frame: with the gate
// open (which means no ETW too), the TSC clock and room in the chunk it
// records inline; anything else is a tail call into the general path.
template <EventKind kKind>
PyObject* OnStart(PyObject*, PyObject* const* args, size_t nargsf, PyObject*) {
  PyThreadState* ts = PyThreadState_Get();
  ThreadState* t = tls_state;
  const uint64_t word = ReadyWord(t, args, PyVectorcall_NARGS(nargsf));
  if (word == 0) [[unlikely]]
    return StartSlow(kKind, args, PyVectorcall_NARGS(nargsf));
  compat::Frame* caller;
  const int line = CallLine(ts, t, &caller);
  if (!t->events->TryAppend(kKind, CodeFunctionId(word),
                            static_cast<uint32_t>(line))) [[unlikely]]
    return RecordStart(ts, t, word, kKind);
  Py_RETURN_NONE;
}

template <EventKind kKind, bool kCanDisable>
PyObject* OnExit(PyObject*, PyObject* const* args, size_t nargsf, PyObject*) {
  ThreadState* t = tls_state;
  const uint64_t word = ReadyWord(t, args, PyVectorcall_NARGS(nargsf));
  if (word == 0) [[unlikely]]
    return ExitSlow(kKind, args, PyVectorcall_NARGS(nargsf), kCanDisable);
  if (!t->events->TryAppend(kKind, CodeFunctionId(word), 0)) [[unlikely]]
    return RecordExit(t, word, kKind);
  Py_RETURN_NONE;
}

PyObject* PyThrow(PyObject*, PyObject* const* a, size_t nargsf, PyObject*) {
  // An exception thrown into a suspended generator resumes it. Not
  // disableable.
  ThreadState* t;
  uint64_t word;
  const Py_ssize_t n = PyVectorcall_NARGS(nargsf);
  if (!Lookup(a, n, &t, &word) || !(word & kCodeTraced)) Py_RETURN_NONE;
  t->events->Append(EventKind::kResume, CodeFunctionId(word), 0);
  if (EtwEmitter* etw = Recorder::etw()) etw->OnCall(t->etw_open, CodeFunctionId(word), 0, 0);
  Py_RETURN_NONE;
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
template <EventKind kKind>
PyObject* OnCEvent(PyObject*, PyObject* const* a, size_t nargsf, PyObject*) {
  return CEvent(kKind, a, PyVectorcall_NARGS(nargsf));
}

// The callbacks, as sys.monitoring sees them: objects of a minimal type
// that is called through vectorcall directly. A builtin function object
// would do too, but its vectorcall charges one unit of the C recursion
// budget around every event ("while calling a Python object"), which
// moves RecursionError by one level in recursion through C code, and costs
// a few instructions per event.
struct Callback {
  PyObject_HEAD
  vectorcallfunc vectorcall;
};

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
    {"PY_START", OnStart<EventKind::kCall>, false},
    {"PY_RESUME", OnStart<EventKind::kResume>, false},
    {"PY_THROW", PyThrow, false},
    {"PY_RETURN", OnExit<EventKind::kReturn, true>, false},
    {"PY_YIELD", OnExit<EventKind::kYield, true>, false},
    {"PY_UNWIND", OnExit<EventKind::kUnwind, false>, false},
    {"CALL", OnCEvent<EventKind::kCCall>, true},
    {"C_RETURN", OnCEvent<EventKind::kCReturn>, true},
    {"C_RAISE", OnCEvent<EventKind::kCReturn>, true},
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
