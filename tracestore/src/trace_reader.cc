// TraceReader: opens the trace header and every store, refreshes them in
// dependency order, and resolves ids.

#include "tracestore/trace_reader.h"

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "tracestore/clock.h"
#include "tracestore/store_paths.h"

namespace tracestore {

namespace {

// The TSC rates a reader accepts (1 MHz .. 100 GHz).
constexpr uint64_t kMinTicksPerSecond = 1000000u;
constexpr uint64_t kMaxTicksPerSecond = 100000000000u;

template <class T>
T LoadAtomic(const T& field) {
  return std::atomic_ref<T>(const_cast<T&>(field))
      .load(std::memory_order_acquire);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TraceReader>> TraceReader::Open(
    const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  // A C string would end at the NUL and name another file.
  if (path.find('\0') != std::string::npos)
    return absl::InvalidArgumentError(absl::StrCat(
        "the trace path contains a NUL byte: \"", absl::CHexEscape(path),
        "\""));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return ErrnoStatus(errno, "open trace", path);
  if (!S_ISDIR(st.st_mode))
    return absl::InvalidArgumentError(absl::StrCat(
        path, " is not a trace (a trace is a directory with a ",
        kTraceHeaderFile, " file)"));
  std::unique_ptr<TraceReader> trace(new TraceReader(path, env));
  TS_RETURN_IF_ERROR(trace->OpenHeader());
  TS_RETURN_IF_ERROR(trace->Refresh());
  return trace;
}

TraceReader::~TraceReader() {
  if (header_ != nullptr)
    header_file_->Unmap(reinterpret_cast<const std::byte*>(header_),
                        header_map_bytes_);
}

absl::Status TraceReader::OpenHeader() {
  const std::string file_path = path_ + "/" + kTraceHeaderFile;
  auto file = env_->OpenReadable(file_path);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status()))
      return absl::NotFoundError(absl::StrCat(
          path_, " is not a trace: it has no ", kTraceHeaderFile));
    return file.status();
  }
  header_file_ = *std::move(file);
  auto size = header_file_->Size();
  if (!size.ok()) return size.status();
  if (*size < format::kTraceHeaderBytes)
    return absl::DataLossError(absl::StrCat(
        file_path, ": truncated: ", *size, " bytes, the header needs ",
        format::kTraceHeaderBytes));
  // Mapped no further than the file goes: reading a mapping past the end
  // of a file raises SIGBUS. The writer makes it kTraceFileBytes long.
  header_map_bytes_ = std::min<uint64_t>(*size, format::kTraceFileBytes);
  auto map = header_file_->Map(header_map_bytes_);
  if (!map.ok()) {
    header_map_bytes_ = 0;
    return map.status();
  }
  header_ = reinterpret_cast<const format::TraceHeader*>(*map);
  const format::TraceHeader& h = *header_;
  if (std::memcmp(h.magic, format::kTraceMagic, sizeof(h.magic)) != 0)
    return absl::DataLossError(
        absl::StrCat(file_path, ": not a tracestore trace header (bad magic)"));
  if (h.version != format::kTraceVersionOneStorePerThread &&
      h.version != format::kTraceVersionPooled &&
      h.version != format::kTraceVersion)
    return absl::FailedPreconditionError(absl::StrCat(
        file_path, ": format version ", h.version, ", this build reads versions ",
        format::kTraceVersionOneStorePerThread, " to ", format::kTraceVersion));
  if (h.header_bytes != format::kTraceHeaderBytes)
    return absl::DataLossError(
        absl::StrCat(file_path, ": bad header size ", h.header_bytes));
  const auto source = static_cast<format::ClockSource>(h.clock_source);
  // CLOCK_MONOTONIC counts ns; a TSC runs at MHz to GHz. Anything else
  // would turn every time into nonsense.
  const uint64_t tps = LoadAtomic(h.ticks_per_second);
  const bool clock_ok =
      source == format::ClockSource::kMonotonic
          ? tps == 1000000000u
          : source == format::ClockSource::kTsc && tps >= kMinTicksPerSecond &&
                tps <= kMaxTicksPerSecond;
  if (!clock_ok)
    return absl::DataLossError(absl::StrCat(
        file_path, ": bad clock calibration (source ", h.clock_source, ", ",
        tps, " ticks per second)"));
  if (*size < format::kTraceFileBytes)
    open_problems_.Add(
        ProblemKind::kHeader,
        absl::StrCat(file_path, ": truncated: ", *size, " bytes, the file is ",
                     format::kTraceFileBytes));
  const uint32_t state = LoadAtomic(h.state);
  if (state == 0)
    return absl::FailedPreconditionError(absl::StrCat(
        path_, ": the trace was never started (its writer, pid ", h.pid,
        ", stopped while creating it): it holds no records"));
  if (state != static_cast<uint32_t>(format::TraceState::kRecording) &&
      state != static_cast<uint32_t>(format::TraceState::kClosed))
    return absl::DataLossError(
        absl::StrCat(file_path, ": bad trace state ", state));
  if (h.properties_bytes > format::kMaxPropertiesBytes ||
      format::kTraceHeaderBytes + h.properties_bytes > *size)
    return absl::DataLossError(absl::StrCat(
        file_path, ": properties overrun the file (", h.properties_bytes,
        " bytes)"));
  std::string_view text(reinterpret_cast<const char*>(header_) +
                            format::kTraceHeaderBytes,
                        h.properties_bytes);
  while (!text.empty()) {
    size_t k = text.find('\0');
    size_t v = k == std::string_view::npos ? k : text.find('\0', k + 1);
    if (k == 0 || v == std::string_view::npos)
      return absl::DataLossError(
          absl::StrCat(file_path, ": malformed properties"));
    properties_.emplace_back(text.substr(0, k), text.substr(k + 1, v - k - 1));
    text.remove_prefix(v + 1);
  }
  return absl::OkStatus();
}

absl::Status TraceReader::RefreshStore(std::unique_ptr<StoreReader>& store,
                                       const char* name, format::StoreKind kind,
                                       bool optional) {
  if (store == nullptr) {
    auto opened = StoreReader::Open(env_, path_ + "/" + name, kind);
    if (!opened.ok()) {
      if (optional && absl::IsNotFound(opened.status()))
        return absl::OkStatus();  // not (yet) recorded: nothing wrong
      std::string message(opened.status().message());
      open_failures_.emplace(name, message);
      open_problems_.Add(ProblemKind::kUnreadable, std::move(message));
      return absl::OkStatus();  // left out, described in problems()
    }
    store = *std::move(opened);
    return absl::OkStatus();
  }
  return store->Refresh();
}

absl::Status TraceReader::Refresh() {
  TS_RETURN_IF_ERROR(RefreshStore(marks_, kMarksFile, format::StoreKind::kMarks));
  TS_RETURN_IF_ERROR(
      RefreshStore(threads_, kThreadsFile, format::StoreKind::kThreads));
  const size_t thread_count = threads().size();
  size_t store_count = thread_count;  // version 1: a store per thread
  if (pooled()) {
    // After threads: the writer commits a thread before its segment.
    TS_RETURN_IF_ERROR(RefreshStore(segments_, kSegmentsFile,
                                    format::StoreKind::kSegments));
    store_count = MapSegments(thread_count);
  }
  // A store's count is read here, before events() loads a segment's `ended`
  // flag: the order format.h's SegmentRecord asks of a reader.
  if (events_.size() < store_count) {
    events_.resize(store_count);
    events_failed_.resize(store_count, false);
  }
  for (size_t i = 0; i < store_count; ++i) {
    if (events_failed_[i]) continue;
    const std::string name = EventsFileName(static_cast<uint32_t>(i));
    TS_RETURN_IF_ERROR(
        RefreshStore(events_[i], name.c_str(), format::StoreKind::kEvents));
    if (events_[i] == nullptr) events_failed_[i] = true;
  }
  // Before functions: the writer commits a function before its ranges.
  TS_RETURN_IF_ERROR(RefreshStore(code_ranges_, kCodeRangesFile,
                                  format::StoreKind::kCodeRanges,
                                  /*optional=*/true));
  TS_RETURN_IF_ERROR(
      RefreshStore(functions_, kFunctionsFile, format::StoreKind::kFunctions));
  TS_RETURN_IF_ERROR(
      RefreshStore(strings_, kStringsFile, format::StoreKind::kStrings));
  TS_RETURN_IF_ERROR(RefreshStore(strbytes_, kStringBytesFile,
                                  format::StoreKind::kStringBytes));
  return absl::OkStatus();
}

format::TraceState TraceReader::state() const {
  return static_cast<format::TraceState>(LoadAtomic(header_->state));
}

format::StopReason TraceReader::stop_reason() const {
  return static_cast<format::StopReason>(LoadAtomic(header_->stop_reason));
}

bool TraceReader::writer_alive() const {
  if (closed()) return false;
  const auto pid = static_cast<pid_t>(header_->pid);
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::string_view TraceReader::Property(std::string_view key) const {
  for (const auto& [k, v] : properties_)
    if (k == key) return v;
  return {};
}

uint64_t TraceReader::ToNs(uint64_t ticks) const {
  return TicksToNs(ticks, LoadAtomic(header_->ticks_per_second));
}

uint64_t TraceReader::DurationTicks() const {
  if (closed()) return header_->close.ticks - header_->start.ticks;
  uint64_t last = 0;
  for (size_t i = 0; i < threads().size(); ++i) {
    auto e = events(static_cast<uint32_t>(i));
    if (!e.empty()) last = std::max(last, format::EventTicks(e.back()));
  }
  for (const auto& t : threads())
    last = std::max({last, t.start_ticks, ThreadEndTicks(t)});
  if (!marks().empty()) last = std::max(last, marks().back().ticks);
  return last;
}

template <class R>
static std::span<const R> RecordsOf(const std::unique_ptr<StoreReader>& s) {
  if (s == nullptr) return {};
  return s->Records<R>();
}

std::span<const format::FunctionRecord> TraceReader::functions() const {
  return RecordsOf<format::FunctionRecord>(functions_);
}
std::span<const format::ThreadRecord> TraceReader::threads() const {
  return RecordsOf<format::ThreadRecord>(threads_);
}
std::span<const format::MarkRecord> TraceReader::marks() const {
  return RecordsOf<format::MarkRecord>(marks_);
}
std::span<const format::StringRecord> TraceReader::strings() const {
  return RecordsOf<format::StringRecord>(strings_);
}
std::span<const format::CodeRangeRecord> TraceReader::code_ranges() const {
  return RecordsOf<format::CodeRangeRecord>(code_ranges_);
}

std::string_view TraceReader::String(uint32_t id) const {
  auto table = strings();
  if (id == 0 || id > table.size() || strbytes_ == nullptr) return {};
  const format::StringRecord& s = table[id - 1];
  if (s.offset > strbytes_->count() || s.length > strbytes_->count() - s.offset)
    return {};
  return {reinterpret_cast<const char*>(strbytes_->data()) + s.offset,
          s.length};
}

uint64_t TraceReader::ThreadEndTicks(const format::ThreadRecord& t) const {
  return LoadAtomic(t.end_ticks);
}

uint32_t TraceReader::ThreadName(const format::ThreadRecord& t) const {
  return LoadAtomic(t.name);
}

bool TraceReader::pooled() const {
  return header_->version != format::kTraceVersionOneStorePerThread;
}

size_t TraceReader::MapSegments(size_t thread_count) {
  const auto segments = RecordsOf<format::SegmentRecord>(segments_);
  if (thread_segment_.size() < thread_count)
    thread_segment_.resize(thread_count, kNoSegment);
  for (; segments_seen_ < segments.size(); ++segments_seen_) {
    const format::SegmentRecord& seg = segments[segments_seen_];
    // A thread not visible yet (committed after our read of threads):
    // picked up at the next Refresh.
    if (seg.thread >= thread_count) break;
    // There are never more stores than threads: anything else is damage.
    if (seg.store >= thread_count || thread_segment_[seg.thread] != kNoSegment) {
      segment_problems_.Add(ProblemKind::kUnreadable, absl::StrCat(
          path_, "/", kSegmentsFile, ": segment ", segments_seen_,
          " is inconsistent (thread ", seg.thread, ", store ", seg.store, ")"));
      continue;
    }
    thread_segment_[seg.thread] = segments_seen_;
    store_count_ = std::max<size_t>(store_count_, seg.store + 1);
  }
  return store_count_;
}

const format::SegmentRecord* TraceReader::SegmentOf(
    uint32_t thread_index) const {
  if (thread_index >= thread_segment_.size() ||
      thread_segment_[thread_index] == kNoSegment)
    return nullptr;
  return &RecordsOf<format::SegmentRecord>(
      segments_)[thread_segment_[thread_index]];
}

std::span<const format::EventRecord> TraceReader::events(
    uint32_t thread_index) const {
  if (!pooled()) {
    if (thread_index >= events_.size()) return {};
    return RecordsOf<format::EventRecord>(events_[thread_index]);
  }
  const format::SegmentRecord* seg = SegmentOf(thread_index);
  if (seg == nullptr || seg->store >= events_.size()) return {};
  const StoreReader* store = events_[seg->store].get();
  const auto all = RecordsOf<format::EventRecord>(events_[seg->store]);
  // The store's count was read before `ended` is loaded here (format.h):
  // an open segment runs to that count, an ended one to its `end`. A ring
  // shows records [first, first + size) only.
  const uint64_t base = store != nullptr ? store->first() : 0;
  uint64_t end = base + all.size();
  if (LoadAtomic(seg->ended) != 0) end = std::min<uint64_t>(end, LoadAtomic(seg->end));
  const uint64_t begin = std::max<uint64_t>(seg->first, base);
  if (begin >= end) return {};
  return all.subspan(begin - base, end - begin);
}

uint64_t TraceReader::events_first(uint32_t thread_index) const {
  if (!pooled()) return 0;
  const format::SegmentRecord* seg = SegmentOf(thread_index);
  if (seg == nullptr || seg->store >= events_.size() ||
      events_[seg->store] == nullptr)
    return 0;
  const uint64_t base = events_[seg->store]->first();
  if (base <= seg->first) return 0;
  uint64_t end = base + events_[seg->store]->count();
  if (LoadAtomic(seg->ended) != 0) end = std::min<uint64_t>(end, LoadAtomic(seg->end));
  // A segment wholly overwritten lost all its events.
  return std::min(base, std::max(end, seg->first)) - seg->first;
}

bool TraceReader::window_truncated(uint32_t thread_index) const {
  if (!pooled()) return false;
  const format::SegmentRecord* seg = SegmentOf(thread_index);
  if (seg == nullptr) return false;
  return (seg->flags & format::kSegmentStartsInWindow) != 0 ||
         events_first(thread_index) > 0;
}

uint64_t TraceReader::WindowStartTicks() const {
  uint64_t start = 0;
  for (uint32_t i = 0; i < threads().size(); ++i) {
    if (!window_truncated(i)) continue;
    auto e = events(i);
    // A thread that lost every event: complete only from its end.
    const uint64_t t = !e.empty() ? format::EventTicks(e.front())
                                  : ThreadEndTicks(threads()[i]);
    start = std::max(start, t);
  }
  return start;
}

uint64_t TraceReader::window_moves() const {
  uint64_t n = 0;
  for (const auto& s : events_)
    if (s) n += s->window_moves();
  return n;
}

uint64_t TraceReader::max_event_bytes() const {
  return header_->version >= format::kTraceVersion ? header_->max_event_bytes
                                                   : 0;
}

uint64_t TraceReader::unrecorded_threads() const {
  return header_->version >= format::kTraceVersion
             ? LoadAtomic(header_->unrecorded_threads)
             : 0;
}

const StoreReader* TraceReader::event_store(uint32_t thread_index) const {
  if (pooled()) {
    const format::SegmentRecord* seg = SegmentOf(thread_index);
    if (seg == nullptr || seg->store >= events_.size()) return nullptr;
    return events_[seg->store].get();
  }
  return thread_index < events_.size() ? events_[thread_index].get() : nullptr;
}

std::string TraceReader::EventStoreFile(uint32_t thread_index) const {
  if (!pooled()) return EventsFileName(thread_index);
  const format::SegmentRecord* seg = SegmentOf(thread_index);
  return seg != nullptr ? EventsFileName(seg->store) : std::string();
}

uint64_t TraceReader::total_events() const {
  uint64_t n = 0;
  for (const auto& s : events_)
    if (s) n += s->count();
  return n;
}

std::vector<const StoreReader*> TraceReader::stores() const {
  std::vector<const StoreReader*> out;
  for (const auto* s : {&marks_, &threads_, &segments_, &functions_,
                        &strings_, &strbytes_, &code_ranges_})
    if (*s) out.push_back(s->get());
  for (const auto& s : events_)
    if (s) out.push_back(s.get());
  return out;
}

Problems TraceReader::AllProblems() const {
  Problems out = open_problems_;
  out.Append(segment_problems_);
  if (const uint64_t n = unrecorded_threads(); n != 0)
    out.Add(ProblemKind::kTruncated,
            absl::StrCat(path_, ": ", n, " thread", n == 1 ? "" : "s",
                         " not recorded: the --max-size budget had no room "
                         "for another event store"));
  for (const StoreReader* s : stores())
    if (s->has_problems()) s->AddProblemsTo(out);
  return out;
}

std::vector<std::string> TraceReader::problems() const {
  return AllProblems().messages();
}

std::string_view TraceReader::OpenProblem(const std::string& file) const {
  auto it = open_failures_.find(file);
  return it == open_failures_.end() ? std::string_view() : it->second;
}

}  // namespace tracestore
