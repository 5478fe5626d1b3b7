// Perfetto TrackEvent protobuf, streamed call by call.

#include "tracestore/export/perfetto.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "export/export_driver.h"
#include "export/proto_encoder.h"
#include "tracestore/function_label.h"

namespace tracestore {

namespace {

using internal::ProtoEncoder;

// Field numbers (perfetto_trace.proto).
namespace field {
constexpr uint32_t kTracePacket = 1;  // Trace.packet
// TracePacket
constexpr uint32_t kTimestamp = 8;
constexpr uint32_t kSequenceId = 10;
constexpr uint32_t kTrackEvent = 11;
constexpr uint32_t kInternedData = 12;
constexpr uint32_t kSequenceFlags = 13;
constexpr uint32_t kDefaults = 59;
constexpr uint32_t kTrackDescriptor = 60;
// TracePacketDefaults, TrackEventDefaults
constexpr uint32_t kTrackEventDefaults = 11;
constexpr uint32_t kDefaultTrackUuid = 11;
// TrackEvent
constexpr uint32_t kType = 9;
constexpr uint32_t kNameIid = 10;
constexpr uint32_t kTrackUuid = 11;
constexpr uint32_t kName = 23;
// InternedData, EventName
constexpr uint32_t kEventNames = 2;
constexpr uint32_t kIid = 1;
constexpr uint32_t kEventNameName = 2;
// TrackDescriptor
constexpr uint32_t kUuid = 1;
constexpr uint32_t kTrackName = 2;
constexpr uint32_t kProcess = 3;
constexpr uint32_t kThread = 4;
constexpr uint32_t kParentUuid = 5;
// ProcessDescriptor, ThreadDescriptor
constexpr uint32_t kPid = 1;
constexpr uint32_t kCmdline = 2;
constexpr uint32_t kProcessName = 6;
constexpr uint32_t kTid = 2;
constexpr uint32_t kThreadName = 5;
}  // namespace field

constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3;
constexpr uint64_t kStateCleared = 1, kNeedsState = 2;  // SequenceFlags
constexpr uint64_t kProcessUuid = 1;
constexpr uint32_t kProcessSequence = 1;

uint64_t ThreadUuid(uint32_t thread) { return uint64_t{thread} + 2; }
uint64_t MarksUuid(uint32_t thread) { return uint64_t{1} << 32 | thread; }

// Packets are built in a scratch string, then appended to the output.
class Packets {
 public:
  explicit Packets(Output& out) : out_(out), e_(&buf_) {}
  ProtoEncoder& Begin() {
    buf_.clear();
    packet_ = e_.BeginNested(field::kTracePacket);
    return e_;
  }
  void End() {
    e_.EndNested(packet_);
    out_.Append(buf_);
  }

 private:
  Output& out_;
  std::string buf_;
  ProtoEncoder e_;
  size_t packet_ = 0;
};

class PerfettoWriter : public CallVisitor {
 public:
  PerfettoWriter(const TraceReader& trace, const internal::ExportDriver& driver,
                 Output& out)
      : trace_(trace), time_(driver.time()), packets_(out) {
    interned_.assign(trace.functions().size() + 1, 0);
  }

  // The thread's first packet: a cleared incremental state, its track, and
  // that track as the default one for the events of its sequence.
  void BeginThread(uint32_t thread, uint64_t pid, uint64_t tid) {
    sequence_ = thread + 2;
    ProtoEncoder& e = packets_.Begin();
    e.VarintField(field::kSequenceId, sequence_);
    e.VarintField(field::kSequenceFlags, kStateCleared);
    size_t d = e.BeginNested(field::kTrackDescriptor);
    e.VarintField(field::kUuid, ThreadUuid(thread));
    e.VarintField(field::kParentUuid, kProcessUuid);
    size_t th = e.BeginNested(field::kThread);
    e.VarintField(field::kPid, static_cast<uint32_t>(pid));
    e.VarintField(field::kTid, static_cast<uint32_t>(tid));
    e.BytesField(field::kThreadName, internal::ThreadLabel(trace_, thread));
    e.EndNested(th);
    e.EndNested(d);
    d = e.BeginNested(field::kDefaults);
    th = e.BeginNested(field::kTrackEventDefaults);
    e.VarintField(field::kDefaultTrackUuid, ThreadUuid(thread));
    e.EndNested(th);
    e.EndNested(d);
    packets_.End();
  }

  void OnOpen(uint32_t, std::span<const OpenCall> stack) override {
    const OpenCall& c = stack.back();
    ProtoEncoder& e = packets_.Begin();
    e.VarintField(field::kTimestamp, time_.ToNs(c.start_ticks));
    e.VarintField(field::kSequenceId, sequence_);
    const uint64_t iid = uint64_t{c.function} + 1;  // iids start at 1
    size_t te = e.BeginNested(field::kTrackEvent);
    e.VarintField(field::kType, kSliceBegin);
    e.VarintField(field::kNameIid, iid);
    e.EndNested(te);
    if (!Interned(c.function)) {
      size_t in = e.BeginNested(field::kInternedData);
      size_t n = e.BeginNested(field::kEventNames);
      e.VarintField(field::kIid, iid);
      e.BytesField(field::kEventNameName, FunctionLabel(trace_, c.function));
      e.EndNested(n);
      e.EndNested(in);
    }
    e.VarintField(field::kSequenceFlags, kNeedsState);
    packets_.End();
  }

  void OnClose(uint32_t, std::span<const OpenCall>,
               uint64_t end_ticks) override {
    ProtoEncoder& e = packets_.Begin();
    e.VarintField(field::kTimestamp, time_.ToNs(end_ticks));
    e.VarintField(field::kSequenceId, sequence_);
    size_t te = e.BeginNested(field::kTrackEvent);
    e.VarintField(field::kType, kSliceEnd);
    e.EndNested(te);
    e.VarintField(field::kSequenceFlags, kNeedsState);
    packets_.End();
  }

  Packets& packets() { return packets_; }

 private:
  // Whether the function's name was interned on this sequence (and marks
  // it so).
  bool Interned(uint32_t function) {
    if (function >= interned_.size()) {
      if (overflow_sequence_ != sequence_) overflow_.clear();
      overflow_sequence_ = sequence_;
      return !overflow_.insert(function).second;
    }
    if (interned_[function] == sequence_) return true;
    interned_[function] = sequence_;
    return false;
  }

  const TraceReader& trace_;
  const TimeScale& time_;
  Packets packets_;
  uint32_t sequence_ = 0;
  std::vector<uint32_t> interned_;  // by function id: the sequence that has it
  absl::flat_hash_set<uint32_t> overflow_;  // ids past the functions store
  uint32_t overflow_sequence_ = 0;
};

void ProcessPacket(Packets& packets, const TraceReader& trace, uint64_t pid,
                   const std::string& title) {
  ProtoEncoder& e = packets.Begin();
  e.VarintField(field::kSequenceId, kProcessSequence);
  size_t d = e.BeginNested(field::kTrackDescriptor);
  e.VarintField(field::kUuid, kProcessUuid);
  size_t p = e.BeginNested(field::kProcess);
  e.VarintField(field::kPid, static_cast<uint32_t>(pid));
  const std::string_view command = trace.Property("command_line");
  if (!command.empty()) e.BytesField(field::kCmdline, command);
  e.BytesField(field::kProcessName, title);
  e.EndNested(p);
  e.EndNested(d);
  packets.End();
}

// Marks on sequence 1: points as instants on their thread's track, ranges
// as slices on a "marks" track per thread.
void Marks(Packets& packets, const TraceReader& trace, const TimeScale& time,
           uint32_t threads) {
  std::vector<uint8_t> described(threads, 0);
  for (const format::MarkRecord& m : trace.marks()) {
    const bool point =
        m.kind != static_cast<uint32_t>(format::MarkKind::kStart) &&
        m.kind != static_cast<uint32_t>(format::MarkKind::kStop);
    const uint32_t thread = m.thread < threads ? m.thread : 0;
    if (threads == 0) break;
    if (!point && !described[thread]) {
      described[thread] = 1;
      ProtoEncoder& e = packets.Begin();
      e.VarintField(field::kSequenceId, kProcessSequence);
      size_t d = e.BeginNested(field::kTrackDescriptor);
      e.VarintField(field::kUuid, MarksUuid(thread));
      e.VarintField(field::kParentUuid, kProcessUuid);
      e.BytesField(field::kTrackName,
                   absl::StrCat("marks: ", internal::ThreadLabel(trace, thread)));
      e.EndNested(d);
      packets.End();
    }
    ProtoEncoder& e = packets.Begin();
    e.VarintField(field::kTimestamp, time.ToNs(m.ticks));
    e.VarintField(field::kSequenceId, kProcessSequence);
    size_t te = e.BeginNested(field::kTrackEvent);
    const bool stop = m.kind == static_cast<uint32_t>(format::MarkKind::kStop);
    e.VarintField(field::kType, point ? kInstant : stop ? kSliceEnd : kSliceBegin);
    e.VarintField(field::kTrackUuid,
                  point ? ThreadUuid(thread) : MarksUuid(thread));
    if (!stop) e.BytesField(field::kName, trace.String(m.name));
    e.EndNested(te);
    packets.End();
  }
}

}  // namespace

absl::StatusOr<ExportStats> WritePerfettoTrace(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out) {
  internal::ExportDriver driver(trace, thread_ended, options);
  const uint64_t pid = trace.header().pid;
  PerfettoWriter writer(trace, driver, out);
  ProcessPacket(writer.packets(), trace, pid, driver.Title());
  const auto records = trace.threads();
  for (uint32_t t = 0; t < driver.threads(); ++t) {
    writer.BeginThread(t, pid, records[t].os_tid);
    if (!driver.RunThread(t, writer, out)) return out.status();
  }
  Marks(writer.packets(), trace, driver.time(), driver.threads());
  if (!out.ok()) return out.status();
  return driver.stats();
}

}  // namespace tracestore
