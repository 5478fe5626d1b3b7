// MonitoringTool: the sys.monitoring tool id the recorder holds while it
// records (CPython 3.12+), shared by the monitoring backend and the line
// hook.
//
// The ids CPython names belong to other tools that users run beside the
// recorder: DEBUGGER_ID 0 (pdb, IDE debuggers), COVERAGE_ID 1 (coverage.py),
// PROFILER_ID 2 (cProfile), OPTIMIZER_ID 5. The recorder takes the first
// free one of the two unnamed ids, 3 then 4, so those tools keep working
// while it records; if both are taken, recording says so and does not
// start.
//
//   absl::StatusOr<int> id = MonitoringTool::Acquire();  // GIL held
//   ... sys.monitoring.register_callback(*id, ...) ...
//   MonitoringTool::Release();                           // last one frees it

#ifndef TRACESTORE_PYHOOK_MONITORING_TOOL_H_
#define TRACESTORE_PYHOOK_MONITORING_TOOL_H_

#include "absl/status/statusor.h"

namespace tracestore::pyhook {

class MonitoringTool {
 public:
  // Claims the tool id on first use (counted); GIL held.
  static absl::StatusOr<int> Acquire();
  // Frees it when the last user releases it; GIL held.
  static void Release();
  // The id held, or -1.
  static int id() { return id_; }

 private:
  static int id_;
  static int users_;
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_MONITORING_TOOL_H_
