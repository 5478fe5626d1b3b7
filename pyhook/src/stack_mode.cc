// StackMode: slot assignment and naming for one session.

#include "stack_mode.h"

#include <cstdio>

#include "perf_files.h"
#include "trampolines.h"

namespace tracestore::pyhook {

std::unique_ptr<StackMode> StackMode::Start(bool perf_files, std::string* why) {
  Trampolines* slots = Trampolines::Get(why);
  if (slots == nullptr) return nullptr;
  PerfFiles* perf = perf_files ? PerfFiles::ForThisProcess() : nullptr;
  return std::unique_ptr<StackMode>(new StackMode(slots, perf, slots->unused()));
}

StackMode::StackMode(Trampolines* slots, PerfFiles* perf, uint64_t first)
    : slots_(slots),
      perf_(perf),
      first_(first),
      slot_zero_(slots->Address(first) - thunk::kSlotBytes) {}

uintptr_t StackMode::AddFunction(uint32_t id, std::string_view qualname,
                                 std::string_view file) {
  std::string why;
  if (id == 0 || !slots_->Commit(first_ + id - 1, &why)) {
    if (id != 0 && !complained_) {
      std::fprintf(stderr, "tracestore: %s; later functions run without a "
                   "trampoline\n", why.c_str());
      complained_ = true;
    }
    return 0;
  }
  const uintptr_t slot = slots_->Address(first_ + id - 1);
  if (perf_ != nullptr)
    perf_->Add(slot, thunk::kSlotBytes,
               std::string("py::").append(qualname).append(":").append(file));
  return slot;
}

}  // namespace tracestore::pyhook
