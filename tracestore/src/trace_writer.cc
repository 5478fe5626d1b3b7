// TraceWriter: creates the trace directory, owns the shared stores and the
// PageFiller, and writes the trace header.

#include "tracestore/trace_writer.h"

#include <unistd.h>
#include <xxhash.h>

#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "event_budget.h"
#include "page_filler.h"
#include "tracestore/store_paths.h"

namespace tracestore {

using format::StoreKind;

size_t TraceWriter::XxHash::operator()(std::string_view s) const {
  return XXH64(s.data(), s.size(), 0);
}

TraceWriter::TraceWriter(TraceOptions options)
    : options_(std::move(options)),
      env_(options_.env != nullptr ? options_.env : Env::Default()),
      clock_(Clock::Detect(options_.use_tsc)) {
  if (options_.max_event_bytes != 0) {
    // At least 64 chunks in the budget, chunks of 64 KiB .. the default.
    uint32_t shift = options_.event_chunk_shift;
    while (shift > 16 && (options_.max_event_bytes >> shift) < 64) --shift;
    options_.event_chunk_shift = shift;
    budget_ = std::make_unique<internal::EventBudget>(
        options_.max_event_bytes, uint64_t{1} << shift);
  }
}

TraceWriter::~TraceWriter() {
  if (absl::Status s = Close(); !s.ok() && !options_.quiet)
    std::fprintf(stderr, "tracestore: closing %s: %s\n", options_.path.c_str(),
                 s.ToString().c_str());
}

absl::StatusOr<std::unique_ptr<TraceWriter>> TraceWriter::Create(
    TraceOptions options) {
  if (options.path.empty())
    return absl::InvalidArgumentError("trace path is empty");
  if (options.max_event_bytes != 0 &&
      (options.max_event_bytes < kMinMaxEventBytes ||
       !options.pool_event_stores))
    return absl::InvalidArgumentError(absl::StrCat(
        "max_event_bytes must be 0 or at least ", kMinMaxEventBytes,
        " bytes (4 MiB), with pooled event stores; got ",
        options.max_event_bytes));
  std::unique_ptr<TraceWriter> trace(new TraceWriter(std::move(options)));
  TS_RETURN_IF_ERROR(trace->Open());
  return trace;
}

absl::StatusOr<std::unique_ptr<StoreWriter>> TraceWriter::CreateStore(
    const std::string& name, StoreKind kind, uint32_t chunk_shift,
    uint32_t thread_index, bool mutable_records) {
  StoreWriter::Options o;
  o.env = env_;
  o.path = options_.path + "/" + name;
  o.kind = kind;
  o.chunk_shift = chunk_shift;
  o.thread_index = thread_index;
  o.mutable_records = mutable_records;
  return StoreWriter::Create(o, filler_.get());
}

absl::StatusOr<std::unique_ptr<StoreWriter>> TraceWriter::CreateStoreLive(
    const std::string& name, StoreKind kind) {
  // A reader that finds the file must find a whole store header: a file
  // created in place would be empty (or all zeros) for a moment, which the
  // reader cannot tell from damage. The rename publishes it whole. The
  // StoreWriter keeps the temporary name for its messages; its descriptor
  // and mappings follow the file.
  const std::string temp = name + ".new";
  auto store = CreateStore(temp, kind, options_.metadata_chunk_shift, 0);
  if (!store.ok()) return store.status();
  TS_RETURN_IF_ERROR(
      env_->Rename(options_.path + "/" + temp, options_.path + "/" + name));
  return store;
}

absl::Status TraceWriter::Open() {
  std::string properties;
  for (const auto& [key, value] : options_.properties) {
    properties.append(key).push_back('\0');
    properties.append(value).push_back('\0');
  }
  if (properties.size() > format::kMaxPropertiesBytes)
    return absl::InvalidArgumentError(
        absl::StrCat("trace properties are ", properties.size(),
                     " bytes; at most ", format::kMaxPropertiesBytes));

  TS_RETURN_IF_ERROR(env_->CreateDir(options_.path));
  auto file = env_->CreateWritable(options_.path + "/" + kTraceHeaderFile);
  if (!file.ok()) return file.status();
  header_file_ = *std::move(file);
  TS_RETURN_IF_ERROR(header_file_->Allocate(format::kTraceFileBytes));
  auto map = header_file_->Map(0, format::kTraceFileBytes);
  if (!map.ok()) return map.status();
  header_ = reinterpret_cast<format::TraceHeader*>(*map);

  start_ = clock_.Anchor();
  format::TraceHeader& h = *header_;
  std::memcpy(h.magic, format::kTraceMagic, sizeof(h.magic));
  h.version = options_.pool_event_stores
                  ? format::kTraceVersion
                  : format::kTraceVersionOneStorePerThread;
  h.max_event_bytes = options_.max_event_bytes;
  h.header_bytes = format::kTraceHeaderBytes;
  h.clock_source = static_cast<uint32_t>(clock_.source());
  h.ticks_per_second = clock_.ticks_per_second();
  h.start = start_;
  h.pid = static_cast<uint64_t>(::getpid());
  h.properties_bytes = static_cast<uint32_t>(properties.size());
  std::memcpy(reinterpret_cast<char*>(header_) + format::kTraceHeaderBytes,
              properties.data(), properties.size());

  filler_ = std::make_unique<internal::PageFiller>(
      [this](const absl::Status& why) { OnStop(why); });
  const uint32_t shift = options_.metadata_chunk_shift;
  struct {
    std::unique_ptr<StoreWriter>* store;
    const char* name;
    StoreKind kind;
    bool mutable_records;
  } stores[] = {
      {&strbytes_, kStringBytesFile, StoreKind::kStringBytes, false},
      {&strings_, kStringsFile, StoreKind::kStrings, false},
      {&functions_, kFunctionsFile, StoreKind::kFunctions, false},
      {&threads_, kThreadsFile, StoreKind::kThreads, true},
      {&marks_, kMarksFile, StoreKind::kMarks, false},
  };
  for (auto& s : stores) {
    auto store = CreateStore(s.name, s.kind, shift, 0, s.mutable_records);
    if (!store.ok()) return store.status();
    *s.store = *std::move(store);
  }
  if (options_.pool_event_stores) {
    auto store = CreateStore(kSegmentsFile, StoreKind::kSegments, shift, 0,
                             /*mutable_records=*/true);
    if (!store.ok()) return store.status();
    segments_ = *std::move(store);
  }
  // Last: a reader that sees kRecording finds every store above.
  std::atomic_ref<uint32_t>(h.state).store(
      static_cast<uint32_t>(format::TraceState::kRecording),
      std::memory_order_release);
  return absl::OkStatus();
}

void TraceWriter::OnStop(const absl::Status& why) {
  // Called once, on the PageFiller thread.
  if (header_ != nullptr) {
    const auto reason = absl::IsResourceExhausted(why)
                            ? format::StopReason::kDiskFull
                            : format::StopReason::kIoError;
    std::atomic_ref<uint32_t>(header_->stop_reason)
        .store(static_cast<uint32_t>(reason), std::memory_order_release);
  }
  if (!options_.quiet)
    std::fprintf(stderr,
                 "tracestore: recording stopped: %s; the program goes on and "
                 "the trace recorded so far is kept in %s\n",
                 std::string(why.message()).c_str(), options_.path.c_str());
}

bool TraceWriter::stopped() const { return filler_ && filler_->stopped(); }

uint32_t TraceWriter::InternLocked(std::string_view s) {
  if (s.empty() || closed_) return 0;
  if (auto it = string_ids_.find(s); it != string_ids_.end()) return it->second;
  const uint64_t offset = strbytes_->count();
  if (!strbytes_->AppendBytes(s.data(), s.size())) return 0;
  const uint64_t before = strings_->count();
  strings_->Append(format::StringRecord{
      offset, static_cast<uint32_t>(s.size()),
      static_cast<uint32_t>(XXH64(s.data(), s.size(), 0))});
  if (strings_->count() == before) return 0;  // dropped
  const uint32_t id = static_cast<uint32_t>(strings_->count());
  string_arena_.emplace_back(s);
  string_ids_.emplace(string_arena_.back(), id);
  return id;
}

void TraceWriter::RefineClockLocked() {
  if (clock_refined_ || header_ == nullptr) return;
  if (clock_.source() != format::ClockSource::kTsc) {
    clock_refined_ = true;
    return;
  }
  if (Now() < clock_.ticks_per_second() / 10) return;
  const uint64_t hz = Clock::FrequencyBetween(start_, clock_.Anchor(), 0);
  if (hz != 0)
    std::atomic_ref<uint64_t>(header_->ticks_per_second)
        .store(hz, std::memory_order_relaxed);
  clock_refined_ = true;
}

uint32_t TraceWriter::InternString(std::string_view s) {
  std::lock_guard<std::mutex> lock(mu_);
  return InternLocked(s);
}

uint32_t TraceWriter::AddFunction(const FunctionInfo& info) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return 0;
  RefineClockLocked();
  format::FunctionRecord r{};
  r.id = static_cast<uint32_t>(functions_->count() + 1);
  r.module = InternLocked(info.module);
  r.qualname = InternLocked(info.qualname);
  r.file = InternLocked(info.file);
  r.first_line = info.first_line;
  r.flags = info.flags;
  r.code_addr = info.code_addr;
  functions_->Append(r);
  return functions_->count() == r.id ? r.id : 0;
}

EventWriter* TraceWriter::StartThread(uint64_t os_tid, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || filler_->stopped()) return nullptr;
  RefineClockLocked();
  const bool pooled = options_.pool_event_stores;
  const uint32_t index = static_cast<uint32_t>(threads_->count());
  EventWriter* w = nullptr;
  if (pooled && !free_writers_.empty()) {
    // The hot case of a thread-heavy program: no file work at all.
    w = free_writers_.back();
    free_writers_.pop_back();
  } else {
    // A new store: the pool is empty (or the version 1 layout, where the
    // store is the thread's and is named by its index).
    const uint32_t n =
        pooled ? static_cast<uint32_t>(event_writers_.size()) : index;
    if (budget_ && !budget_->TakeStore()) {
      // No room for one more ring: the thread is not recorded, and the
      // header says so (readers report it).
      std::atomic_ref<uint64_t> count(header_->unrecorded_threads);
      const uint64_t before = count.load(std::memory_order_relaxed);
      count.store(before + 1, std::memory_order_release);
      if (before == 0 && !options_.quiet)
        std::fprintf(stderr,
                     "tracestore: --max-size %llu leaves no room for one more "
                     "thread's events; threads that start while %zu others "
                     "run are not recorded (the trace counts them)\n",
                     static_cast<unsigned long long>(options_.max_event_bytes),
                     event_writers_.size());
      return nullptr;
    }
    StoreWriter::Options o;
    o.env = env_;
    o.path = options_.path + "/" + EventsFileName(n);
    o.kind = StoreKind::kEvents;
    o.chunk_shift = options_.event_chunk_shift;
    o.thread_index = n;
    o.ring_budget = budget_.get();
    auto store = StoreWriter::Create(o, filler_.get());
    if (!store.ok()) {
      filler_->Stop(store.status());
      return nullptr;
    }
    event_writers_.push_back(std::unique_ptr<EventWriter>(
        new EventWriter(*std::move(store), clock_, start_.ticks, n)));
    w = event_writers_.back().get();
  }
  format::ThreadRecord r{};
  r.index = index;
  r.name = InternLocked(name);
  r.os_tid = os_tid;
  r.start_ticks = Now();
  threads_->Append(r);
  if (threads_->count() != index + 1u) {
    if (pooled) free_writers_.push_back(w);
    return nullptr;
  }
  if (pooled) {
    // After the ThreadRecord, before the thread's first event (format.h).
    const uint64_t segment = segments_->count();
    segments_->Append(
        format::SegmentRecord{w->count(), 0, w->store_index_, index, 0, 0});
    if (segments_->count() != segment + 1) {
      free_writers_.push_back(w);
      return nullptr;
    }
    w->segment_ = segment;
  }
  w->thread_index_ = index;
  w->ended_ = false;
  return w;
}

void TraceWriter::EndThreadLocked(EventWriter* events, uint64_t end_ticks) {
  if (events->ended_) return;
  events->ended_ = true;
  if (options_.pool_event_stores) {
    // `end`, then `ended` (release); only then may the store serve another
    // thread (format.h, SegmentRecord).
    auto* seg = reinterpret_cast<format::SegmentRecord*>(
        segments_->RecordAddress(events->segment_));
    std::atomic_ref<uint64_t>(seg->end).store(events->count(),
                                              std::memory_order_relaxed);
    std::atomic_ref<uint32_t>(seg->ended).store(1, std::memory_order_release);
    free_writers_.push_back(events);
  } else {
    events->store_->Close().IgnoreError();
  }
  auto* record = reinterpret_cast<format::ThreadRecord*>(
      threads_->RecordAddress(events->thread_index_));
  std::atomic_ref<uint64_t>(record->end_ticks)
      .store(end_ticks == 0 ? 1 : end_ticks, std::memory_order_release);
}

void TraceWriter::EndThread(EventWriter* events) {
  if (events == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  EndThreadLocked(events, Now());
}

size_t TraceWriter::event_store_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return event_writers_.size();
}

void TraceWriter::SetThreadName(uint32_t thread_index, std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || thread_index >= threads_->count()) return;
  const uint32_t id = InternLocked(name);
  auto* record = reinterpret_cast<format::ThreadRecord*>(
      threads_->RecordAddress(thread_index));
  std::atomic_ref<uint32_t>(record->name).store(id, std::memory_order_release);
}

void TraceWriter::AddMark(uint32_t thread_index, std::string_view name,
                          format::MarkKind kind, uint64_t value) {
  const uint64_t ticks = Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return;
  format::MarkRecord r{};
  r.ticks = ticks;
  r.thread = thread_index;
  r.name = InternLocked(name);
  r.kind = static_cast<uint32_t>(kind);
  r.value = value;
  marks_->Append(r);
}

void TraceWriter::AddCodeRange(uint32_t function, uint64_t begin,
                               uint32_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  // An unknown id would make the trace unsound; a known one is committed
  // already, so a reader that reads ranges before functions resolves it.
  if (closed_ || function == 0 || function > functions_->count()) return;
  if (code_ranges_ == nullptr) {
    // Nothing to count the drop in yet; no new file on a full disk.
    if (filler_->stopped()) return;
    auto store = CreateStoreLive(kCodeRangesFile, StoreKind::kCodeRanges);
    if (!store.ok()) {
      filler_->Stop(store.status());
      return;
    }
    code_ranges_ = *std::move(store);
  }
  code_ranges_->Append(format::CodeRangeRecord{begin, size, function});
}

absl::Status TraceWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || header_ == nullptr) return absl::OkStatus();
  const uint64_t end = Now();
  for (auto& events : event_writers_) EndThreadLocked(events.get(), end);
  closed_ = true;
  absl::Status status;
  for (auto& events : event_writers_) status.Update(events->store_->Close());
  for (auto* store : {&segments_, &code_ranges_, &marks_, &threads_,
                      &functions_, &strings_, &strbytes_}) {
    if (*store) status.Update((*store)->Close());
  }
  format::TraceHeader& h = *header_;
  if (std::atomic_ref<uint32_t>(h.state).load(std::memory_order_relaxed) !=
      static_cast<uint32_t>(format::TraceState::kRecording)) {
    // Open() failed before the trace started (e.g. a full disk): the header
    // keeps state 0, which readers report as "never started". Marking it
    // closed would claim a complete trace.
    header_file_->Unmap(reinterpret_cast<std::byte*>(header_),
                        format::kTraceFileBytes);
    header_ = nullptr;
    filler_.reset();
    return status;
  }
  h.close = clock_.Anchor();
  if (clock_.source() == format::ClockSource::kTsc)
    h.ticks_per_second =
        Clock::FrequencyBetween(start_, h.close, h.ticks_per_second);
  std::atomic_ref<uint32_t>(h.state).store(
      static_cast<uint32_t>(format::TraceState::kClosed),
      std::memory_order_release);
  header_file_->Unmap(reinterpret_cast<std::byte*>(header_),
                      format::kTraceFileBytes);
  header_ = nullptr;
  filler_.reset();
  return status;
}

}  // namespace tracestore
