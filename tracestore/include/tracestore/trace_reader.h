// TraceReader: a read-only, live view of a whole trace directory.
//
//   auto trace = TraceReader::Open("run.trace");
//   if (!trace.ok()) { print(trace.status()); exit(2); }
//   for (const auto& f : (*trace)->functions())
//     printf("%s\n", std::string((*trace)->String(f.qualname)).c_str());
//   auto events = (*trace)->events(0);       // thread 0, time-ordered
//   uint64_t ns = (*trace)->ToNs(format::EventTicks(events[0]));
//   (*trace)->Refresh();                     // follow a running writer
//
// Consistency: Refresh() reads the stores in dependency order (marks,
// threads, events, code ranges, functions, strings, string bytes), so every
// id a visible record refers to is visible too, even while the writer runs.
//
// A damaged store does not fail the trace: it is left out (or read up to its
// torn tail) and described in problems(). Open fails only when the trace
// header is unusable. coderanges.store is optional: a trace without it (most
// traces) has no code ranges and no problem; it is looked for again at each
// Refresh() until the writer creates it. A thread's events store that
// failed to open is not tried again.
//
// Thread-safety: Refresh() one thread at a time, with nothing else running;
// the const methods only read the mappings and may run on many threads at
// once. Spans are valid until the next Refresh() that reports a remap
// (generation() changed) or destruction.

#ifndef TRACESTORE_TRACE_READER_H_
#define TRACESTORE_TRACE_READER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/env.h"
#include "absl/container/flat_hash_map.h"
#include "tracestore/format.h"
#include "tracestore/problems.h"
#include "tracestore/store_reader.h"

namespace tracestore {

class TraceReader {
 public:
  static absl::StatusOr<std::unique_ptr<TraceReader>> Open(
      const std::string& path, Env* env = nullptr);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  // Picks up everything committed since the last call.
  absl::Status Refresh();

  const std::string& path() const { return path_; }
  const format::TraceHeader& header() const { return *header_; }
  format::TraceState state() const;
  bool closed() const { return state() == format::TraceState::kClosed; }
  format::StopReason stop_reason() const;
  // True while the writing process still exists and the trace is not closed.
  bool writer_alive() const;
  const std::vector<std::pair<std::string, std::string>>& properties() const {
    return properties_;
  }
  std::string_view Property(std::string_view key) const;

  // Nanoseconds for a time in ticks since the trace started.
  uint64_t ToNs(uint64_t ticks) const;
  // Ticks since start of the last event, mark or thread end seen.
  uint64_t DurationTicks() const;

  std::span<const format::FunctionRecord> functions() const;
  std::span<const format::ThreadRecord> threads() const;
  std::span<const format::MarkRecord> marks() const;
  std::span<const format::StringRecord> strings() const;
  // In the order recorded; empty when the trace has no coderanges.store.
  std::span<const format::CodeRangeRecord> code_ranges() const;
  // The string with this id; "" for 0 or an id out of range.
  std::string_view String(uint32_t id) const;
  // A thread's end time, read atomically (0 while running).
  uint64_t ThreadEndTicks(const format::ThreadRecord& t) const;
  uint32_t ThreadName(const format::ThreadRecord& t) const;

  // Thread indexes run from 0 to threads().size() - 1. A thread's events
  // are its segment of a shared event store (version 2 traces) or its own
  // store (version 1): every reader goes through here, so each event is
  // attributed to the thread that wrote it.
  std::span<const format::EventRecord> events(uint32_t thread_index) const;
  // The store holding the thread's events; nullptr when it is missing or
  // damaged (or the thread's segment is not visible yet).
  const StoreReader* event_store(uint32_t thread_index) const;
  // The name of that store's file ("events.<N>.store"); "" while a pooled
  // trace shows no segment for the thread (it is about to start).
  std::string EventStoreFile(uint32_t thread_index) const;
  // Events of every store (each event belongs to one thread).
  uint64_t total_events() const;

  // Flight-recorder traces (format.h, "Ring event stores"): what the
  // window holds. events(t) are events [events_first(t), events_first(t) +
  // events(t).size()) of everything thread t recorded; events_first(t) > 0
  // means its older events were overwritten. A thread whose window starts
  // inside calls (window_truncated) may close calls it shows no start for:
  // calls.h shows them as starting at the thread's first event, flagged.
  uint64_t events_first(uint32_t thread_index) const;
  bool window_truncated(uint32_t thread_index) const;
  // The time (ticks since start) from which every thread's events are
  // whole: the latest first event of a truncated thread; 0 when no thread
  // lost events.
  uint64_t WindowStartTicks() const;
  // Moves so far of any ring's window start (a reader's derived structures
  // built over the old window must be rebuilt when it changes).
  uint64_t window_moves() const;
  // The budget of a flight-recorder trace (0: unbounded) and the threads it
  // had no room for (trace header, version 3).
  uint64_t max_event_bytes() const;
  uint64_t unrecorded_threads() const;
  // Version 2: event stores are pooled and segments.store maps threads.
  bool pooled() const;

  // Every store that opened, for tools (info, verify).
  std::vector<const StoreReader*> stores() const;
  // What is wrong, if anything: missing or damaged stores, torn tails,
  // checksum mismatches, a damaged trace header; by kind (problems.h). An
  // answer read from a trace with problems is partial.
  Problems AllProblems() const;
  // The same, messages only.
  std::vector<std::string> problems() const;
  // Why the store `file` (e.g. "functions.store") was left out; "" if it
  // was not (it opened, or it is an optional store not there).
  std::string_view OpenProblem(const std::string& file) const;
  // Bytes of trace.header mapped: the file's size, at most
  // format::kTraceFileBytes.
  uint64_t header_file_bytes() const { return header_map_bytes_; }

 private:
  TraceReader(std::string path, Env* env) : path_(std::move(path)), env_(env) {}
  absl::Status OpenHeader();
  // `optional`: a missing file is no problem (tried again next time).
  absl::Status RefreshStore(std::unique_ptr<StoreReader>& store,
                            const char* name, format::StoreKind kind,
                            bool optional = false);

  // Version 2: maps the segments visible since the last call to their
  // threads; returns how many event stores they name.
  size_t MapSegments(size_t thread_count);
  const format::SegmentRecord* SegmentOf(uint32_t thread_index) const;

  std::string path_;
  Env* env_;
  std::unique_ptr<ReadableFile> header_file_;
  const format::TraceHeader* header_ = nullptr;
  std::vector<std::pair<std::string, std::string>> properties_;

  std::unique_ptr<StoreReader> marks_, threads_, functions_, strings_,
      strbytes_;
  std::unique_ptr<StoreReader> code_ranges_;  // optional
  std::vector<std::unique_ptr<StoreReader>> events_;  // by store number
  // Events stores that failed to open: not tried again (the writer creates
  // a store before it commits the thread or segment that names it).
  std::vector<bool> events_failed_;
  std::unique_ptr<StoreReader> segments_;  // version 2 only
  static constexpr uint64_t kNoSegment = ~uint64_t{0};
  std::vector<uint64_t> thread_segment_;  // thread index -> segment index
  uint64_t segments_seen_ = 0;
  size_t store_count_ = 0;
  Problems segment_problems_;  // inconsistent segments
  uint64_t header_map_bytes_ = 0;
  Problems open_problems_;  // stores left out, header damage
  absl::flat_hash_map<std::string, std::string> open_failures_;  // by file
};

}  // namespace tracestore

#endif  // TRACESTORE_TRACE_READER_H_
