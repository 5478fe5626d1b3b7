// How the process that wrote a trace ended: recorded into its trace header
// (TraceHeader::end_kind, end_value) after the trace was closed, so that
// readers of a process tree can tell an exit status from a signal.
//
//   tracestore::RecordExitStatusAtExit("run.trace");  // after the start
//   ...
//   tracestore::RecordSignalEnd(SIGTERM);   // from a handler about to die
//
// RecordExitStatusAtExit registers (once per process) a libc exit hook
// that, when this process calls exit(status) — the interpreter's normal
// end, sys.exit, an uncaught exception — writes kExited and the status into
// the header of the trace named last. A forked child that did not call it
// itself writes nothing (the hook checks the pid). os._exit, SIGKILL and
// crashes run no hook: their traces say nothing (kUnknown).
//
// Thread-safety: call RecordExitStatusAtExit from one thread at a time; the
// hooks run at process end.

#ifndef TRACESTORE_PROCESS_END_H_
#define TRACESTORE_PROCESS_END_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "tracestore/format.h"

namespace tracestore {

// Writes end_value, then end_kind, into `trace`/trace.header.
absl::Status WriteProcessEnd(const std::string& trace, format::EndKind kind,
                             uint32_t value);

// Remembers `trace` as this process's trace for the hooks below.
void RecordExitStatusAtExit(const std::string& trace);
// Writes kSignaled / `signal` into the remembered trace (if this process
// remembered one). For a handler that is about to re-raise the signal.
void RecordSignalEnd(int signal);

}  // namespace tracestore

#endif  // TRACESTORE_PROCESS_END_H_
