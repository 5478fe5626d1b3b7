// The file and mapping interface the writer and reader work over.
//
// Encoding lives in the writer and reader; every byte they touch on disk goes
// through these classes, so tests can inject faults (a disk that fills up, a
// mapping that cannot be backed) without root or a special file system.
//
//   Env* env = Env::Default();
//   auto file = env->CreateWritable("/tmp/t/events.0.store");
//   TS_RETURN_IF_ERROR((*file)->Allocate(1 << 20));     // ENOSPC shows here
//   auto p = (*file)->Map(0, 1 << 20);                   // MAP_SHARED, RW
//   TS_RETURN_IF_ERROR((*file)->Populate(*p, 1 << 20)); // pre-fault pages
//
// Thread-safety: an Env is safe to use from many threads. A WritableFile may be
// used from several threads as long as calls on the same range do not race.

#ifndef TRACESTORE_ENV_H_
#define TRACESTORE_ENV_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Debian's Abseil (20220623) has no RETURN_IF_ERROR; this is ours.
#define TS_RETURN_IF_ERROR(expr)                      \
  do {                                                \
    if (absl::Status ts_status_ = (expr); !ts_status_.ok()) \
      return ts_status_;                              \
  } while (0)

namespace tracestore {

// A file a writer grows and maps shared, read-write.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Makes sure bytes [0, size) exist and have disk blocks reserved, so that
  // writing them through a mapping cannot fail later. Fails with
  // ResourceExhausted on a full disk.
  virtual absl::Status Allocate(uint64_t size) = 0;
  // Maps [offset, offset + length) shared and read-write. offset is a
  // multiple of the page size.
  virtual absl::StatusOr<std::byte*> Map(uint64_t offset, uint64_t length) = 0;
  // Faults in the pages of a mapping for writing, off the hot path. Fails
  // (instead of a later SIGBUS) when the pages cannot be backed.
  virtual absl::Status Populate(std::byte* addr, uint64_t length) = 0;
  virtual void Unmap(std::byte* addr, uint64_t length) = 0;
  // Sets the file's size (used at close to drop pre-allocated space).
  virtual absl::Status Truncate(uint64_t size) = 0;
  virtual const std::string& path() const = 0;
};

// A file a reader maps shared, read-only. Needs no write permission. It holds
// no file descriptor between calls (each Map() opens, maps and closes), so a
// reader of thousands of stores keeps no descriptor open per store.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // The current size of the file in bytes (it may grow while being written).
  virtual absl::StatusOr<uint64_t> Size() = 0;
  // Maps [0, length) read-only. length may exceed the file's size: pages past
  // the end become readable as the file grows. The caller reads only below
  // Size().
  virtual absl::StatusOr<const std::byte*> Map(uint64_t length) = 0;
  virtual void Unmap(const std::byte* addr, uint64_t length) = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX environment. Never destroyed.
  static Env* Default();

  // Creates a new directory; fails if it exists and is not empty.
  virtual absl::Status CreateDir(const std::string& path) = 0;
  // Creates a new file (fails if it exists).
  virtual absl::StatusOr<std::unique_ptr<WritableFile>> CreateWritable(
      const std::string& path) = 0;
  // Opens a regular file for reading. Anything else (a FIFO, a device node,
  // a directory, a symlink) is refused with InvalidArgument before it is
  // opened: a reader never blocks in open() or opens a device.
  virtual absl::StatusOr<std::unique_ptr<ReadableFile>> OpenReadable(
      const std::string& path) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  // Renames a file or a directory (rename(2)): a file replaces `to`; a
  // directory may replace `to` if it is empty.
  virtual absl::Status Rename(const std::string& from, const std::string& to) = 0;
  // Removes a directory and the files in it (not recursive).
  virtual absl::Status RemoveDir(const std::string& path) = 0;
  virtual absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) = 0;
};

// Turns errno into a Status that names the operation and the file.
absl::Status ErrnoStatus(int err, const std::string& what,
                         const std::string& path);

}  // namespace tracestore

#endif  // TRACESTORE_ENV_H_
