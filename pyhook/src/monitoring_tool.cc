// MonitoringTool (monitoring_tool.h).

#include "monitoring_tool.h"

#include "compat.h"

namespace tracestore::pyhook {

int MonitoringTool::id_ = -1;
int MonitoringTool::users_ = 0;

namespace {

// The unnamed ids, free for other tools. 3 first: CPython 3.12 dispatches
// an event to a tool id above 3 through a slower branch (12 instructions
// more per call under callgrind, measured with the bare-callback floor).
constexpr int kCandidates[] = {3, 4};

PyObject* Function(const char* name) {
  PyObject* m = PySys_GetObject("monitoring");  // borrowed
  return m != nullptr ? PyObject_GetAttrString(m, name) : nullptr;
}

}  // namespace

absl::StatusOr<int> MonitoringTool::Acquire() {
  if (users_ > 0) {
    ++users_;
    return id_;
  }
  PyObject* use = Function("use_tool_id");
  if (use == nullptr) {
    PyErr_Clear();
    return absl::FailedPreconditionError("sys.monitoring is not available");
  }
  for (int id : kCandidates) {
    PyObject* r = PyObject_CallFunction(use, "is", id, "tracestore");
    if (r != nullptr) {
      Py_DECREF(r);
      Py_DECREF(use);
      id_ = id;
      users_ = 1;
      return id;
    }
    PyErr_Clear();  // in use by another tool
  }
  Py_DECREF(use);
  return absl::ResourceExhaustedError(
      "sys.monitoring tool ids 3 and 4 are both in use by other tools");
}

void MonitoringTool::Release() {
  if (users_ == 0 || --users_ > 0) return;
  PyObject* free_id = Function("free_tool_id");
  PyObject* r = free_id ? PyObject_CallFunction(free_id, "i", id_) : nullptr;
  Py_XDECREF(r);
  Py_XDECREF(free_id);
  PyErr_Clear();
  id_ = -1;
}

}  // namespace tracestore::pyhook
