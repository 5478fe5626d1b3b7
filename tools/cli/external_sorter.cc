// TempFile: the external sorter's spill file.

#include "external_sorter.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "file_io.h"

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
  return WriteAt(fd_, offset,
                 std::string_view(static_cast<const char*>(data), size),
                 "a temporary file");
}

absl::Status TempFile::Read(uint64_t offset, void* data, size_t size) const {
  return ReadAt(fd_, offset, data, size, "a temporary file");
}

}  // namespace tracestore::cli
