/* The floor of any sys.monitoring recorder (CPython 3.12+): a C callback
 * for PY_START and PY_RETURN that reads the clock and stores 16 bytes,
 * nothing else. The overhead benchmark and callgrind_calls.py measure the
 * recorder's monitoring backend beside it in the same run.
 *
 *   import _monitoring_floor; _monitoring_floor.start(); ...; _monitoring_floor.stop()
 *
 * start(all_events=True) registers the same callback for every event the
 * recorder must see to stay exact (PY_START, PY_RESUME, PY_THROW, PY_RETURN,
 * PY_YIELD, PY_UNWIND): the floor of an exact recorder. On code that
 * suspends generators, CPython's own dispatch of PY_RESUME and PY_YIELD
 * costs more than the two-event floor's whole overhead.
 *
 * The callback is an object of a minimal vectorcall type, as the recorder's
 * are (a builtin function would add its own argument checks and recursion
 * accounting to every event). */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <x86intrin.h>

#define TOOL_ID 3 /* the recorder's: an unnamed id, dispatched as fast as 0-2 */
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

/* Registers `cb` for sys.monitoring.events.<event> and adds the event's
 * bit to *mask; -1 with an exception set on failure. */
static int register_event(const char *event, PyObject *cb, long *mask) {
  PyObject *mon = PySys_GetObject("monitoring");
  PyObject *events = mon ? PyObject_GetAttrString(mon, "events") : NULL;
  PyObject *id = events ? PyObject_GetAttrString(events, event) : NULL;
  Py_XDECREF(events);
  if (id == NULL) return -1;
  *mask |= PyLong_AsLong(id);
  PyObject *res = call_monitoring("register_callback",
                                  Py_BuildValue("(iNO)", TOOL_ID, id, cb));
  Py_XDECREF(res);
  return res ? 0 : -1;
}

static const char *const kTwoEvents[] = {"PY_START", "PY_RETURN", NULL};
static const char *const kAllEvents[] = {"PY_START", "PY_RESUME", "PY_THROW",
                                         "PY_RETURN", "PY_YIELD", "PY_UNWIND",
                                         NULL};

static PyObject *start(PyObject *m, PyObject *args, PyObject *kwargs) {
  (void)m;
  static char *kwlist[] = {"all_events", NULL};
  int all_events = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|p", kwlist, &all_events))
    return NULL;
  PyObject *res = call_monitoring("use_tool_id",
                                  Py_BuildValue("(is)", TOOL_ID, "floor"));
  if (res == NULL) return NULL;
  Py_DECREF(res);
  Callback *cb = PyObject_New(Callback, &CallbackType);
  if (cb == NULL) return NULL;
  cb->vectorcall = on_event;
  long mask = 0;
  int bad = 0;
  for (const char *const *e = all_events ? kAllEvents : kTwoEvents; *e && !bad; ++e)
    bad = register_event(*e, (PyObject *)cb, &mask);
  Py_DECREF(cb);
  if (bad) return NULL;
  res = call_monitoring("set_events", Py_BuildValue("(il)", TOOL_ID, mask));
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
    {"start", (PyCFunction)(void (*)(void))start, METH_VARARGS | METH_KEYWORDS,
     "start(all_events=False): register the floor callback for PY_START and "
     "PY_RETURN, or for every event an exact recorder needs."},
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
