// The `tracestore._tracestore` extension module: the C entry points of the
// Python API (tracestore/__init__.py wraps them).
//
//   from tracestore import _tracestore as t
//   t.start("run.trace", include=["myapp"], hook="eval-frame")
//   t.mark("phase 1")
//   t.stop()
//
// Multi-phase initialisation; the module keeps no state of its own (the
// recording session is process-wide by nature: the eval-frame hook and
// co_extra are per interpreter).

#include <unwind.h>

#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "compat.h"
#include "perf_files.h"
#include "recorder.h"
#include "tracestore/process_end.h"
#include "tracestore/snapshot.h"
#include "tracestore/trace_reader.h"

namespace tracestore::pyhook {

void ProfileThisThread();            // profile_hook.cc
PyObject* Load(PyObject*, PyObject*);  // load.cc

namespace {

// Converts a non-OK status into a Python exception; returns nullptr.
PyObject* Raise(const absl::Status& s) {
  PyObject* type = PyExc_RuntimeError;
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      type = PyExc_ValueError;
      break;
    case absl::StatusCode::kNotFound:
      type = PyExc_FileNotFoundError;
      break;
    case absl::StatusCode::kAlreadyExists:
      type = PyExc_FileExistsError;
      break;
    case absl::StatusCode::kPermissionDenied:
      type = PyExc_PermissionError;
      break;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
      type = PyExc_OSError;
      break;
    default:
      break;
  }
  PyErr_SetString(type, std::string(s.message()).c_str());
  return nullptr;
}

bool StringList(PyObject* seq, const char* what, std::vector<std::string>* out) {
  if (seq == nullptr || seq == Py_None) return true;
  PyObject* fast = PySequence_Fast(seq, what);
  if (fast == nullptr) return false;
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(fast, i);
    Py_ssize_t len;
    const char* s = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len)
                                          : nullptr;
    if (s == nullptr) {
      Py_DECREF(fast);
      if (!PyErr_Occurred())
        PyErr_Format(PyExc_TypeError, "%s must hold strings", what);
      return false;
    }
    out->emplace_back(s, static_cast<size_t>(len));
  }
  Py_DECREF(fast);
  return true;
}

PyObject* Start(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"path",       "include",   "exclude",
                                 "exclude_dirs", "keep_dirs", "hook",
                                 "with_threads", "lines",    "c_calls",
                                 "properties", "quiet",     "etw",
                                 "perf_files", "tool_dirs", "max_size",
                                 "include_paths", "exclude_paths", nullptr};
  const char* path = nullptr;
  const char* hook = "eval-frame";
  PyObject *include = nullptr, *exclude = nullptr, *exclude_dirs = nullptr,
           *keep_dirs = nullptr, *properties = nullptr, *etw = nullptr,
           *tool_dirs = nullptr, *include_paths = nullptr,
           *exclude_paths = nullptr;
  int with_threads = 1, lines = 0, c_calls = 0, quiet = 0, perf_files = 1;
  unsigned long long max_size = 0;
  if (!PyArg_ParseTupleAndKeywords(
          args, kwargs, "s|OOOOspppOpOpOKOO", const_cast<char**>(kwlist),
          &path, &include, &exclude, &exclude_dirs, &keep_dirs, &hook,
          &with_threads, &lines, &c_calls, &properties, &quiet, &etw,
          &perf_files, &tool_dirs, &max_size, &include_paths, &exclude_paths))
    return nullptr;
  Recorder::Config config;
  config.path = path;
  if (!StringList(include, "include", &config.include) ||
      !StringList(exclude, "exclude", &config.exclude) ||
      !StringList(exclude_dirs, "exclude_dirs", &config.exclude_dirs) ||
      !StringList(keep_dirs, "keep_dirs", &config.keep_dirs) ||
      !StringList(tool_dirs, "tool_dirs", &config.tool_dirs) ||
      !StringList(include_paths, "include_paths", &config.include_paths) ||
      !StringList(exclude_paths, "exclude_paths", &config.exclude_paths))
    return nullptr;
  const std::string h = hook;
  if (h == "eval-frame") {
    config.backend = Backend::kEvalFrame;
  } else if (h == "monitoring") {
    if (!MonitoringAvailable()) {
      PyErr_SetString(PyExc_ValueError,
                      "the monitoring hook needs CPython 3.12 or later");
      return nullptr;
    }
    config.backend = Backend::kMonitoring;
  } else if (h == "setprofile") {
    config.backend = Backend::kSetprofile;
  } else if (h == "stack") {
    if (lines || c_calls) {
      PyErr_SetString(PyExc_ValueError,
                      "stack mode records no calls or lines: lines and "
                      "c_calls need instrumented mode");
      return nullptr;
    }
    config.backend = Backend::kStack;
  } else if (h == "_floor") {
    config.backend = Backend::kFloor;  // benchmark reference only
  } else {
    PyErr_Format(PyExc_ValueError,
                 "unknown hook '%s' (eval-frame, monitoring, setprofile, stack)",
                 hook);
    return nullptr;
  }
  config.with_threads = with_threads != 0;
  config.lines = lines != 0;
  config.c_calls = c_calls != 0;
  config.quiet = quiet != 0;
  config.perf_files = perf_files != 0;
  config.max_event_bytes = max_size;
  // etw: False/None (off), True (ETW or user_events), "capture" (in memory,
  // for tests: see _etw_events()), "capture-disabled" (benchmarks).
  if (etw != nullptr && etw != Py_None) {
    if (PyUnicode_Check(etw)) {
      if (PyUnicode_CompareWithASCIIString(etw, "capture") == 0) {
        config.etw = Recorder::Config::Etw::kCapture;
      } else if (PyUnicode_CompareWithASCIIString(etw, "capture-disabled") == 0) {
        // The provider present, no session listening: what --etw costs
        // while no one captures (benchmarks).
        config.etw = Recorder::Config::Etw::kCaptureDisabled;
      } else {
        PyErr_SetString(PyExc_ValueError,
                        "etw must be a bool, 'capture' or 'capture-disabled'");
        return nullptr;
      }
    } else {
      const int on = PyObject_IsTrue(etw);
      if (on < 0) return nullptr;
      if (on) config.etw = Recorder::Config::Etw::kPlatform;
    }
  }
  if (properties != nullptr && properties != Py_None) {
    if (!PyDict_Check(properties)) {
      PyErr_SetString(PyExc_TypeError, "properties must be a dict");
      return nullptr;
    }
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (PyDict_Next(properties, &pos, &k, &v)) {
      const char* ks = PyUnicode_Check(k) ? PyUnicode_AsUTF8(k) : nullptr;
      const char* vs = PyUnicode_Check(v) ? PyUnicode_AsUTF8(v) : nullptr;
      if (ks == nullptr || vs == nullptr) {
        if (!PyErr_Occurred())
          PyErr_SetString(PyExc_TypeError, "properties must map str to str");
        return nullptr;
      }
      config.properties.emplace_back(ks, vs);
    }
  }
  if (absl::Status s = Recorder::Start(config); !s.ok()) return Raise(s);
  Py_RETURN_NONE;
}

PyObject* Stop(PyObject*, PyObject*) {
  if (absl::Status s = Recorder::Stop(); !s.ok()) return Raise(s);
  Py_RETURN_NONE;
}

// (modules, files): what the active session's filter was asked about, when
// it has include lists (else two empty lists); None when not recording.
PyObject* Seen(PyObject*, PyObject*) {
  Recorder* r = Recorder::current();
  if (r == nullptr) Py_RETURN_NONE;
  PyObject* out = PyTuple_New(2);
  if (out == nullptr) return nullptr;
  int i = 0;
  for (const auto* set : {&r->seen_modules(), &r->seen_files()}) {
    PyObject* list = PyList_New(0);
    if (list == nullptr) {
      Py_DECREF(out);
      return nullptr;
    }
    PyTuple_SET_ITEM(out, i++, list);
    for (const std::string& name : *set) {
      PyObject* item = PyUnicode_DecodeUTF8(
          name.data(), static_cast<Py_ssize_t>(name.size()), "replace");
      if (item == nullptr || PyList_Append(list, item) < 0) {
        Py_XDECREF(item);
        Py_DECREF(out);
        return nullptr;
      }
      Py_DECREF(item);
    }
  }
  return out;
}

PyObject* IsActive(PyObject*, PyObject*) {
  return PyBool_FromLong(Recorder::active());
}

PyObject* TracePath(PyObject*, PyObject*) {
  Recorder* r = Recorder::current();
  if (r == nullptr) Py_RETURN_NONE;
  return PyUnicode_FromString(r->writer().path().c_str());
}

PyObject* Mark(PyObject*, PyObject* args, PyObject* kwargs) {
  static const char* kwlist[] = {"name", "kind", nullptr};
  const char* name = nullptr;
  Py_ssize_t len = 0;
  const char* kind = "point";
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s#|s",
                                   const_cast<char**>(kwlist), &name, &len,
                                   &kind))
    return nullptr;
  format::MarkKind k = format::MarkKind::kPoint;
  bool stack_sample = false;
  const std::string ks = kind;
  if (ks == "point") {
    k = format::MarkKind::kPoint;
  } else if (ks == "stack") {
    stack_sample = true;  // a point mark, and a PythonStackSample event
  } else if (ks == "start") {
    k = format::MarkKind::kStart;
  } else if (ks == "stop") {
    k = format::MarkKind::kStop;
  } else {
    PyErr_SetString(PyExc_ValueError,
                    "kind must be 'point', 'start', 'stop' or 'stack'");
    return nullptr;
  }
  if (Recorder* r = Recorder::current())
    r->Mark(std::string_view(name, static_cast<size_t>(len)), k, stack_sample);
  Py_RETURN_NONE;
}

// The events the last session with etw="capture" emitted, decoded:
// [{"name", "opcode", "level", "keyword", "thread_id", "fields": {...}}].
PyObject* EtwEvents(PyObject*, PyObject*) {
  EtwEmitter* etw = Recorder::last_etw();
  PyObject* out = PyList_New(0);
  if (out == nullptr || etw == nullptr || etw->capture() == nullptr) return out;
  for (const etwbridge::CapturedEvent& e : etw->capture()->events()) {
    auto decoded = e.Decode();
    if (!decoded.ok()) {
      Py_DECREF(out);
      PyErr_SetString(PyExc_RuntimeError,
                      std::string(decoded.status().message()).c_str());
      return nullptr;
    }
    PyObject* fields = PyDict_New();
    for (const etwbridge::DecodedField& f : decoded->fields) {
      PyObject* v = nullptr;
      if (std::holds_alternative<std::string>(f.value)) {
        const std::string& str = std::get<std::string>(f.value);
        v = PyUnicode_DecodeUTF8(str.data(), static_cast<Py_ssize_t>(str.size()),
                                 "replace");
      } else if (std::holds_alternative<int64_t>(f.value)) {
        v = PyLong_FromLongLong(std::get<int64_t>(f.value));
      } else {
        v = PyLong_FromUnsignedLongLong(f.AsUInt64());
      }
      if (fields != nullptr && v != nullptr)
        PyDict_SetItemString(fields, f.name.c_str(), v);
      Py_XDECREF(v);
    }
    PyObject* item = Py_BuildValue(
        "{s:s,s:i,s:i,s:K,s:K,s:N}", "name", decoded->name.c_str(), "opcode",
        e.descriptor.opcode, "level", e.descriptor.level, "keyword",
        static_cast<unsigned long long>(e.descriptor.keyword), "thread_id",
        static_cast<unsigned long long>(e.thread_id), "fields", fields);
    if (item == nullptr || PyList_Append(out, item) != 0) {
      Py_XDECREF(item);
      Py_DECREF(out);
      return nullptr;
    }
    Py_DECREF(item);
  }
  return out;
}

// See CoverStaleMappings (perf_files.h); `record` calls it first thing in
// the program it exec()s.
PyObject* CoverStaleMappingsPy(PyObject*, PyObject* arg) {
  Py_ssize_t n = 0;
  const char* text = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &n)
                                          : nullptr;
  if (text == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "expected str");
    return nullptr;
  }
  return PyLong_FromSize_t(
      CoverStaleMappings(std::string_view(text, static_cast<size_t>(n))));
}

// The return addresses of the calling thread's native stack, innermost
// first, as the platform unwinder (libgcc, DWARF CFI) sees them: tests map
// them through a trace's code ranges.
PyObject* NativeStack(PyObject*, PyObject*) {
  std::vector<uintptr_t> pcs;
  _Unwind_Backtrace(
      [](_Unwind_Context* context, void* arg) {
        auto* out = static_cast<std::vector<uintptr_t>*>(arg);
        out->push_back(_Unwind_GetIP(context));
        return out->size() < 4096 ? _URC_NO_REASON : _URC_END_OF_STACK;
      },
      &pcs);
  PyObject* list = PyList_New(static_cast<Py_ssize_t>(pcs.size()));
  for (size_t i = 0; list != nullptr && i < pcs.size(); ++i)
    PyList_SET_ITEM(list, static_cast<Py_ssize_t>(i),
                    PyLong_FromUnsignedLongLong(pcs[i]));
  return list;
}

PyObject* Hooks(PyObject*, PyObject*) {
  return MonitoringAvailable()
             ? Py_BuildValue("(sss)", "eval-frame", "monitoring", "setprofile")
             : Py_BuildValue("(ss)", "eval-frame", "setprofile");
}

// threading.setprofile() target under the setprofile backend: installs the
// C profile function in each new thread, then gets out of the way.
PyObject* ThreadProfileBootstrap(PyObject*, PyObject*) {
  ProfileThisThread();
  Py_RETURN_NONE;
}

PyObject* ThreadTraceBootstrap(PyObject*, PyObject*) {
  TraceThisThread();
  Py_RETURN_NONE;
}

// _quiet(flag) -> previous: this thread records nothing while quiet (the
// tool's own code runs). See Recorder::SetQuiet.
PyObject* QuietPy(PyObject*, PyObject* arg) {
  const int on = PyObject_IsTrue(arg);
  if (on < 0) return nullptr;
  return PyBool_FromLong(Recorder::SetQuiet(on != 0));
}

// _quiet_until_main(): `record`'s bootstrap runs inside the interpreter's
// start-up (site, sitecustomize, usercustomize): the calling thread stays
// quiet until the program itself starts. CPython announces it with audit
// events after start-up: cpython.run_module (runpy runs the module: record
// from here), or cpython.run_file / run_command / run_stdin followed by
// "exec" just before the program's first frame (between the two it sets up
// __main__'s loader, which is not the program either).
std::atomic<unsigned long> g_quiet_thread{0};  // 0: not armed
bool g_run_seen = false;                        // run_file & co. seen

int RunAuditHook(const char* event, PyObject*, void*) {
  if (g_quiet_thread.load(std::memory_order_relaxed) == 0) [[likely]]
    return 0;
  if (PyThread_get_thread_ident() != g_quiet_thread.load()) return 0;
  bool start = false;
  if (std::strcmp(event, "cpython.run_module") == 0) {
    start = true;
  } else if (std::strncmp(event, "cpython.run_", 12) == 0 &&
             std::strcmp(event, "cpython.run_interactivehook") != 0 &&
             std::strcmp(event, "cpython.run_startup") != 0) {
    g_run_seen = true;
  } else if (g_run_seen && std::strcmp(event, "exec") == 0) {
    start = true;
  }
  if (start) {
    g_quiet_thread.store(0);
    Recorder::SetQuiet(false);
  }
  return 0;
}

PyObject* QuietUntilMain(PyObject*, PyObject*) {
  static bool hooked = false;
  if (!hooked) {
    if (PySys_AddAuditHook(RunAuditHook, nullptr) < 0) return nullptr;
    hooked = true;
  }
  Recorder::SetQuiet(true);
  g_run_seen = false;
  g_quiet_thread.store(PyThread_get_thread_ident());
  Py_RETURN_NONE;
}

PyObject* RecordSignalEndPy(PyObject*, PyObject* arg) {
  const long signal = PyLong_AsLong(arg);
  if (signal == -1 && PyErr_Occurred()) return nullptr;
  RecordSignalEnd(static_cast<int>(signal));
  Py_RETURN_NONE;
}

PyObject* AbandonInChild(PyObject*, PyObject*) {
  Recorder::AbandonAfterFork();
  Py_RETURN_NONE;
}

// snapshot(trace, out): copies the window `trace` shows now into the new
// trace `out` (tracestore/snapshot.h), without the GIL: the program's other
// threads run (and record) meanwhile. The calling thread should be quiet.
PyObject* SnapshotPy(PyObject*, PyObject* args) {
  const char* source = nullptr;
  const char* out = nullptr;
  if (!PyArg_ParseTuple(args, "ss", &source, &out)) return nullptr;
  absl::Status status;
  std::string source_path = source, out_path = out;
  Py_BEGIN_ALLOW_THREADS
  auto trace = tracestore::TraceReader::Open(source_path);
  status = trace.ok() ? tracestore::WriteSnapshot(**trace, out_path)
                      : trace.status();
  Py_END_ALLOW_THREADS
  if (!status.ok()) {
    PyErr_Format(PyExc_OSError, "snapshot of %s to %s: %s", source, out,
                 std::string(status.message()).c_str());
    return nullptr;
  }
  Py_RETURN_NONE;
}

PyMethodDef kMethods[] = {
    {"snapshot", SnapshotPy, METH_VARARGS,
     "snapshot(trace, out): copy the trace's current window into out."},
    {"start", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Start)),
     METH_VARARGS | METH_KEYWORDS,
     "start(path, include=(), exclude=(), exclude_dirs=(), keep_dirs=(), "
     "hook='eval-frame', with_threads=True, lines=False, c_calls=False, "
     "properties=None, quiet=False, etw=False)\n--\n\nStart recording into a new trace."},
    {"stop", Stop, METH_NOARGS, "Stop recording and close the trace."},
    {"is_active", IsActive, METH_NOARGS, "True while recording."},
    {"_seen", Seen, METH_NOARGS,
     "(modules, files) the filter was asked about (with include lists)."},
    {"trace_path", TracePath, METH_NOARGS, "The active trace's path, or None."},
    {"mark", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(Mark)),
     METH_VARARGS | METH_KEYWORDS,
     "mark(name, kind='point')\n--\n\nRecord a mark on this thread."},
    {"hooks", Hooks, METH_NOARGS, "The hook backends this interpreter offers."},
    {"_cover_stale_mappings", CoverStaleMappingsPy, METH_O,
     "Hide the mappings from before exec() from perf; returns bytes covered."},
    {"_native_stack", NativeStack, METH_NOARGS,
     "Return addresses of this thread's native stack, innermost first."},
    {"_etw_events", EtwEvents, METH_NOARGS,
     "The decoded events of the last session started with etw='capture'."},
    {"load", Load, METH_O,
     "load(path)\n--\n\nA whole trace as dicts and lists (for small traces)."},
    {"_quiet", QuietPy, METH_O,
     "_quiet(flag) -> previous: this thread records nothing while quiet."},
    {"_quiet_until_main", QuietUntilMain, METH_NOARGS,
     "This thread records nothing until the program's main code starts."},
    {"_record_signal_end", RecordSignalEndPy, METH_O,
     "_record_signal_end(signum): the process is about to die of signum: "
     "say so in its (closed) trace's header."},
    {"_abandon_in_child", AbandonInChild, METH_NOARGS,
     "After fork: stop recording in the child, leaving the parent's trace."},
    {"_thread_profile_bootstrap", ThreadProfileBootstrap, METH_VARARGS, nullptr},
    {"_thread_trace_bootstrap", ThreadTraceBootstrap, METH_VARARGS, nullptr},
    {nullptr, nullptr, 0, nullptr},
};

int Exec(PyObject* module) {
  if (PyModule_AddStringConstant(module, "PY_VERSION", PY_VERSION) < 0)
    return -1;
  return 0;
}

PyModuleDef_Slot kSlots[] = {
    {Py_mod_exec, reinterpret_cast<void*>(Exec)},
    {0, nullptr},
};

PyModuleDef kModule = {
    PyModuleDef_HEAD_INIT,
    "tracestore._tracestore",
    "The native recorder behind the tracestore package.",
    0,
    kMethods,
    kSlots,
    nullptr,
    nullptr,
    nullptr,
};

}  // namespace
}  // namespace tracestore::pyhook

PyMODINIT_FUNC PyInit__tracestore() {
  return PyModuleDef_Init(&tracestore::pyhook::kModule);
}
