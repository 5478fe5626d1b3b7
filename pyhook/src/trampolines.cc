// Trampolines: address-space reservation, block commit, CFI registration.

#include "trampolines.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

// libgcc's registration of run-time generated .eh_frame data (the unwinder
// behind _Unwind_Backtrace, backtrace(3) and C++ exceptions).
extern "C" void __register_frame(void* eh_frame);

namespace tracestore::pyhook {

namespace {

// 1 GiB of address space: 64 M slots, far beyond any program's functions.
// Only committed blocks use memory.
constexpr uint64_t kReservedBytes = uint64_t{1} << 30;
constexpr uint64_t kBlockBytes = 64 * 1024;
constexpr uint64_t kSlotsPerBlock = kBlockBytes / thunk::kSlotBytes;

}  // namespace

Trampolines* Trampolines::Get(std::string* why) {
  static Trampolines* table = [why]() -> Trampolines* {
    if (!thunk::kSupported) {
      *why = "stack mode needs an x86-64 processor";
      return nullptr;
    }
    void* p = ::mmap(nullptr, kReservedBytes, PROT_NONE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      *why = absl::StrCat("cannot reserve address space for trampolines: ",
                          std::strerror(errno));
      return nullptr;
    }
    return new Trampolines(reinterpret_cast<uintptr_t>(p),
                           kReservedBytes / thunk::kSlotBytes);
  }();
  if (table == nullptr && why->empty())
    *why = "stack mode is unavailable (see the first error)";
  return table;
}

bool Trampolines::CommitBlock(std::string* why) {
  if (committed_ + kSlotsPerBlock > capacity_) {
    *why = "the trampoline table is full";
    return false;
  }
  auto* block = reinterpret_cast<uint8_t*>(Address(committed_));
  if (::mprotect(block, kBlockBytes, PROT_READ | PROT_WRITE) != 0) {
    *why = absl::StrCat("cannot commit trampolines: ", std::strerror(errno));
    return false;
  }
  for (uint64_t i = 0; i < kSlotsPerBlock; ++i)
    std::memcpy(block + i * thunk::kSlotBytes, thunk::kCode,
                thunk::kSlotBytes);
  if (::mprotect(block, kBlockBytes, PROT_READ | PROT_EXEC) != 0) {
    *why = absl::StrCat("cannot make trampolines executable: ",
                        std::strerror(errno));
    return false;
  }
  // One CIE and an FDE per slot. Registered for good: libgcc keeps a
  // pointer to the data, and the slots never go away.
  // The FDEs differ only in their CIE pointer and first address: write
  // one, then copy it and patch those two fields.
  auto* eh_frame = new std::string();
  const size_t cie = thunk::AppendCie(*eh_frame, thunk::PointerEncoding::kAbsolute8);
  const size_t first = eh_frame->size();
  thunk::AppendFde(*eh_frame, cie, thunk::PointerEncoding::kAbsolute8,
                   static_cast<int64_t>(Address(committed_)));
  const size_t fde_bytes = eh_frame->size() - first;
  eh_frame->reserve(first + fde_bytes * kSlotsPerBlock + 4);
  for (uint64_t i = 1; i < kSlotsPerBlock; ++i) {
    const size_t at = eh_frame->size();
    eh_frame->append(*eh_frame, first, fde_bytes);
    const auto cie_pointer = static_cast<uint32_t>(at + 4 - cie);
    const uint64_t begin = Address(committed_ + i);
    std::memcpy(eh_frame->data() + at + 4, &cie_pointer, 4);
    std::memcpy(eh_frame->data() + at + 8, &begin, 8);
  }
  thunk::AppendTerminator(*eh_frame);
  __register_frame(eh_frame->data());
  committed_ += kSlotsPerBlock;
  return true;
}

bool Trampolines::Commit(uint64_t index, std::string* why) {
  while (index >= committed_)
    if (!CommitBlock(why)) return false;
  used_ = std::max(used_, index + 1);
  return true;
}

}  // namespace tracestore::pyhook
