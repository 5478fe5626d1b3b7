// StoreWriter: appends fixed-size records to one store file.
//
// The file grows in chunks mapped MAP_SHARED. A background PageFiller extends
// the file, maps and pre-faults the next chunks before the writer reaches
// them, and checksums and unmaps the chunks it has left, so a steady-state
// append is a compare, a copy and a store of the committed count:
//
//   auto store = StoreWriter::Create({env, path, StoreKind::kEvents, 23, 0},
//                                    &filler);
//   (*store)->Append(format::EventRecord{...});   // one writer thread only
//   (*store)->Close();
//
// Thread-safety: Append/AppendBytes/Close are for ONE writer thread at a time
// (callers serialise shared stores with their own mutex). The PageFiller
// thread touches only the chunk hand-over state, through atomics and
// service_mu_. Readers in other processes see the committed count, which is
// stored with release semantics after the record bytes.

#ifndef TRACESTORE_STORE_WRITER_H_
#define TRACESTORE_STORE_WRITER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/env.h"
#include "tracestore/format.h"

namespace tracestore {

namespace internal {
class PageFiller;
class EventBudget;
}

class StoreWriter {
 public:
  struct Options {
    Env* env = nullptr;
    std::string path;
    format::StoreKind kind = format::StoreKind::kEvents;
    uint32_t chunk_shift = 21;  // 2 MiB chunks
    uint32_t thread_index = 0;
    // Records may be rewritten in place (RecordAddress); such a store keeps
    // every chunk mapped and carries no checksums.
    bool mutable_records = false;
    // Ring mode (events stores of a flight recorder, format.h "Ring event
    // stores"): the store grows while `ring_budget` grants chunks, then
    // reuses its oldest chunk. The caller has taken the store's minimum
    // from the budget (EventBudget::TakeStore). The append path is the
    // same; a reused chunk is already allocated, mapped and faulted in.
    internal::EventBudget* ring_budget = nullptr;
  };

  // Creates the file, maps and pre-faults its first chunk, and registers
  // with `filler`, which must outlive the store.
  static absl::StatusOr<std::unique_ptr<StoreWriter>> Create(
      const Options& options, internal::PageFiller* filler);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Appends one record. R must be the store's record type.
  template <class R>
  inline void Append(const R& record) {
    if (TryAppend(record)) [[likely]]
      return;
    if (NextChunk()) TryAppend(record);  // a fresh chunk has room
  }
  // Appends one record if the current chunk has room for it (true), else
  // does nothing (false): Append without its out-of-line call, for hot
  // paths that must not need a stack frame.
  template <class R>
  inline bool TryAppend(const R& record) {
    static_assert(std::is_trivially_copyable_v<R>);
    if (cur_ == end_) [[unlikely]]
      return false;
    std::memcpy(cur_, &record, sizeof(R));
    cur_ += sizeof(R);
    Publish(++count_);
    return true;
  }

  // Appends raw bytes to a byte store (record_bytes == 1), across chunks.
  // Returns false if recording stopped before all bytes were written.
  bool AppendBytes(const void* data, size_t size);

  // Records committed so far (by this writer).
  uint64_t count() const { return count_; }
  // True once this store can take no more records (disk full, I/O error).
  bool failed() const { return failed_.load(std::memory_order_relaxed); }

  // Address of record `index` < count() of a mutable_records store, for an
  // in-place update. Stores into it should be single aligned words.
  std::byte* RecordAddress(uint64_t index);

  // Seals the last chunk, marks the store closed, trims pre-allocated
  // space and closes the file (its descriptor is released at once).
  // Idempotent.
  absl::Status Close();

  const std::string& path() const { return options_.path; }

 private:
  friend class internal::PageFiller;
  static constexpr uint32_t kRing = 4;   // chunk slots in flight
  static constexpr uint32_t kAhead = 2;  // chunks prepared past the current
  // Bytes of the first chunk pre-faulted by Create() itself.
  static constexpr uint64_t kFirstPopulateBytes = 64 * 1024;
  // Close() gives back the space allocated ahead when it is this much.
  static constexpr uint64_t kTruncateMinBytes = 1024 * 1024;

  StoreWriter(const Options& options, internal::PageFiller* filler,
              std::unique_ptr<WritableFile> file);

  void Publish(uint64_t count) {
    std::atomic_ref<uint64_t>(header_->committed)
        .store(count, std::memory_order_release);
  }
  // Moves to the next chunk; false if recording stopped (the append is
  // counted as dropped).
  bool NextChunk();
  void CountDrop();
  uint64_t ChunkOffset(uint64_t chunk) const {
    return format::kStoreHeaderBytes + (chunk << chunk_shift_);
  }
  // PageFiller thread (or Close): checksum/unmap full chunks, prepare the
  // next ones. Called with service_mu_ held.
  void ServiceLocked();
  void SealLocked(uint64_t filled);
  absl::Status PrepareChunkLocked(uint64_t chunk,
                                  uint64_t populate_bytes = UINT64_MAX);

  // Hot: the writer thread's cursor.
  std::byte* cur_ = nullptr;
  std::byte* end_ = nullptr;
  uint64_t count_ = 0;
  format::StoreHeader* header_ = nullptr;
  uint64_t cur_chunk_ = 0;
  bool stopped_ = false;

  const Options options_;
  const uint32_t chunk_shift_;
  const uint64_t chunk_bytes_;
  internal::PageFiller* const filler_;
  std::unique_ptr<WritableFile> file_;
  bool closed_ = false;

  // Hand-over between the writer and the PageFiller.
  alignas(64) std::atomic<uint64_t> filled_{0};  // chunks the writer left
  alignas(64) std::atomic<uint64_t> prepared_{0};  // chunks ready to write
  std::atomic<bool> failed_{false};
  std::byte* ring_[kRing] = {};  // chunk c lives in ring_[c % kRing]

  std::mutex service_mu_;
  uint64_t done_ = 0;     // chunks checksummed (if possible) and released
  uint64_t sealed_ = 0;   // chunks with a checksum in the header
  std::vector<std::byte*> retained_;  // mutable stores: every left chunk
  bool first_chunk_partial_ = false;  // chunk 0 not fully pre-faulted yet
  // Ring mode: every slot stays mapped; the ring is fixed once it may not
  // grow.
  std::vector<std::byte*> slots_;
  bool ring_fixed_ = false;
};

}  // namespace tracestore

#endif  // TRACESTORE_STORE_WRITER_H_
