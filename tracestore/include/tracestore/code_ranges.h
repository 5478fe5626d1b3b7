// FirstCodeRanges: each function's first code range (coderanges.store), by
// function id, kept current with a live reader.
//
//   FirstCodeRanges slots;
//   slots.Update(*reader);                   // after each reader Refresh()
//   if (const format::CodeRangeRecord* r = slots.Find(function_id))
//     printf("%llx-%llx\n", r->begin, r->begin + r->size);
//
// A function may have several ranges; the first one recorded is the one the
// SQL tables show (in stack mode, the trampoline slot a function was given
// when it was first traced). Code ranges are only ever appended, so an
// update reads just the ones added since the last.
//
// Thread-safety: none; one thread at a time.

#ifndef TRACESTORE_CODE_RANGES_H_
#define TRACESTORE_CODE_RANGES_H_

#include <cstdint>
#include <vector>

#include "tracestore/format.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

class FirstCodeRanges {
 public:
  // Takes in the ranges `reader` shows that were not seen yet. Always the
  // same reader.
  void Update(const TraceReader& reader);

  // The first range of function `id`, nullptr when it has none.
  const format::CodeRangeRecord* Find(uint32_t id) const {
    if (id == 0 || id > by_function_.size()) return nullptr;
    const format::CodeRangeRecord& r = by_function_[id - 1];
    return r.function != 0 ? &r : nullptr;
  }

 private:
  uint64_t seen_ = 0;  // reader.code_ranges() taken in so far
  // Indexed by id - 1; a record with function == 0 stands for "none".
  std::vector<format::CodeRangeRecord> by_function_;
};

}  // namespace tracestore

#endif  // TRACESTORE_CODE_RANGES_H_
