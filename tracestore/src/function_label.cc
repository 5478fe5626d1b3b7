// Function labels: "module.qualname".

#include "tracestore/function_label.h"

#include "absl/strings/str_cat.h"

namespace tracestore {

std::string FunctionLabel(const TraceReader& trace, uint32_t function) {
  if (function == 0) return "(no function)";
  const auto functions = trace.functions();
  if (function > functions.size())
    return absl::StrCat("(function ", function, ")");
  const format::FunctionRecord& f = functions[function - 1];
  const std::string_view module = trace.String(f.module);
  const std::string_view name = trace.String(f.qualname);
  if (module.empty())
    return name.empty() ? absl::StrCat("(function ", function, ")")
                        : std::string(name);
  std::string label(module);
  label += '.';
  if (name.empty()) return label + '?';
  return label.append(name);
}

void FunctionLabels::Update(const TraceReader& trace) {
  const size_t n = trace.functions().size();
  labels_.reserve(n);
  for (size_t i = labels_.size(); i < n; ++i)
    labels_.push_back(FunctionLabel(trace, static_cast<uint32_t>(i + 1)));
}

const std::string& FunctionLabels::Get(uint32_t function) const {
  if (function != 0 && function <= labels_.size()) return labels_[function - 1];
  scratch_ = function == 0 ? std::string("(no function)")
                           : absl::StrCat("(function ", function, ")");
  return scratch_;
}

}  // namespace tracestore
