// WriteAt, ReadAt: pwrite/pread until done.

#include "file_io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tracestore::cli {

namespace {

// Calls io(p + done, size - done, offset + done) until `size` bytes are
// done; 0 bytes is `at_zero`.
template <class Byte, class Io>
absl::Status Whole(Io io, Byte* p, size_t size, uint64_t offset,
                   const char* doing, const char* what,
                   const char* at_zero) {
  for (size_t done = 0; done < size;) {
    const ssize_t n =
        io(p + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return absl::InternalError(absl::StrCat(
          doing, " ", what, ": ", n < 0 ? std::strerror(errno) : at_zero));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteAt(int fd, uint64_t offset, std::string_view bytes,
                     const char* what) {
  return Whole(
      [fd](const char* p, size_t n, off_t at) { return ::pwrite(fd, p, n, at); },
      bytes.data(), bytes.size(), offset, "writing", what, "no space");
}

absl::Status ReadAt(int fd, uint64_t offset, void* data, size_t size,
                    const char* what) {
  return Whole(
      [fd](char* p, size_t n, off_t at) { return ::pread(fd, p, n, at); },
      static_cast<char*>(data), size, offset, "reading", what, "short");
}

}  // namespace tracestore::cli
