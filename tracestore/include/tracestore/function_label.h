// How tools name a function: "module.qualname" (the dotted name Python
// users know), so that the top view, the flame graphs and the exports all
// say the same thing.
//
//   FunctionLabels labels;
//   labels.Update(*trace);                    // after each Refresh()
//   printf("%s\n", labels.Get(fn).c_str());   // "shop.cart.Cart.total"
//
// A function without a module is its qualname; id 0 is "(no function)"; an
// id the trace does not hold is "(function N)".
//
// Thread-safety: none. Strings returned stay valid until the next Update().

#ifndef TRACESTORE_FUNCTION_LABEL_H_
#define TRACESTORE_FUNCTION_LABEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tracestore/trace_reader.h"

namespace tracestore {

std::string FunctionLabel(const TraceReader& trace, uint32_t function);

// The labels of every function a reader shows, computed once each.
class FunctionLabels {
 public:
  // Adds the functions the reader shows beyond those already labelled.
  void Update(const TraceReader& trace);
  const std::string& Get(uint32_t function) const;
  size_t size() const { return labels_.size(); }  // functions labelled

 private:
  std::vector<std::string> labels_;  // by id - 1
  mutable std::string scratch_;      // labels of ids not held
};

}  // namespace tracestore

#endif  // TRACESTORE_FUNCTION_LABEL_H_
