// WriteSnapshot: a reader's current window, written as a normal trace.

#include "tracestore/snapshot.h"

#include <cstring>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "page_filler.h"
#include "tracestore/clock.h"
#include "tracestore/store_paths.h"
#include "tracestore/store_writer.h"

namespace tracestore {

namespace {

// A store of the copy, written through the same StoreWriter as a recording
// (chunk checksums, sealed and closed the same way).
class CopyStores {
 public:
  CopyStores(Env* env, std::string dir)
      : env_(env), dir_(std::move(dir)),
        filler_([this](const absl::Status& s) { failure_.Update(s); }) {}
  ~CopyStores() {
    for (auto& s : stores_) s->Close().IgnoreError();
  }

  absl::StatusOr<StoreWriter*> Create(const std::string& name,
                                      format::StoreKind kind,
                                      uint32_t chunk_shift,
                                      uint32_t thread_index = 0,
                                      bool mutable_records = false) {
    StoreWriter::Options o;
    o.env = env_;
    o.path = dir_ + "/" + name;
    o.kind = kind;
    o.chunk_shift = chunk_shift;
    o.thread_index = thread_index;
    o.mutable_records = mutable_records;
    auto store = StoreWriter::Create(o, &filler_);
    if (!store.ok()) return store.status();
    stores_.push_back(*std::move(store));
    return stores_.back().get();
  }

  template <class R>
  absl::Status Copy(const std::string& name, format::StoreKind kind,
                    std::span<const R> records, bool mutable_records = false) {
    auto store = Create(name, kind, 16, 0, mutable_records);
    if (!store.ok()) return store.status();
    for (const R& r : records) (*store)->Append(r);
    return Check(**store, records.size());
  }

  absl::Status Check(const StoreWriter& store, uint64_t want) {
    if (store.count() == want && failure_.ok()) return absl::OkStatus();
    if (!failure_.ok()) return failure_;
    return absl::DataLossError(
        absl::StrCat(store.path(), ": wrote ", store.count(), " of ", want,
                     " records"));
  }

  absl::Status CloseAll() {
    absl::Status status;
    for (auto& s : stores_) status.Update(s->Close());
    status.Update(failure_);
    return status;
  }

 private:
  Env* env_;
  std::string dir_;
  absl::Status failure_;
  internal::PageFiller filler_;
  std::vector<std::unique_ptr<StoreWriter>> stores_;
};

}  // namespace

absl::Status WriteSnapshot(const TraceReader& trace, const std::string& out,
                           Env* env) {
  if (env == nullptr) env = Env::Default();
  if (out.empty()) return absl::InvalidArgumentError("the snapshot path is empty");
  TS_RETURN_IF_ERROR(env->CreateDir(out));

  // The header: the source's, as a closed trace with no budget. Its state
  // is written last, so a copy cut short never reads as a finished trace.
  format::TraceHeader h = trace.header();
  h.version = format::kTraceVersion;
  h.state = 0;
  h.max_event_bytes = 0;
  h.unrecorded_threads = trace.unrecorded_threads();
  h.stop_reason = static_cast<uint32_t>(trace.stop_reason());
  h.ticks_per_second = std::atomic_ref<const uint64_t>(
                           trace.header().ticks_per_second)
                           .load(std::memory_order_acquire);
  if (!trace.closed()) {
    const uint64_t ticks = trace.DurationTicks();
    const uint64_t ns = TicksToNs(ticks, h.ticks_per_second);
    h.close.ticks = h.start.ticks + ticks;
    h.close.monotonic_ns = h.start.monotonic_ns + ns;
    h.close.realtime_ns = h.start.realtime_ns + ns;
  }
  std::string properties;
  for (const auto& [key, value] : trace.properties())
    if (key != "snapshot_of")
      properties.append(key).append(1, '\0').append(value).append(1, '\0');
  const std::string more = absl::StrCat("snapshot_of", std::string(1, '\0'),
                                        trace.path(), std::string(1, '\0'));
  if (properties.size() + more.size() <= format::kMaxPropertiesBytes)
    properties += more;
  h.properties_bytes = static_cast<uint32_t>(properties.size());

  auto header_file = env->CreateWritable(out + "/" + kTraceHeaderFile);
  if (!header_file.ok()) return header_file.status();
  TS_RETURN_IF_ERROR((*header_file)->Allocate(format::kTraceFileBytes));
  auto map = (*header_file)->Map(0, format::kTraceFileBytes);
  if (!map.ok()) return map.status();
  std::memcpy(*map, &h, sizeof(h));
  std::memcpy(*map + format::kTraceHeaderBytes, properties.data(),
              properties.size());

  absl::Status status = [&]() -> absl::Status {
    CopyStores stores(env, out);
    using format::StoreKind;
    // Metadata whole (the reader refreshed them in dependency order, so
    // every id the copied events use is in them).
    std::vector<format::ThreadRecord> threads(trace.threads().begin(),
                                              trace.threads().end());
    for (auto& t : threads) {
      t.name = trace.ThreadName(t);
      t.end_ticks = trace.ThreadEndTicks(t);
    }
    TS_RETURN_IF_ERROR(stores.Copy<format::ThreadRecord>(
        kThreadsFile, StoreKind::kThreads, threads, /*mutable_records=*/true));
    TS_RETURN_IF_ERROR(stores.Copy(kMarksFile, StoreKind::kMarks, trace.marks()));
    TS_RETURN_IF_ERROR(
        stores.Copy(kFunctionsFile, StoreKind::kFunctions, trace.functions()));
    TS_RETURN_IF_ERROR(
        stores.Copy(kStringsFile, StoreKind::kStrings, trace.strings()));
    {
      auto bytes =
          stores.Create(kStringBytesFile, StoreKind::kStringBytes, 16);
      if (!bytes.ok()) return bytes.status();
      uint64_t n = 0;
      for (const StoreReader* s : trace.stores())
        if (s->kind() == StoreKind::kStringBytes) {
          n = s->count();
          if (!(*bytes)->AppendBytes(s->data(), n))
            return absl::DataLossError("could not write the string bytes");
        }
      TS_RETURN_IF_ERROR(stores.Check(**bytes, n));
    }
    if (!trace.code_ranges().empty())
      TS_RETURN_IF_ERROR(stores.Copy(kCodeRangesFile, StoreKind::kCodeRanges,
                                     trace.code_ranges()));
    // One events store per thread: its window.
    std::vector<format::SegmentRecord> segments;
    for (uint32_t i = 0; i < threads.size(); ++i) {
      const auto events = trace.events(i);
      auto store = stores.Create(EventsFileName(i), StoreKind::kEvents, 21, i);
      if (!store.ok()) return store.status();
      for (const auto& e : events) (*store)->Append(e);
      TS_RETURN_IF_ERROR(stores.Check(**store, events.size()));
      segments.push_back(format::SegmentRecord{
          0, events.size(), i, i, 1,
          trace.window_truncated(i) ? format::kSegmentStartsInWindow : 0u});
    }
    TS_RETURN_IF_ERROR(stores.Copy<format::SegmentRecord>(
        kSegmentsFile, StoreKind::kSegments, segments,
        /*mutable_records=*/true));
    return stores.CloseAll();
  }();
  auto* header = reinterpret_cast<format::TraceHeader*>(*map);
  if (status.ok())
    std::atomic_ref<uint32_t>(header->state)
        .store(static_cast<uint32_t>(format::TraceState::kClosed),
               std::memory_order_release);
  (*header_file)->Unmap(*map, format::kTraceFileBytes);
  return status;
}

}  // namespace tracestore
