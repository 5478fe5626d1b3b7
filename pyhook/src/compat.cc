// Out-of-line version-dependent helpers (see compat.h).

#include "compat.h"

#include <opcode.h>

#include <unordered_set>
#include <vector>

namespace tracestore::pyhook::compat {

int BodyStartBytes(PyCodeObject* code) {
#if PY_VERSION_HEX >= 0x030B0000
  PyObject* bytes = PyCode_GetCode(code);  // de-optimised bytecode
  if (bytes == nullptr) {
    PyErr_Clear();
    return 0;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(PyBytes_AS_STRING(bytes));
  const Py_ssize_t n = PyBytes_GET_SIZE(bytes);
  int result = 0;
  for (Py_ssize_t i = 0; i + 1 < n; i += 2) {
    if (p[i] == RESUME) {
      result = static_cast<int>(i);
      break;
    }
  }
  Py_DECREF(bytes);
  return result;
#else
  (void)code;
  return 0;
#endif
}

void DeoptimizeInlinedCalls() {
#if PY_VERSION_HEX >= 0x030C0000
  // PyType_Modified recurses into every subclass; `object` has them all.
  PyType_Modified(&PyBaseObject_Type);
#endif
}

#ifdef TS_ROUTE_INIT_CALLS
namespace {

PyObject* AllocThroughHook(PyTypeObject* type, Py_ssize_t items) {
  return PyType_GenericAlloc(type, items);
}

newfunc g_type_new = nullptr;  // type.__new__ while ours is installed

PyObject* TypeNewThroughHook(PyTypeObject* meta, PyObject* args,
                             PyObject* kwds) {
  PyObject* type = g_type_new(meta, args, kwds);
  if (type != nullptr && PyType_Check(type))
    RouteAllocThroughHook(reinterpret_cast<PyTypeObject*>(type));
  return type;
}

// Every heap type that derives from `object` (all of them), through
// type.__subclasses__ (C code only: no Python frame runs).
template <class Visit>
void ForEachHeapType(Visit visit) {
  std::vector<PyObject*> todo{Py_NewRef(&PyBaseObject_Type)};  // owned
  std::unordered_set<PyObject*> seen;
  while (!todo.empty()) {
    PyObject* type = todo.back();
    todo.pop_back();
    PyObject* subs = PyObject_CallMethod(type, "__subclasses__", nullptr);
    Py_DECREF(type);
    if (subs == nullptr || !PyList_Check(subs)) {
      Py_XDECREF(subs);
      PyErr_Clear();
      continue;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(subs); ++i) {
      PyObject* sub = PyList_GET_ITEM(subs, i);
      if (!PyType_Check(sub) || !seen.insert(sub).second) continue;
      auto* t = reinterpret_cast<PyTypeObject*>(sub);
      if (t->tp_flags & Py_TPFLAGS_HEAPTYPE) visit(t);
      todo.push_back(Py_NewRef(sub));
    }
    Py_DECREF(subs);
  }
}

}  // namespace

void RouteAllocThroughHook(PyTypeObject* type) {
  if (type->tp_alloc == PyType_GenericAlloc &&
      (type->tp_flags & Py_TPFLAGS_HEAPTYPE))
    type->tp_alloc = AllocThroughHook;
}

void RouteInitCallsThroughHook(bool on) {
  if (on && g_type_new == nullptr) {
    ForEachHeapType(RouteAllocThroughHook);
    g_type_new = PyType_Type.tp_new;
    PyType_Type.tp_new = TypeNewThroughHook;
  } else if (!on && g_type_new != nullptr) {
    // Types created meanwhile keep their allocator: it changes nothing
    // but that one specialisation.
    if (PyType_Type.tp_new == TypeNewThroughHook) PyType_Type.tp_new = g_type_new;
    g_type_new = nullptr;
  }
}
#else
void RouteInitCallsThroughHook(bool) {}
#endif

void SetProfileAllThreads(Py_tracefunc func, PyObject* arg) {
#if PY_VERSION_HEX >= 0x030C0000
  PyEval_SetProfileAllThreads(func, arg);
#else
  PyThreadState* self = PyThreadState_Get();
  for (PyThreadState* ts = PyInterpreterState_ThreadHead(self->interp);
       ts != nullptr; ts = PyThreadState_Next(ts)) {
    if (_PyEval_SetProfile(ts, func, arg) < 0) PyErr_Clear();
  }
#endif
}

}  // namespace tracestore::pyhook::compat
