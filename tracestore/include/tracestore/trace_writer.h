// TraceWriter: records one trace directory (see format.h for the layout).
//
//   TraceOptions options;
//   options.path = "run.trace";
//   options.properties = {{"command_line", "app.py --fast"}};
//   auto trace = TraceWriter::Create(options);
//   uint32_t fn = (*trace)->AddFunction({"app", "main", "app.py", 1});
//   EventWriter* events = (*trace)->StartThread(gettid(), "MainThread");
//   events->Append(format::EventKind::kCall, fn, 0);    // lock-free
//   events->Append(format::EventKind::kReturn, fn, 3);
//   (*trace)->EndThread(events);
//   (*trace)->Close();
//
// Thread-safety: every TraceWriter method is thread-safe (a mutex guards the
// shared stores). An EventWriter belongs to one thread: only that thread
// appends to it, without locks or atomic read-modify-writes. Close() must not
// race with appends (stop the hooks first); EventWriters die with the trace.
//
// Event stores are pooled (trace version 2, format.h): EndThread gives the
// thread's store back, and the next StartThread continues it for another
// thread (a SegmentRecord says which records are whose). A trace therefore
// holds as many event stores, files and descriptors as threads were alive
// at once, and starting a thread costs no file work once the pool has a
// free store. After EndThread(w) the thread must not append to w again: w
// may already belong to the next thread (appends after Close() are dropped).
//
// A full disk stops recording: one message goes to stderr (unless quiet),
// the trace header records why, later appends are counted as dropped, and
// everything recorded before stays readable.

#ifndef TRACESTORE_TRACE_WRITER_H_
#define TRACESTORE_TRACE_WRITER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/clock.h"
#include "tracestore/env.h"
#include "tracestore/format.h"
#include "tracestore/store_writer.h"

namespace tracestore {

namespace internal {
class PageFiller;
class EventBudget;
}

struct TraceOptions {
  std::string path;  // directory to create (must not exist, or be empty)
  // Written once into the header: "command_line", "interpreter", "include",
  // "exclude", ... (format.h lists the well-known keys).
  std::vector<std::pair<std::string, std::string>> properties;
  uint32_t event_chunk_shift = 21;     // 2 MiB chunks per thread
  uint32_t metadata_chunk_shift = 16;  // 64 KiB chunks for the rest
  Env* env = nullptr;                  // nullptr: Env::Default()
  bool use_tsc = true;                 // false: CLOCK_MONOTONIC
  bool quiet = false;                  // no stderr message when stopping
  // false: the version 1 layout (one events store per thread, closed at
  // thread end; no pooling). For tests of the readers' compatibility.
  bool pool_event_stores = true;
  // Flight-recorder mode: the event stores' files together never exceed
  // this many bytes; each store is a ring that keeps its newest events
  // (format.h, "Ring event stores"; the budget policy is event_budget.h's).
  // 0: unbounded. Needs the pooled layout; at least kMinMaxEventBytes.
  // Event chunks shrink (to no less than 64 KiB) so that the budget holds
  // at least 64 of them.
  uint64_t max_event_bytes = 0;
};

// The smallest flight-recorder budget: one store's minimum ring of 64 KiB
// chunks, with room for a few threads.
inline constexpr uint64_t kMinMaxEventBytes = uint64_t{4} << 20;

struct FunctionInfo {
  std::string_view module;
  std::string_view qualname;
  std::string_view file;
  uint32_t first_line = 0;
  uint32_t flags = format::kFunctionIsPython | format::kFunctionTraced;
  uint64_t code_addr = 0;
};

// Appends one thread's events. Owned by the TraceWriter.
class EventWriter {
 public:
  // Records an event stamped with the trace clock now.
  inline void Append(format::EventKind kind, uint32_t function,
                     uint32_t value) {
    store_->Append(format::EventRecord{
        format::PackTimeKind(clock_.Now() - start_ticks_, kind), function,
        value});
  }
  // Append, when it needs no call (the clock is the TSC and the chunk has
  // room): true. False means nothing was recorded; call Append.
  inline bool TryAppend(format::EventKind kind, uint32_t function,
                        uint32_t value) {
#if TRACESTORE_HAVE_RDTSC
    if (clock_.source() != format::ClockSource::kTsc) [[unlikely]]
      return false;
    return store_->TryAppend(format::EventRecord{
        format::PackTimeKind(__rdtsc() - start_ticks_, kind), function, value});
#else
    (void)kind, (void)function, (void)value;
    return false;
#endif
  }
  // Records an event with a time taken earlier (ticks since trace start).
  inline void AppendAt(uint64_t ticks, format::EventKind kind,
                       uint32_t function, uint32_t value) {
    store_->Append(
        format::EventRecord{format::PackTimeKind(ticks, kind), function, value});
  }
  uint32_t thread_index() const { return thread_index_; }
  // Records in this writer's store (all its threads' so far).
  uint64_t count() const { return store_->count(); }

 private:
  friend class TraceWriter;
  EventWriter(std::unique_ptr<StoreWriter> store, const Clock& clock,
              uint64_t start_ticks, uint32_t store_index)
      : store_(std::move(store)),
        clock_(clock),
        start_ticks_(start_ticks),
        store_index_(store_index) {}

  std::unique_ptr<StoreWriter> store_;
  const Clock clock_;
  const uint64_t start_ticks_;
  const uint32_t store_index_;  // N of events.<N>.store
  uint32_t thread_index_ = 0;   // the thread it serves now
  uint64_t segment_ = 0;        // that thread's SegmentRecord index
  bool ended_ = false;          // no thread: in the free pool, or closed
};

class TraceWriter {
 public:
  static absl::StatusOr<std::unique_ptr<TraceWriter>> Create(
      TraceOptions options);
  ~TraceWriter();  // Close()s
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Ticks since the trace started (the unit of every stored time).
  uint64_t Now() const { return clock_.Now() - start_.ticks; }
  const Clock& clock() const { return clock_; }
  const std::string& path() const { return options_.path; }

  // Interns a string; returns its id (0 for "", or if recording stopped).
  uint32_t InternString(std::string_view s);
  // Adds a function record; returns its id (1-based; 0 if recording stopped).
  uint32_t AddFunction(const FunctionInfo& info);
  // Starts a thread: its record and an events store for it (a free one
  // from the pool, else a new one). Returns nullptr if recording stopped.
  EventWriter* StartThread(uint64_t os_tid, std::string_view name);
  // Stamps the thread's end time, ends its segment and gives its store back
  // to the pool (version 1 layout: closes the store). The thread must not
  // append to `events` afterwards.
  void EndThread(EventWriter* events);
  // Event store files created so far (= the most threads alive at once).
  size_t event_store_count() const;
  void SetThreadName(uint32_t thread_index, std::string_view name);
  // Records a mark at the current time.
  void AddMark(uint32_t thread_index, std::string_view name,
               format::MarkKind kind, uint64_t value = 0);
  // Records that `function` (an id AddFunction returned) runs through the
  // native code [begin, begin + size), e.g. its stack-mode trampoline slot.
  // The first call creates coderanges.store; a trace that never calls this
  // has none. Ranges must not overlap. Dropped when `function` is not a
  // recorded function, or when recording stopped before the store existed
  // (no new file on a full disk); afterwards like the other stores.
  void AddCodeRange(uint32_t function, uint64_t begin, uint32_t size);

  // True once recording stopped (disk full, I/O error).
  bool stopped() const;
  // The flight-recorder budget (0: unbounded) and the event chunk size used.
  uint64_t max_event_bytes() const { return options_.max_event_bytes; }
  uint32_t event_chunk_shift() const { return options_.event_chunk_shift; }

  // Ends running threads, seals and closes every store, writes the close
  // anchor and marks the trace closed. Idempotent.
  absl::Status Close();

 private:
  explicit TraceWriter(TraceOptions options);
  absl::Status Open();
  absl::StatusOr<std::unique_ptr<StoreWriter>> CreateStore(
      const std::string& name, format::StoreKind kind, uint32_t chunk_shift,
      uint32_t thread_index, bool mutable_records = false);
  // Creates a store while the trace is recording: under a temporary name,
  // renamed into place once its header is written.
  absl::StatusOr<std::unique_ptr<StoreWriter>> CreateStoreLive(
      const std::string& name, format::StoreKind kind);
  uint32_t InternLocked(std::string_view s);
  // Once the trace is 100 ms old: a better ticks_per_second, from the start
  // anchor to now, into the header (readers load it atomically).
  void RefineClockLocked();
  void EndThreadLocked(EventWriter* events, uint64_t end_ticks);
  void OnStop(const absl::Status& why);

  TraceOptions options_;
  Env* env_;
  Clock clock_;
  format::ClockAnchor start_{};
  std::unique_ptr<WritableFile> header_file_;
  format::TraceHeader* header_ = nullptr;
  std::unique_ptr<internal::PageFiller> filler_;
  std::unique_ptr<internal::EventBudget> budget_;  // flight recorder only

  mutable std::mutex mu_;  // guards everything below
  bool closed_ = false;
  bool clock_refined_ = false;
  std::unique_ptr<StoreWriter> functions_, strings_, strbytes_, threads_,
      marks_;
  std::unique_ptr<StoreWriter> code_ranges_;  // from the first AddCodeRange
  std::unique_ptr<StoreWriter> segments_;     // pooled layout only
  struct XxHash {
    size_t operator()(std::string_view s) const;
  };
  std::deque<std::string> string_arena_;  // keys of string_ids_
  absl::flat_hash_map<std::string_view, uint32_t, XxHash> string_ids_;
  std::vector<std::unique_ptr<EventWriter>> event_writers_;  // every store
  std::vector<EventWriter*> free_writers_;  // pooled, no thread; LIFO
};

}  // namespace tracestore

#endif  // TRACESTORE_TRACE_WRITER_H_
