// Folded stacks: a walk over the StackTree.

#include "tracestore/export/collapsed.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "export/export_driver.h"
#include "tracestore/export/stack_tree.h"
#include "tracestore/function_label.h"

namespace tracestore {

namespace {

std::string FrameText(std::string text) {
  for (char& c : text) {
    if (c == ';') c = ':';
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace

absl::StatusOr<ExportStats> WriteCollapsed(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out) {
  internal::ExportDriver driver(trace, thread_ended, options);
  StackTree tree(driver.time(), options.collapsed_threads,
                 options.max_stack_nodes);
  if (!driver.RunAll(tree, out)) return out.status();
  tree.Finish();

  FunctionLabels labels;
  labels.Update(trace);
  const auto nodes = tree.nodes();
  auto frame = [&](const StackTree::Node& n) -> std::string {
    switch (n.kind) {
      case StackTree::Kind::kThread:
        return FrameText(
            absl::StrCat("thread ", internal::ThreadLabel(trace, n.id)));
      case StackTree::Kind::kMore:
        return "[more stacks]";
      default:
        return FrameText(labels.Get(n.id));
    }
  };
  // Depth first; `path` holds the frames of the node's ancestors.
  std::string path;
  std::vector<std::pair<uint32_t, size_t>> todo;  // node, path length
  for (uint32_t c = nodes[0].first_child; c != StackTree::kNone;
       c = nodes[c].next_sibling)
    todo.emplace_back(c, 0);
  while (!todo.empty()) {
    const auto [node, length] = todo.back();
    todo.pop_back();
    path.resize(length);
    if (length != 0) path += ';';
    path += frame(nodes[node]);
    if (nodes[node].self_ns != 0) {
      out.Append(path);
      out.Char(' ');
      out.Uint(nodes[node].self_ns);
      out.Char('\n');
      if (!out.ok()) return out.status();
    }
    for (uint32_t c = nodes[node].first_child; c != StackTree::kNone;
         c = nodes[c].next_sibling)
      todo.emplace_back(c, path.size());
  }
  ExportStats stats = driver.stats();
  stats.folded_calls = tree.folded_calls();
  return stats;
}

}  // namespace tracestore
