// Whole reads and writes at a file offset (pread/pwrite), retried on EINTR
// and short counts, errors named after what the file is: "writing the
// database: No space left on device".
//
//   absl::Status s = WriteAt(fd, offset, bytes, "the database");

#ifndef TRACESTORE_TOOLS_CLI_FILE_IO_H_
#define TRACESTORE_TOOLS_CLI_FILE_IO_H_

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/status/status.h"

namespace tracestore::cli {

absl::Status WriteAt(int fd, uint64_t offset, std::string_view bytes,
                     const char* what);
// Fails on end of file before `size` bytes ("short").
absl::Status ReadAt(int fd, uint64_t offset, void* data, size_t size,
                    const char* what);

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_FILE_IO_H_
