// Trampolines: the process's executable slots, one per traced function in
// stack mode, each a copy of the thunk (thunk.h).
//
//   Trampolines* slots = Trampolines::Get(&why);   // nullptr: unsupported
//   uint64_t base = slots->unused();               // a session's first slot
//   if (!slots->Commit(base + id - 1, &why)) ...   // GIL held
//   auto slot = reinterpret_cast<Eval>(slots->Address(base + id - 1));
//   slot(tstate, frame, throwflag, &_PyEval_EvalFrameDefault);
//
// The slots live in one reserved range of address space that is committed
// a block at a time as functions are added (the table grows without ever
// moving, so a slot's address is fixed for the life of the process). A
// block is written, then made read+execute (never writable and executable
// at once), and its CFI is registered with the platform unwinder
// (libgcc's __register_frame) so in-process unwinders step through it.
//
// Slots are never freed or reused: a frame may still be running in one
// after its session ended, and profilers name a slot by its address.
//
// Thread-safety: Get and Commit under the GIL; Address from any thread.

#ifndef TRACESTORE_PYHOOK_TRAMPOLINES_H_
#define TRACESTORE_PYHOOK_TRAMPOLINES_H_

#include <cstdint>
#include <string>

#include "thunk.h"

namespace tracestore::pyhook {

class Trampolines {
 public:
  // The process's slot table, reserving its address range on first use.
  // nullptr, with `why`, where stack mode cannot run (not x86-64, or the
  // address space could not be reserved).
  static Trampolines* Get(std::string* why);

  // Makes slots up to `index` executable and marks them used. False, with
  // `why`, when the table is full or memory ran out.
  bool Commit(uint64_t index, std::string* why);
  // The first slot no session has used: where the next session starts.
  uint64_t unused() const { return used_; }
  uintptr_t Address(uint64_t index) const {
    return base_ + index * thunk::kSlotBytes;
  }

 private:
  Trampolines(uintptr_t base, uint64_t capacity)
      : base_(base), capacity_(capacity) {}
  bool CommitBlock(std::string* why);

  const uintptr_t base_;
  const uint64_t capacity_;  // slots the reserved range can hold
  uint64_t committed_ = 0;   // slots written and executable
  uint64_t used_ = 0;        // slots [0, used_) belong to some session
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_TRAMPOLINES_H_
