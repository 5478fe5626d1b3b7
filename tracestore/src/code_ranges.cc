// FirstCodeRanges: the id -> first code range lookup.

#include "tracestore/code_ranges.h"

namespace tracestore {

void FirstCodeRanges::Update(const TraceReader& reader) {
  const auto ranges = reader.code_ranges();
  // The reader reads ranges before functions, so every range it shows names
  // a function it shows. A range that does not is damage (verify reports
  // it): skipped, and never allowed to size the table.
  const uint64_t functions = reader.functions().size();
  for (; seen_ < ranges.size(); ++seen_) {
    const format::CodeRangeRecord& r = ranges[seen_];
    if (r.function == 0 || r.function > functions) continue;
    if (r.function > by_function_.size()) by_function_.resize(r.function);
    format::CodeRangeRecord& first = by_function_[r.function - 1];
    if (first.function == 0) first = r;
  }
}

}  // namespace tracestore
