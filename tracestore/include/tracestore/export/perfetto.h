// Perfetto's native trace format (protobuf TracePacket stream), which
// Perfetto UI (ui.perfetto.dev) and trace_processor open directly: one
// process track, one thread track per thread (TrackDescriptor), each call
// a TYPE_SLICE_BEGIN / TYPE_SLICE_END pair of TrackEvents on its thread's
// track, names interned (InternedData.event_names, once per thread), marks
// as instant events (points) and slices on a "marks" track (ranges).
//
// Layout: a packet describing the process (sequence 1), then per thread a
// packet sequence of its own (trusted_packet_sequence_id = thread + 2) that
// starts by clearing its incremental state and naming its track as the
// default for its events, so an event is its timestamp, type and name iid:
// about 35 bytes per call instead of chrome's ~130. Timestamps are ns since
// the trace started on the default trace clock. The fields used and their
// numbers: tracestore/src/export/perfetto_trace.proto, written from
// Perfetto's public protos; the test decodes the output with protoc
// against it. See export.h for the streaming and what happens to open
// calls.

#ifndef TRACESTORE_EXPORT_PERFETTO_H_
#define TRACESTORE_EXPORT_PERFETTO_H_

#include <span>

#include "absl/status/statusor.h"
#include "tracestore/export/export.h"
#include "tracestore/export/output.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

absl::StatusOr<ExportStats> WritePerfettoTrace(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out);

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_PERFETTO_H_
