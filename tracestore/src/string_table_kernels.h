// The lookup kernels behind StringTable::MatchingSlots(), and the CPU check
// that chooses between them. Private to the tracestore library.
//
// Every kernel has the signature of internal::StringTableMatchFunction and
// returns the mask of slots whose prefix is a byte-wise prefix of `text`.
// They must agree bit for bit; tests/tracestore/string_table_test.cc checks
// that against a naive reference on a million random pairs.

#ifndef TRACESTORE_SRC_STRING_TABLE_KERNELS_H_
#define TRACESTORE_SRC_STRING_TABLE_KERNELS_H_

#include <cstdint>
#include <string_view>

#include "tracestore/string_table.h"

namespace tracestore::internal {

// Portable: candidates from a 256-entry table keyed by the first byte.
uint32_t MatchAllScalar(const StringTableLayout& table, std::string_view text);

#if defined(__x86_64__) || defined(__i386__)
#define TRACESTORE_HAVE_AVX2_KERNEL 1
// vpshufb/vpcmpeqb candidate pass. Only call it when CpuHasAvx2().
uint32_t MatchAllAvx2(const StringTableLayout& table, std::string_view text);
#endif

// True when the CPU and the OS support AVX2 (cpuid + XCR0); false on non-x86.
bool CpuHasAvx2();

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_STRING_TABLE_KERNELS_H_
