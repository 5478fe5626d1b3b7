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
  if (h.version != format::kFormatVersion)
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": format version ", h.version,
                     ", this build reads version ", format::kFormatVersion));
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
