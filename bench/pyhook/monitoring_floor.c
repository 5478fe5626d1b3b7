/* The floor of any sys.monitoring recorder (CPython 3.12+): a C callback
 * for PY_START and PY_RETURN that reads the clock and stores 16 bytes,
 * nothing else. The overhead benchmark and callgrind_calls.py measure the
 * recorder's monitoring backend beside it in the same run.
 *
 *   import _monitoring_floor; _monitoring_floor.start(); ...; _monitoring_floor.stop()
 *
 * The callback is an object of a minimal vectorcall type, as the recorder's
 * are (a builtin function would add its own argument checks and recursion
 * accounting to every event). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <x86intrin.h>

#define TOOL_ID 2 /* sys.monitoring.PROFILER_ID */
#define RING 65536

typedef struct {
  uint64_t ticks;
  uintptr_t code;
} Record;

static Record ring[RING];
static size_t next;

typedef struct {
  PyObject_HEAD
  vectorcallfunc vectorcall;
} Callback;

static PyObject *on_event(PyObject *self, PyObject *const *args, size_t nargsf,
                          PyObject *kwnames) {
  (void)self, (void)nargsf, (void)kwnames;
  Record *r = &ring[next++ & (RING - 1)];
  r->ticks = __rdtsc();
  r->code = (uintptr_t)args[0];
  Py_RETURN_NONE;
}

static PyTypeObject CallbackType = {
    PyVarObject_HEAD_INIT(NULL, 0) "_monitoring_floor.Callback",
    sizeof(Callback),
};

static PyObject *call_monitoring(const char *name, PyObject *args) {
  PyObject *mon = PySys_GetObject("monitoring");
  PyObject *fn = mon ? PyObject_GetAttrString(mon, name) : NULL;
  PyObject *res = fn ? PyObject_CallObject(fn, args) : NULL;
  Py_XDECREF(fn);
  Py_XDECREF(args);
  return res;
}

static int register_event(const char *event, PyObject *cb) {
  PyObject *mon = PySys_GetObject("monitoring");
  PyObject *events = mon ? PyObject_GetAttrString(mon, "events") : NULL;
  PyObject *id = events ? PyObject_GetAttrString(events, event) : NULL;
  Py_XDECREF(events);
  if (id == NULL) return -1;
  PyObject *res = call_monitoring("register_callback",
                                  Py_BuildValue("(iNO)", TOOL_ID, id, cb));
  Py_XDECREF(res);
  return res ? 0 : -1;
}

static PyObject *start(PyObject *m, PyObject *noargs) {
  (void)m, (void)noargs;
  PyObject *res = call_monitoring("use_tool_id",
                                  Py_BuildValue("(is)", TOOL_ID, "floor"));
  if (res == NULL) return NULL;
  Py_DECREF(res);
  Callback *cb = PyObject_New(Callback, &CallbackType);
  if (cb == NULL) return NULL;
  cb->vectorcall = on_event;
  int bad = register_event("PY_START", (PyObject *)cb) ||
            register_event("PY_RETURN", (PyObject *)cb);
  Py_DECREF(cb);
  if (bad) return NULL;
  /* PY_START = 1, PY_RETURN = 4 (sys.monitoring.events) */
  res = call_monitoring("set_events", Py_BuildValue("(ii)", TOOL_ID, 1 | 4));
  if (res == NULL) return NULL;
  Py_DECREF(res);
  Py_RETURN_NONE;
}

static PyObject *stop(PyObject *m, PyObject *noargs) {
  (void)m, (void)noargs;
  PyObject *res = call_monitoring("set_events", Py_BuildValue("(ii)", TOOL_ID, 0));
  Py_XDECREF(res);
  res = call_monitoring("free_tool_id", Py_BuildValue("(i)", TOOL_ID));
  Py_XDECREF(res);
  if (PyErr_Occurred()) return NULL;
  return PyLong_FromSize_t(next);
}

static PyMethodDef methods[] = {
    {"start", start, METH_NOARGS, "Register the floor callbacks."},
    {"stop", stop, METH_NOARGS, "Unregister them; returns events seen."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_monitoring_floor", NULL, -1, methods,
};

PyMODINIT_FUNC PyInit__monitoring_floor(void) {
  CallbackType.tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_VECTORCALL;
  CallbackType.tp_vectorcall_offset = offsetof(Callback, vectorcall);
  CallbackType.tp_call = PyVectorcall_Call;
  if (PyType_Ready(&CallbackType) < 0) return NULL;
  return PyModule_Create(&module);
}
