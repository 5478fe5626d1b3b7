// tracestore._tracestore.load(path): a whole (small) trace as Python
// objects, through the C++ TraceReader. For tests and quick scripts; use
// SQL for anything large.
//
//   t = _tracestore.load("run.trace")
//   t["functions"][0]  -> {"id": 1, "module": ..., "name": ..., ...}
//   t["events"][0]     -> [(ns, "call", function_id, value), ...] (thread 0)

#include "compat.h"
#include "tracestore/code_ranges.h"
#include "tracestore/trace_reader.h"

namespace tracestore::pyhook {

namespace {

const char* KindName(format::EventKind k) {
  switch (k) {
    case format::EventKind::kCall: return "call";
    case format::EventKind::kReturn: return "return";
    case format::EventKind::kUnwind: return "unwind";
    case format::EventKind::kResume: return "resume";
    case format::EventKind::kYield: return "yield";
    case format::EventKind::kLine: return "line";
    case format::EventKind::kCCall: return "c_call";
    case format::EventKind::kCReturn: return "c_return";
    case format::EventKind::kMark: return "mark";
  }
  return "?";
}

PyObject* Str(std::string_view s) {
  return PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()),
                              "replace");
}

// Steals `value`; returns false (with an exception set) on failure.
bool Put(PyObject* dict, const char* key, PyObject* value) {
  if (value == nullptr) return false;
  int rc = PyDict_SetItemString(dict, key, value);
  Py_DECREF(value);
  return rc == 0;
}

PyObject* LoadTrace(const TraceReader& t) {
  PyObject* out = PyDict_New();
  PyObject* functions = PyList_New(0);
  PyObject* threads = PyList_New(0);
  PyObject* events = PyList_New(0);
  PyObject* marks = PyList_New(0);
  bool ok = out && functions && threads && events && marks;
  // Stack mode: each function's trampoline slot, as the SQL tables show it
  // (its first code range; 0, 0 when none).
  FirstCodeRanges slots;
  slots.Update(t);
  for (const auto& f : t.functions()) {
    if (!ok) break;
    const format::CodeRangeRecord* slot = slots.Find(f.id);
    const uint64_t slot_begin = slot ? slot->begin : 0;
    const uint64_t slot_end = slot ? slot->begin + slot->size : 0;
    PyObject* d = Py_BuildValue(
        "{s:I,s:N,s:N,s:N,s:I,s:O,s:O,s:K,s:K}", "id", f.id, "module",
        Str(t.String(f.module)), "name", Str(t.String(f.qualname)), "file",
        Str(t.String(f.file)), "line", f.first_line, "is_python",
        (f.flags & format::kFunctionIsPython) ? Py_True : Py_False, "traced",
        (f.flags & format::kFunctionTraced) ? Py_True : Py_False,
        "slot_begin", static_cast<unsigned long long>(slot_begin), "slot_end",
        static_cast<unsigned long long>(slot_end));
    ok = d && PyList_Append(functions, d) == 0;
    Py_XDECREF(d);
  }
  for (const auto& th : t.threads()) {
    if (!ok) break;
    const uint64_t end = t.ThreadEndTicks(th);
    PyObject* d = Py_BuildValue(
        "{s:I,s:K,s:N,s:K,s:N}", "index", th.index, "os_tid",
        static_cast<unsigned long long>(th.os_tid), "name",
        Str(t.String(t.ThreadName(th))), "start_ns",
        static_cast<unsigned long long>(t.ToNs(th.start_ticks)), "end_ns",
        end ? PyLong_FromUnsignedLongLong(t.ToNs(end)) : Py_NewRef(Py_None));
    ok = d && PyList_Append(threads, d) == 0;
    Py_XDECREF(d);
    PyObject* list = ok ? PyList_New(0) : nullptr;
    for (const auto& e : t.events(th.index)) {
      if (list == nullptr) break;
      PyObject* tuple = Py_BuildValue(
          "(KsII)",
          static_cast<unsigned long long>(t.ToNs(format::EventTicks(e))),
          KindName(format::GetEventKind(e)), e.function, e.value);
      if (tuple == nullptr || PyList_Append(list, tuple) != 0) {
        Py_XDECREF(tuple);
        Py_CLEAR(list);
        break;
      }
      Py_DECREF(tuple);
    }
    ok = list && PyList_Append(events, list) == 0;
    Py_XDECREF(list);
  }
  for (const auto& m : t.marks()) {
    if (!ok) break;
    static const char* kKinds[] = {"point", "start", "stop"};
    PyObject* d = Py_BuildValue(
        "{s:K,s:I,s:N,s:s}", "ns",
        static_cast<unsigned long long>(t.ToNs(m.ticks)), "thread", m.thread,
        "name", Str(t.String(m.name)), "kind", kKinds[m.kind > 2 ? 0 : m.kind]);
    ok = d && PyList_Append(marks, d) == 0;
    Py_XDECREF(d);
  }
  ok = ok && Put(out, "closed", PyBool_FromLong(t.closed())) &&
       Put(out, "pid", PyLong_FromUnsignedLongLong(t.header().pid)) &&
       Put(out, "properties", [&] {
         PyObject* p = PyDict_New();
         for (const auto& [k, v] : t.properties())
           if (p) PyDict_SetItemString(p, k.c_str(), Str(v));
         return p;
       }());
  if (ok) {
    ok = Put(out, "functions", functions) && Put(out, "threads", threads) &&
         Put(out, "events", events) && Put(out, "marks", marks);
    functions = threads = events = marks = nullptr;
  }
  Py_XDECREF(functions);
  Py_XDECREF(threads);
  Py_XDECREF(events);
  Py_XDECREF(marks);
  if (!ok) {
    Py_XDECREF(out);
    return nullptr;
  }
  return out;
}

}  // namespace

PyObject* Load(PyObject*, PyObject* arg) {
  const char* path = PyUnicode_Check(arg) ? PyUnicode_AsUTF8(arg) : nullptr;
  if (path == nullptr) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "path must be str");
    return nullptr;
  }
  auto trace = TraceReader::Open(path);
  if (!trace.ok()) {
    PyErr_SetString(PyExc_OSError, std::string(trace.status().message()).c_str());
    return nullptr;
  }
  return LoadTrace(**trace);
}

}  // namespace tracestore::pyhook
