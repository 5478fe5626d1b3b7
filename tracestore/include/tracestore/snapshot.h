// WriteSnapshot: copies the window a reader shows into a new, normal trace.
//
//   auto trace = TraceReader::Open("live.trace");   // a flight recorder
//   TS_RETURN_IF_ERROR(WriteSnapshot(**trace, "incident.trace"));
//
// The copy is a closed version 3 trace without rings: one events store per
// thread holding the thread's window (a thread whose window starts inside
// calls gets kSegmentStartsInWindow, so the copy shows those calls as the
// source does: from the window start, flagged), and the functions,
// strings, threads, marks and code ranges the reader shows, whole. Times
// and the clock are the source's; a live source's close anchor is the last
// time the reader shows. Threads the source had not ended keep no end time,
// so their open calls stay open in the copy, as in the source. The copy's
// event ids start at 0 for every thread.
//
// The reader is only read: the source trace (live or closed) is not
// touched, nor its writer slowed. Fails (removing nothing the source holds)
// when `out` exists and is not an empty directory, or cannot be written.

#ifndef TRACESTORE_SNAPSHOT_H_
#define TRACESTORE_SNAPSHOT_H_

#include <string>

#include "absl/status/status.h"
#include "tracestore/env.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::Status WriteSnapshot(const TraceReader& trace, const std::string& out,
                           Env* env = nullptr);

}  // namespace tracestore

#endif  // TRACESTORE_SNAPSHOT_H_
