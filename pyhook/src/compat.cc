// Out-of-line version-dependent helpers (see compat.h).

#include "compat.h"

#include <opcode.h>

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
