// Folded stacks: a walk over the StackTree.

#include "tracestore/export/collapsed.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
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

absl::StatusOr<ExportStats> WriteCollapsedProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out) {
  if (processes.empty()) return absl::InvalidArgumentError("no process");
  std::vector<std::unique_ptr<internal::ExportDriver>> drivers;
  for (const ExportProcess& p : processes)
    drivers.push_back(std::make_unique<internal::ExportDriver>(
        *p.trace, p.thread_ended, options));
  StackTree tree(drivers[0]->time(), options.collapsed_threads,
                 options.max_stack_nodes);
  ExportStats total;
  for (size_t i = 0; i < processes.size(); ++i) {
    tree.BeginProcess(static_cast<uint32_t>(i), drivers[i]->time());
    if (!drivers[i]->RunAll(tree, out)) return out.status();
    total += drivers[i]->stats();
  }
  tree.Finish();
  total.folded_calls = tree.folded_calls();

  std::vector<FunctionLabels> labels(processes.size());
  for (size_t i = 0; i < processes.size(); ++i)
    labels[i].Update(*processes[i].trace);
  const auto nodes = tree.nodes();
  auto frame = [&](const StackTree::Node& n, uint32_t process) -> std::string {
    const TraceReader& trace = *processes[process].trace;
    switch (n.kind) {
      case StackTree::Kind::kProcess:
        return FrameText(internal::ProcessLabel(trace));
      case StackTree::Kind::kThread:
        return FrameText(
            absl::StrCat("thread ", internal::ThreadLabel(trace, n.id)));
      case StackTree::Kind::kMore:
        return "[more stacks]";
      default:
        return FrameText(labels[process].Get(n.id));
    }
  };
  // Depth first; `path` holds the frames of the node's ancestors. Without a
  // frame per process, the same stack of several processes adds up.
  absl::flat_hash_map<std::string, uint64_t> merged;
  std::vector<std::string> order;
  std::string path;
  struct Todo {
    uint32_t node;
    size_t length;
    uint32_t process;
  };
  std::vector<Todo> todo;
  for (uint32_t c = nodes[0].first_child; c != StackTree::kNone;
       c = nodes[c].next_sibling)
    todo.push_back({c, 0, nodes[c].id});  // the process nodes
  while (!todo.empty()) {
    const Todo t = todo.back();
    todo.pop_back();
    const StackTree::Node& n = nodes[t.node];
    path.resize(t.length);
    if (n.kind != StackTree::Kind::kProcess || options.collapsed_processes) {
      if (!path.empty()) path += ';';
      path += frame(n, t.process);
    }
    if (n.self_ns != 0 && !path.empty()) {
      if (options.collapsed_processes) {
        out.Append(path);
        out.Char(' ');
        out.Uint(n.self_ns);
        out.Char('\n');
        if (!out.ok()) return out.status();
      } else {
        auto [it, added] = merged.try_emplace(path, 0);
        if (added) order.push_back(path);
        it->second += n.self_ns;
      }
    }
    for (uint32_t c = n.first_child; c != StackTree::kNone;
         c = nodes[c].next_sibling)
      todo.push_back({c, path.size(), t.process});
  }
  for (const std::string& line : order) {
    out.Append(line);
    out.Char(' ');
    out.Uint(merged[line]);
    out.Char('\n');
    if (!out.ok()) return out.status();
  }
  return total;
}

}  // namespace tracestore
