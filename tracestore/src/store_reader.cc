// StoreReader: header validation, live refresh, torn-tail handling, and the
// chunk checksums of what it reads.

#include "tracestore/store_reader.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tracestore {

namespace {

// A live store is mapped with as much room again as it holds (up to this),
// so a growing store remaps O(log size) times while the address space a
// reader reserves stays proportional to what the trace holds.
constexpr uint64_t kMaxLiveSlackBytes = uint64_t{64} << 20;
constexpr uint64_t kPageBytes = 4096;

uint64_t LoadAcquire(const uint64_t& field) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(field))
      .load(std::memory_order_acquire);
}

uint64_t RoundUp(uint64_t n, uint64_t to) { return (n + to - 1) / to * to; }

}  // namespace

absl::StatusOr<std::unique_ptr<StoreReader>> StoreReader::Open(
    Env* env, const std::string& path,
    std::optional<format::StoreKind> expected_kind) {
  auto file = env->OpenReadable(path);
  if (!file.ok()) return file.status();
  std::unique_ptr<StoreReader> store(new StoreReader(*std::move(file)));
  auto size = store->file_->Size();
  if (!size.ok()) return size.status();
  if (*size < format::kStoreHeaderBytes)
    return absl::DataLossError(absl::StrCat(
        path, ": truncated: ", *size, " bytes, shorter than the ",
        format::kStoreHeaderBytes, "-byte store header"));
  // The header alone first: how much more to map depends on it.
  TS_RETURN_IF_ERROR(store->MapAtLeast(format::kStoreHeaderBytes));
  const format::StoreHeader& h = *store->header_;
  if (std::memcmp(h.magic, format::kStoreMagic, sizeof(h.magic)) != 0)
    return absl::DataLossError(
        absl::StrCat(path, ": not a tracestore store (bad magic)"));
  const bool ring = (h.flags & format::kStoreRing) != 0;
  if (h.version != (ring ? format::kRingFormatVersion : format::kFormatVersion))
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": format version ", h.version, ring ? " (a ring store)" : "",
        ", this build reads versions ", format::kFormatVersion, " and ",
        format::kRingFormatVersion, " (ring events stores)"));
  const auto kind = static_cast<format::StoreKind>(h.kind);
  const uint32_t record_bytes = format::RecordBytes(kind);
  if (record_bytes == 0)
    return absl::DataLossError(
        absl::StrCat(path, ": unknown store kind ", h.kind));
  if (expected_kind && kind != *expected_kind)
    return absl::DataLossError(absl::StrCat(
        path, ": store kind ", h.kind, ", expected ",
        static_cast<uint32_t>(*expected_kind)));
  if (h.record_bytes != record_bytes)
    return absl::DataLossError(absl::StrCat(path, ": record size ",
                                            h.record_bytes, ", expected ",
                                            record_bytes));
  if (h.chunk_shift < 12 || h.chunk_shift > 30)
    return absl::DataLossError(
        absl::StrCat(path, ": bad chunk size 2^", h.chunk_shift));
  if (h.data_offset != format::kStoreHeaderBytes)
    return absl::DataLossError(
        absl::StrCat(path, ": bad data offset ", h.data_offset));
  if (ring && (kind != format::StoreKind::kEvents ||
               (h.flags & format::kStoreMutableRecords) != 0))
    return absl::DataLossError(
        absl::StrCat(path, ": a ring store that is not an events store"));
  store->ring_ = ring;
  TS_RETURN_IF_ERROR(store->Refresh());
  return store;
}

StoreReader::~StoreReader() {
  if (map_ != nullptr) file_->Unmap(map_, map_bytes_);
}

absl::Status StoreReader::MapAtLeast(uint64_t bytes) {
  if (bytes <= map_bytes_) return absl::OkStatus();
  // A closed store never grows: map exactly what it holds. A live one gets
  // room to grow so that growth rarely needs a remap.
  const bool live = header_ != nullptr && !closed();
  uint64_t want = RoundUp(bytes, kPageBytes);
  if (live) want = RoundUp(bytes + std::min(bytes, kMaxLiveSlackBytes), kPageBytes);
  auto map = file_->Map(want);
  if (!map.ok()) return map.status();
  if (map_ != nullptr) file_->Unmap(map_, map_bytes_);
  map_ = *map;
  map_bytes_ = want;
  header_ = reinterpret_cast<const format::StoreHeader*>(map_);
  ++generation_;
  return absl::OkStatus();
}

absl::Status StoreReader::Refresh() {
  if (ring_) return RefreshRing();
  committed_ = LoadAcquire(header_->committed);
  const uint64_t record_bytes = header_->record_bytes;
  auto size = file_->Size();
  if (!size.ok()) return size.status();
  const uint64_t in_file =
      *size < format::kStoreHeaderBytes
          ? 0
          : (*size - format::kStoreHeaderBytes) / record_bytes;
  if (committed_ > in_file) {
    problem_ = absl::StrCat(path(), ": truncated: header says ", committed_,
                            " records, the file holds ", in_file);
    count_ = in_file;
  } else {
    problem_.clear();
    count_ = committed_;
  }
  TS_RETURN_IF_ERROR(
      MapAtLeast(format::kStoreHeaderBytes + count_ * record_bytes));
  VerifyNewChunks();
  return absl::OkStatus();
}

// Each sealed chunk is hashed once, when a refresh first makes it visible;
// sealed chunks never change, so later refreshes hash only new ones.
void StoreReader::VerifyNewChunks() {
  const format::StoreHeader& h = *header_;
  if (h.flags & format::kStoreMutableRecords) return;  // no checksums
  const uint64_t chunk = chunk_bytes();
  const uint64_t per_chunk = chunk / record_bytes();
  const uint64_t claimed = sealed_chunks();
  const uint64_t sealed = std::min(
      {claimed, count_ / per_chunk, uint64_t{format::kMaxSealedChunks}});
  for (; verified_chunks_ < sealed; ++verified_chunks_) {
    const uint64_t c = verified_chunks_;
    ++chunks_checked_;
    if (XXH64(data() + c * chunk, chunk, 0) != h.chunk_checksums[c])
      checksum_problems_.push_back(absl::StrCat(
          path(), ": checksum mismatch in chunk ", c, " (records ",
          c * per_chunk, "..", (c + 1) * per_chunk - 1, ")"));
  }
  // The tail, once the store is closed and whole: its sealed chunks are
  // all there and they and the tail cover exactly the committed records.
  if (tail_verified_ || !closed() || count_ != committed_ ||
      claimed != sealed || sealed >= format::kMaxSealedChunks ||
      h.tail_records >= per_chunk ||
      sealed * per_chunk + h.tail_records != committed_)
    return;
  tail_verified_ = true;
  ++chunks_checked_;
  if (XXH64(data() + sealed * chunk, h.tail_records * record_bytes(), 0) !=
      h.tail_checksum)
    checksum_problems_.push_back(
        absl::StrCat(path(), ": checksum mismatch in the last chunk"));
}

// The newest run of chunks whose slots still hold them, copied and then
// re-checked (format.h, RingSlot).
absl::Status StoreReader::RefreshRing() {
  if (ring_final_) return absl::OkStatus();
  const format::StoreHeader* h = header_;
  // closed first: once it reads 1, committed below is final.
  const bool was_closed = closed();
  // Before committed, so that it never exceeds the full chunks of it.
  sealed_at_refresh_ = LoadAcquire(h->sealed_chunks);
  const uint64_t committed = LoadAcquire(h->committed);
  // Nothing appended since the last copy: that copy is still a consistent
  // window (a slot the filler prepared since held no record we show that
  // changed; only appends overwrite records). Not once closed: the tail's
  // checksum is checked below.
  if (copied_ && committed == committed_ && !was_closed) return absl::OkStatus();
  copied_ = true;
  // After committed: a count that covers a reused slot's records comes
  // with the ring size that maps them (the writer stores it first).
  const uint64_t fixed = LoadAcquire(h->ring_slots);
  auto size = file_->Size();
  if (!size.ok()) return size.status();
  const uint64_t chunk = chunk_bytes();
  const uint64_t rb = record_bytes();
  const uint64_t per_chunk = chunk / rb;
  const uint64_t in_file = std::min<uint64_t>(
      *size < format::kStoreHeaderBytes
          ? 0
          : (*size - format::kStoreHeaderBytes) / chunk +
                // a truncated grow-phase store: whole records of its last slot
                ((*size - format::kStoreHeaderBytes) % chunk != 0),
      format::kMaxRingSlots);
  TS_RETURN_IF_ERROR(MapAtLeast(std::min<uint64_t>(
      *size, format::kStoreHeaderBytes + in_file * chunk)));
  h = header_;
  const uint64_t file_bytes =
      std::min<uint64_t>(*size, format::kStoreHeaderBytes + in_file * chunk);
  const uint64_t old_first = first_;
  committed_ = committed;
  problem_.clear();
  auto slot_of = [&](uint64_t c) { return fixed != 0 ? c % fixed : c; };
  auto slot_entry = [&](uint64_t c) -> const format::RingSlot& {
    return h->ring[slot_of(c)];
  };
  // Records of chunk c that the file holds (a truncated file may end
  // inside its last slot).
  auto records_in_file = [&](uint64_t c) -> uint64_t {
    const uint64_t begin = format::kStoreHeaderBytes + slot_of(c) * chunk;
    if (slot_of(c) >= in_file || begin >= file_bytes) return 0;
    return std::min<uint64_t>(per_chunk, (file_bytes - begin) / rb);
  };
  uint64_t lo = 0, hi = 0;  // chunks [lo, hi) to copy
  if (committed > 0) {
    const uint64_t last = (committed - 1) / per_chunk;
    hi = last + 1;
    lo = hi;
    while (lo > 0) {
      const uint64_t c = lo - 1;
      if (fixed != 0 && last - c >= fixed) break;
      if (slot_of(c) >= in_file) break;
      if (LoadAcquire(slot_entry(c).chunk) != c + 1) break;
      const uint64_t want =
          c == last ? committed - c * per_chunk : per_chunk;
      if (records_in_file(c) < want) {
        problem_ = absl::StrCat(path(), ": truncated: chunk ", c,
                                " is not all in the file");
        break;
      }
      lo = c;
    }
  }
  // Copy, then check every slot again: a chunk whose slot was reused while
  // we copied is dropped, with every chunk before it.
  window_.clear();
  std::vector<uint64_t> sealed_sums;  // per copied chunk: checksum, or 0
  std::vector<bool> sealed;
  if (lo < hi) {
    window_.resize((committed - lo * per_chunk) * rb);
    for (uint64_t c = lo; c < hi; ++c) {
      const format::RingSlot& e = slot_entry(c);
      const bool s = LoadAcquire(e.sealed) == c + 1;
      sealed.push_back(s);
      sealed_sums.push_back(s ? LoadAcquire(e.checksum) : 0);
      const uint64_t n =
          (c + 1 == hi ? committed - c * per_chunk : per_chunk) * rb;
      std::memcpy(window_.data() + (c - lo) * chunk,
                  map_ + format::kStoreHeaderBytes + slot_of(c) * chunk, n);
    }
    std::atomic_thread_fence(std::memory_order_acquire);
    uint64_t valid = lo;
    for (uint64_t c = lo; c < hi; ++c)
      if (std::atomic_ref<uint64_t>(
              const_cast<uint64_t&>(slot_entry(c).chunk))
              .load(std::memory_order_relaxed) != c + 1)
        valid = c + 1;
    if (valid > lo) {
      const uint64_t drop = (valid - lo) * chunk;
      window_.erase(window_.begin(),
                    window_.begin() + static_cast<ptrdiff_t>(
                                          std::min<uint64_t>(drop, window_.size())));
      sealed.erase(sealed.begin(), sealed.begin() + (valid - lo));
      sealed_sums.erase(sealed_sums.begin(),
                        sealed_sums.begin() + (valid - lo));
      lo = valid;
    }
  }
  first_ = lo < hi ? lo * per_chunk : committed;
  count_ = committed - first_;
  if (first_ > old_first) ++window_moves_;
  ++generation_;
  // Checksums: each sealed chunk once, as it first shows; the tail once
  // the store is closed.
  // Only chunks the window holds whole: the writer may have sealed the
  // last one after we read `committed`.
  const uint64_t whole = std::min(hi, committed / per_chunk);
  for (uint64_t c = lo; c < whole; ++c) {
    if (!sealed[c - lo] || c < verified_chunks_) continue;
    verified_chunks_ = c + 1;
    ++chunks_checked_;
    if (XXH64(window_.data() + (c - lo) * chunk, chunk, 0) != sealed_sums[c - lo])
      checksum_problems_.push_back(absl::StrCat(
          path(), ": checksum mismatch in chunk ", c, " (records ",
          c * per_chunk, "..", (c + 1) * per_chunk - 1, ")"));
  }
  if (was_closed && lo < hi && !tail_verified_) {
    const uint64_t sealed = LoadAcquire(h->sealed_chunks);
    if (sealed * per_chunk + h->tail_records == committed && sealed >= lo &&
        sealed < hi) {
      tail_verified_ = true;
      ++chunks_checked_;
      if (XXH64(window_.data() + (sealed - lo) * chunk, h->tail_records * rb,
                0) != h->tail_checksum)
        checksum_problems_.push_back(
            absl::StrCat(path(), ": checksum mismatch in the last chunk"));
    }
  }
  if (was_closed) ring_final_ = true;
  return absl::OkStatus();
}

void StoreReader::AddProblemsTo(Problems& out) const {
  if (!problem_.empty()) out.Add(ProblemKind::kTruncated, problem_);
  for (const std::string& p : checksum_problems_)
    out.Add(ProblemKind::kChecksum, p);
}

uint64_t StoreReader::sealed_chunks() const {
  return LoadAcquire(header_->sealed_chunks);
}
uint64_t StoreReader::waited() const {
  return LoadAcquire(header_->waited);
}
uint64_t StoreReader::dropped() const {
  return LoadAcquire(header_->dropped);
}
bool StoreReader::closed() const {
  return std::atomic_ref<uint32_t>(const_cast<uint32_t&>(header_->closed))
             .load(std::memory_order_acquire) != 0;
}

}  // namespace tracestore
