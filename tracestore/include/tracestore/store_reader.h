// StoreReader: a read-only view of one store file, live or closed.
//
//   auto store = StoreReader::Open(env, "run.trace/events.0.store",
//                                  format::StoreKind::kEvents);
//   for (const auto& e : (*store)->Records<format::EventRecord>()) ...
//   (*store)->Refresh();   // pick up what the writer committed since
//
// The reader needs no write permission. It reads the committed count with
// acquire semantics, so it always sees a consistent prefix of whole records.
// A file shorter than its committed count (a torn or truncated tail) is
// reported in problem() and read up to what the file holds.
//
// Checksums: every sealed chunk is hashed (xxHash64) once, by the refresh
// that first shows it, and the tail of a closed store once it is whole; a
// mismatch is reported in AddProblemsTo() and the records are still shown.
// The store is mapped at exactly its size once closed, with bounded room to
// grow while live, and keeps no file descriptor open (env.h).
//
// Ring stores (format.h, "Ring event stores"; a flight recorder's events):
// each Refresh() copies the store's current window into memory the reader
// owns, seqlock-style: a chunk's slot entry is loaded before and after its
// copy, and a chunk whose slot was reused meanwhile is left out (with every
// older one), so Records() never shows a torn or half-overwritten record.
// Records() then holds records [first(), first() + count()) of the store's
// record sequence; first() is 0 for every other store.
//
// Thread-safety: one thread at a time. Spans from Records() stay valid until
// the next Refresh() that changes generation() (a remap, or a ring's new
// copy), or destruction.

#ifndef TRACESTORE_STORE_READER_H_
#define TRACESTORE_STORE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/env.h"
#include "tracestore/format.h"
#include "tracestore/problems.h"

namespace tracestore {

class StoreReader {
 public:
  // Opens and validates the header. Fails with a clear message when the file
  // is missing, too short, not a store, of another version or kind.
  static absl::StatusOr<std::unique_ptr<StoreReader>> Open(
      Env* env, const std::string& path,
      std::optional<format::StoreKind> expected_kind = std::nullopt);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  // Re-reads the committed count and maps any growth.
  absl::Status Refresh();

  // Records visible as of the last Open/Refresh (Records().size()).
  uint64_t count() const { return count_; }
  // The index, in the store's record sequence, of Records()[0]: where a
  // ring's window starts (0 for other stores).
  uint64_t first() const { return first_; }
  bool ring() const { return ring_; }
  // Ring stores: how many times a refresh found the window start moved.
  uint64_t window_moves() const { return window_moves_; }
  // The committed count the header claimed at the last refresh (differs from
  // count() only for a truncated file).
  uint64_t committed() const { return committed_; }
  const std::byte* data() const {
    return ring_ ? window_.data() : map_ + format::kStoreHeaderBytes;
  }
  template <class R>
  std::span<const R> Records() const {
    return {reinterpret_cast<const R*>(data()), static_cast<size_t>(count_)};
  }

  // The mapped header (fields that change are read through atomics by the
  // accessors below).
  const format::StoreHeader& header() const { return *header_; }
  format::StoreKind kind() const {
    return static_cast<format::StoreKind>(header_->kind);
  }
  uint32_t record_bytes() const { return header_->record_bytes; }
  uint64_t chunk_bytes() const { return uint64_t{1} << header_->chunk_shift; }
  uint64_t sealed_chunks() const;
  // Ring stores: sealed_chunks() as loaded just before the committed count
  // of the last refresh (so at most that count's full chunks).
  uint64_t sealed_at_refresh() const { return sealed_at_refresh_; }
  uint64_t waited() const;
  uint64_t dropped() const;
  bool closed() const;

  // Empty when sound; otherwise what is wrong with the tail.
  const std::string& problem() const { return problem_; }
  // The torn tail and any checksum mismatches found so far.
  void AddProblemsTo(Problems& out) const;
  bool has_problems() const {
    return !problem_.empty() || !checksum_problems_.empty();
  }
  // Checksums verified so far (sealed chunks and the closed tail).
  uint64_t chunks_checked() const { return chunks_checked_; }
  uint64_t generation() const { return generation_; }
  const std::string& path() const { return file_->path(); }

 private:
  explicit StoreReader(std::unique_ptr<ReadableFile> file)
      : file_(std::move(file)) {}
  absl::Status MapAtLeast(uint64_t bytes);
  void VerifyNewChunks();
  absl::Status RefreshRing();

  std::unique_ptr<ReadableFile> file_;
  const std::byte* map_ = nullptr;
  uint64_t map_bytes_ = 0;
  const format::StoreHeader* header_ = nullptr;
  uint64_t count_ = 0;
  uint64_t committed_ = 0;
  uint64_t generation_ = 0;
  std::string problem_;
  uint64_t verified_chunks_ = 0;  // chunks [0, n) have been hashed
  bool tail_verified_ = false;
  uint64_t chunks_checked_ = 0;
  std::vector<std::string> checksum_problems_;
  // Ring stores.
  bool ring_ = false;
  uint64_t first_ = 0;
  uint64_t window_moves_ = 0;
  bool ring_final_ = false;
  bool copied_ = false;  // a window was copied (committed_ is its end)
  uint64_t sealed_at_refresh_ = 0;  // closed and copied: never changes again
  std::vector<std::byte> window_;
};

}  // namespace tracestore

#endif  // TRACESTORE_STORE_READER_H_
