// StoreWriter: chunk hand-over, sealing and close. The append fast path is
// inline in the header.

#include "tracestore/store_writer.h"

#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "event_budget.h"
#include "page_filler.h"

namespace tracestore {

using format::StoreHeader;

StoreWriter::StoreWriter(const Options& options, internal::PageFiller* filler,
                         std::unique_ptr<WritableFile> file)
    : options_(options),
      chunk_shift_(options.chunk_shift),
      chunk_bytes_(uint64_t{1} << options.chunk_shift),
      filler_(filler),
      file_(std::move(file)) {}

absl::StatusOr<std::unique_ptr<StoreWriter>> StoreWriter::Create(
    const Options& options, internal::PageFiller* filler) {
  const uint32_t record_bytes = format::RecordBytes(options.kind);
  if (record_bytes == 0)
    return absl::InvalidArgumentError("unknown store kind");
  if (options.chunk_shift < 12 || options.chunk_shift > 30)
    return absl::InvalidArgumentError("chunk_shift must be in [12, 30]");
  if (options.ring_budget != nullptr &&
      (options.kind != format::StoreKind::kEvents || options.mutable_records))
    return absl::InvalidArgumentError("only events stores can be rings");
  auto file = options.env->CreateWritable(options.path);
  if (!file.ok()) return file.status();
  std::unique_ptr<StoreWriter> store(
      new StoreWriter(options, filler, *std::move(file)));

  WritableFile& f = *store->file_;
  TS_RETURN_IF_ERROR(f.Allocate(store->ChunkOffset(1)));
  auto header = f.Map(0, format::kStoreHeaderBytes);
  if (!header.ok()) return header.status();
  store->header_ = reinterpret_cast<StoreHeader*>(*header);
  StoreHeader& h = *store->header_;
  std::memcpy(h.magic, format::kStoreMagic, sizeof(h.magic));
  const bool ring = options.ring_budget != nullptr;
  h.version = ring ? format::kRingFormatVersion : format::kFormatVersion;
  h.kind = static_cast<uint32_t>(options.kind);
  h.record_bytes = record_bytes;
  h.chunk_shift = options.chunk_shift;
  h.thread_index = options.thread_index;
  h.flags = (options.mutable_records ? format::kStoreMutableRecords : 0) |
            (ring ? format::kStoreRing : 0);
  h.data_offset = format::kStoreHeaderBytes;

  {
    // Only the start of the first chunk is pre-faulted here, on the caller's
    // thread (a new thread's first traced call); the filler does the rest.
    std::lock_guard<std::mutex> lock(store->service_mu_);
    TS_RETURN_IF_ERROR(store->PrepareChunkLocked(0, kFirstPopulateBytes));
    store->prepared_.store(1, std::memory_order_release);
    store->first_chunk_partial_ = store->chunk_bytes_ > kFirstPopulateBytes;
  }
  store->cur_ = store->ring_[0];
  store->end_ = store->cur_ + store->chunk_bytes_;
  filler->Add(store.get());
  return store;
}

StoreWriter::~StoreWriter() { Close().IgnoreError(); }

void StoreWriter::CountDrop() {
  if (header_ == nullptr) return;  // closed
  std::atomic_ref<uint64_t> dropped(header_->dropped);
  dropped.store(dropped.load(std::memory_order_relaxed) + 1,
                std::memory_order_relaxed);
}

bool StoreWriter::NextChunk() {
  if (stopped_ || closed_) {
    CountDrop();
    return false;
  }
  const uint64_t next = cur_chunk_ + 1;
  filled_.store(next, std::memory_order_release);
  filler_->Wake();
  if (prepared_.load(std::memory_order_acquire) <= next) {
    std::atomic_ref<uint64_t> waited(header_->waited);
    waited.store(waited.load(std::memory_order_relaxed) + 1,
                 std::memory_order_relaxed);
    for (;;) {
      uint32_t progress =
          filler_->progress().load(std::memory_order_acquire);
      if (prepared_.load(std::memory_order_acquire) > next) break;
      if (failed_.load(std::memory_order_acquire) || filler_->stopped()) {
        stopped_ = true;
        CountDrop();
        return false;
      }
      filler_->progress().wait(progress, std::memory_order_acquire);
    }
  }
  if (filler_->stopped()) {
    stopped_ = true;
    CountDrop();
    return false;
  }
  cur_chunk_ = next;
  cur_ = ring_[next % kRing];
  end_ = cur_ + chunk_bytes_;
  return true;
}

bool StoreWriter::AppendBytes(const void* data, size_t size) {
  const auto* p = static_cast<const std::byte*>(data);
  while (size > 0) {
    if (cur_ == end_ && !NextChunk()) return false;
    size_t n = std::min<size_t>(size, end_ - cur_);
    std::memcpy(cur_, p, n);
    cur_ += n;
    p += n;
    size -= n;
    count_ += n;
    Publish(count_);
  }
  return true;
}

std::byte* StoreWriter::RecordAddress(uint64_t index) {
  const uint64_t byte = index * header_->record_bytes;
  const uint64_t chunk = byte >> chunk_shift_;
  const uint64_t offset = byte & (chunk_bytes_ - 1);
  std::lock_guard<std::mutex> lock(service_mu_);
  if (chunk < retained_.size()) return retained_[chunk] + offset;
  return ring_[chunk % kRing] + offset;
}

absl::Status StoreWriter::PrepareChunkLocked(uint64_t chunk,
                                             uint64_t populate_bytes) {
  if (options_.ring_budget != nullptr) {
    if (!ring_fixed_ && chunk == slots_.size()) {
      const bool grow =
          chunk < internal::EventBudget::kMinSlots ||
          (slots_.size() < format::kMaxRingSlots &&
           options_.ring_budget->TakeGrowth());
      if (!grow) {
        ring_fixed_ = true;
        std::atomic_ref<uint64_t>(header_->ring_slots)
            .store(slots_.size(), std::memory_order_release);
      }
    }
    const uint64_t slot = ring_fixed_ ? chunk % slots_.size() : chunk;
    if (slot == slots_.size()) {
      const uint64_t offset = ChunkOffset(slot);
      TS_RETURN_IF_ERROR(file_->Allocate(offset + chunk_bytes_));
      auto p = file_->Map(offset, chunk_bytes_);
      if (!p.ok()) return p.status();
      if (absl::Status s =
              file_->Populate(*p, std::min(populate_bytes, chunk_bytes_));
          !s.ok()) {
        file_->Unmap(*p, chunk_bytes_);
        return s;
      }
      slots_.push_back(*p);
    }
    // Before the writer can write a byte of it (it acquires prepared_, which
    // the caller stores after this): readers that copied the slot's old
    // chunk see the change and discard their copy (format.h, RingSlot).
    std::atomic_ref<uint64_t>(header_->ring[slot].chunk)
        .store(chunk + 1, std::memory_order_release);
    ring_[chunk % kRing] = slots_[slot];
    return absl::OkStatus();
  }
  const uint64_t offset = ChunkOffset(chunk);
  TS_RETURN_IF_ERROR(file_->Allocate(offset + chunk_bytes_));
  auto p = file_->Map(offset, chunk_bytes_);
  if (!p.ok()) return p.status();
  if (absl::Status s =
          file_->Populate(*p, std::min(populate_bytes, chunk_bytes_));
      !s.ok()) {
    file_->Unmap(*p, chunk_bytes_);
    return s;
  }
  ring_[chunk % kRing] = *p;
  return absl::OkStatus();
}

void StoreWriter::SealLocked(uint64_t filled) {
  const bool checksummed = !options_.mutable_records;
  if (options_.ring_budget != nullptr) {
    // Ring slots stay mapped; the checksum goes to the slot's entry.
    for (; done_ < filled; ++done_) {
      const uint64_t slot = ring_fixed_ ? done_ % slots_.size() : done_;
      format::RingSlot& r = header_->ring[slot];
      r.checksum = XXH64(ring_[done_ % kRing], chunk_bytes_, 0);
      std::atomic_ref<uint64_t>(r.sealed).store(done_ + 1,
                                                std::memory_order_release);
      sealed_ = done_ + 1;
      std::atomic_ref<uint64_t>(header_->sealed_chunks)
          .store(sealed_, std::memory_order_release);
      ring_[done_ % kRing] = nullptr;
    }
    return;
  }
  for (; done_ < filled; ++done_) {
    std::byte* chunk = ring_[done_ % kRing];
    if (checksummed && done_ == sealed_ && sealed_ < format::kMaxSealedChunks) {
      header_->chunk_checksums[sealed_] = XXH64(chunk, chunk_bytes_, 0);
      ++sealed_;
      std::atomic_ref<uint64_t>(header_->sealed_chunks)
          .store(sealed_, std::memory_order_release);
    }
    if (options_.mutable_records) {
      retained_.push_back(chunk);
    } else {
      file_->Unmap(chunk, chunk_bytes_);
    }
    ring_[done_ % kRing] = nullptr;
  }
}

void StoreWriter::ServiceLocked() {
  if (closed_) return;
  const uint64_t filled = filled_.load(std::memory_order_acquire);
  SealLocked(filled);
  if (first_chunk_partial_ && done_ == 0) {
    // The rest of chunk 0 (the writer may be writing its start meanwhile:
    // populating a present page is a no-op). Space is allocated already,
    // so a failure here is not a full disk; the writer faults the pages in.
    (void)file_->Populate(ring_[0] + kFirstPopulateBytes,
                          chunk_bytes_ - kFirstPopulateBytes);
    first_chunk_partial_ = false;
  }
  uint64_t prepared = prepared_.load(std::memory_order_relaxed);
  // A store that has not filled its first chunk gets one chunk ahead, not
  // kAhead: most threads of a thread-heavy program record little.
  const uint64_t want = filled + 1 + (filled == 0 ? 1 : kAhead);
  while (prepared < want && prepared - done_ < kRing &&
         !failed_.load(std::memory_order_relaxed) && !filler_->stopped()) {
    if (absl::Status s = PrepareChunkLocked(prepared); !s.ok()) {
      failed_.store(true, std::memory_order_release);
      filler_->Stop(s);
      break;
    }
    ++prepared;
    prepared_.store(prepared, std::memory_order_release);
    filler_->NotifyProgress();
  }
}

absl::Status StoreWriter::Close() {
  if (closed_ || header_ == nullptr) return absl::OkStatus();
  filler_->Remove(this);
  std::lock_guard<std::mutex> lock(service_mu_);
  closed_ = true;
  // Chunks before the current one are full: seal them here if the filler
  // has not yet.
  SealLocked(cur_chunk_);
  StoreHeader& h = *header_;
  const uint64_t record_bytes = h.record_bytes;
  // The tail is what follows the sealed chunks: part of the current chunk,
  // or nothing when the current chunk was full and sealed (recording
  // stopped at a chunk boundary).
  const bool ring = options_.ring_budget != nullptr;
  if (!options_.mutable_records && sealed_ >= cur_chunk_ &&
      (ring || sealed_ < format::kMaxSealedChunks)) {
    const uint64_t tail = count_ - ((sealed_ << chunk_shift_) / record_bytes);
    const std::byte* p = tail > 0 ? ring_[sealed_ % kRing] : nullptr;
    h.tail_records = tail;
    h.tail_checksum = XXH64(p, tail * record_bytes, 0);
  }
  // Release the chunks mapped for writing, then the retained ones.
  const uint64_t prepared = prepared_.load(std::memory_order_acquire);
  for (uint64_t c = done_; c < prepared; ++c) {
    if (ring_[c % kRing] != nullptr && !ring)
      file_->Unmap(ring_[c % kRing], chunk_bytes_);
    ring_[c % kRing] = nullptr;
  }
  for (std::byte* slot : slots_) file_->Unmap(slot, chunk_bytes_);
  slots_.clear();
  for (std::byte* chunk : retained_) file_->Unmap(chunk, chunk_bytes_);
  retained_.clear();
  cur_ = end_ = nullptr;
  std::atomic_ref<uint32_t>(h.closed).store(1, std::memory_order_release);
  file_->Unmap(reinterpret_cast<std::byte*>(header_), format::kStoreHeaderBytes);
  header_ = nullptr;
  // Drop the space allocated ahead; readers never look past committed.
  // Only when that is worth it: a truncation makes the file system write
  // out the dirty pages it drops (ext4 data=ordered), milliseconds per
  // store on the program's exit path. The small stores (64 KiB chunks)
  // keep their few chunks ahead, zeros past committed.
  const uint64_t end = format::kStoreHeaderBytes + count_ * record_bytes;
  absl::Status s;
  // A ring that wrapped keeps every slot: its records are not a prefix.
  if (!ring_fixed_ && ChunkOffset(prepared) >= end + kTruncateMinBytes)
    s = file_->Truncate(end);
  file_.reset();  // closes the descriptor: a closed store holds none
  return s;
}

}  // namespace tracestore
