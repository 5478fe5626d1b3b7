// The fuzz targets' input format: a whole trace directory in a few bytes.
//
//   input := entry*         (a truncated last entry is ignored)
//   entry := u8 file, u8 mode, u32 length (little-endian), byte[length]
//
// file: 0 trace.header, 1 functions.store, 2 strings.store, 3 strbytes.store,
// 4 threads.store, 5 marks.store, 6 coderanges.store, 7 + N events.N.store
// (N < 16); anything else is taken modulo 23.
// mode (modulo 5):
//   0 raw       the file's bytes, as they are
//   1 store     a store file, compact: the first 176 header bytes (zero-
//               padded), u16 n, n chunk checksums (u64), then the records;
//               written out as the 64 KiB header region and the records
//   2 header    a trace.header, compact: the first 96 header bytes, then
//               the properties text; written out 64 KiB long
//   3 size      u32 bytes: truncate (or extend, sparse) the file to that
//               size, at most 1 MiB (a bigger file only makes an input slower)
//   4 fifo      a FIFO in place of the file (readers must not block on it)
//
// EncodeTrace turns a real trace into this format (the seeds): stores and
// the header compact, so a seed is about as big as its records.
//
// Thread-safety: none.

#ifndef TRACESTORE_TESTS_FUZZ_FUZZ_TRACE_H_
#define TRACESTORE_TESTS_FUZZ_FUZZ_TRACE_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace tracestore::fuzz {

// A scratch trace directory for this process, created on first use and
// emptied by each DecodeTrace. Its path.
const std::string& ScratchTrace();

// Writes the trace `data` describes into ScratchTrace() (emptied first).
void DecodeTrace(const uint8_t* data, size_t size);

// The input that DecodeTrace turns back into the trace at `dir`; "" if it
// cannot be read.
std::string EncodeTrace(const std::string& dir);

}  // namespace tracestore::fuzz

#endif  // TRACESTORE_TESTS_FUZZ_FUZZ_TRACE_H_
