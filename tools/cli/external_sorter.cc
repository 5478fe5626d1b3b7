// TempFile: the external sorter's spill file.

#include "external_sorter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace tracestore::cli {

TempFile::~TempFile() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status TempFile::Open(const std::string& dir) {
  std::string name = absl::StrCat(dir.empty() ? "." : dir,
                                  "/.tracestore-sort-XXXXXX");
  fd_ = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd_ < 0)
    return absl::InternalError(absl::StrCat(
        "cannot create a temporary file in ", dir, ": ", std::strerror(errno)));
  ::unlink(name.c_str());
  return absl::OkStatus();
}

absl::Status TempFile::Write(uint64_t offset, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pwrite(fd_, p + done, size - done,
                               static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return absl::InternalError(absl::StrCat(
          "writing a temporary file: ", n < 0 ? std::strerror(errno) : "no space"));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status TempFile::Read(uint64_t offset, void* data, size_t size) const {
  char* p = static_cast<char*>(data);
  for (size_t done = 0; done < size;) {
    const ssize_t n = ::pread(fd_, p + done, size - done,
                              static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return absl::InternalError(absl::StrCat(
          "reading a temporary file: ", n < 0 ? std::strerror(errno) : "short"));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace tracestore::cli
