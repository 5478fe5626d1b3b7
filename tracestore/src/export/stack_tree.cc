// StackTree: calls merged by call stack.

#include "tracestore/export/stack_tree.h"

#include "absl/container/flat_hash_map.h"

namespace tracestore {

struct StackTree::Index {
  absl::flat_hash_map<uint64_t, uint32_t> children;  // parent << 32 | function
};

StackTree::StackTree(const TimeScale& time, bool by_thread, size_t max_nodes)
    : time_(&time),
      by_thread_(by_thread),
      max_nodes_(max_nodes < 2 ? 2 : max_nodes),
      index_(std::make_unique<Index>()) {
  Node root;
  root.kind = Kind::kRoot;
  nodes_.push_back(root);
}

StackTree::~StackTree() = default;

uint32_t StackTree::Add(uint32_t parent, Kind kind, uint32_t id) {
  Node n;
  n.kind = kind;
  n.id = id;
  n.parent = parent;
  n.next_sibling = nodes_[parent].first_child;
  const auto index = static_cast<uint32_t>(nodes_.size());
  nodes_.push_back(n);
  nodes_[parent].first_child = index;
  return index;
}

uint32_t StackTree::ThreadRoot(uint32_t thread) {
  if (!by_thread_) return process_root_;
  if (thread_roots_.size() <= thread)
    thread_roots_.resize(size_t{thread} + 1, kNone);
  if (thread_roots_[thread] == kNone)
    thread_roots_[thread] = Add(process_root_, Kind::kThread, thread);
  return thread_roots_[thread];
}

void StackTree::BeginProcess(uint32_t process, const TimeScale& time) {
  time_ = &time;
  thread_roots_.clear();
  open_.clear();
  process_root_ = Add(0, Kind::kProcess, process);
}

uint32_t StackTree::More(uint32_t parent) {
  if (nodes_[parent].more == kNone) {
    const uint32_t more = Add(parent, Kind::kMore, 0);
    nodes_[parent].more = more;
  }
  return nodes_[parent].more;
}

uint32_t StackTree::Child(uint32_t parent, uint32_t function) {
  if (nodes_[parent].kind == Kind::kMore) return parent;
  const uint64_t key = uint64_t{parent} << 32 | function;
  auto it = index_->children.find(key);
  if (it != index_->children.end()) return it->second;
  // Node indexes must stay below kNone too.
  if (nodes_.size() >= max_nodes_ || nodes_.size() >= kNone - 1)
    return More(parent);
  const uint32_t child = Add(parent, Kind::kFunction, function);
  index_->children.emplace(key, child);
  return child;
}

void StackTree::OnOpen(uint32_t thread, std::span<const OpenCall> stack) {
  if (open_.size() <= thread) open_.resize(size_t{thread} + 1);
  std::vector<uint32_t>& open = open_[thread];
  const uint32_t parent = open.empty() ? ThreadRoot(thread) : open.back();
  const uint32_t node = Child(parent, stack.back().function);
  open.push_back(node);
  // A resume continues a generator or coroutine: its frame, not a call.
  if (stack.back().open_kind ==
      static_cast<uint8_t>(format::EventKind::kResume)) {
    ++nodes_[node].resumes;
    return;
  }
  ++nodes_[node].calls;
  ++nodes_[0].calls;
  if (process_root_ != 0) ++nodes_[process_root_].calls;
  if (by_thread_) ++nodes_[thread_roots_[thread]].calls;
  if (nodes_[node].kind == Kind::kMore) ++folded_calls_;
}

void StackTree::OnClose(uint32_t thread, std::span<const OpenCall> stack,
                        uint64_t end_ticks) {
  std::vector<uint32_t>& open = open_[thread];
  const uint32_t node = open.back();
  open.pop_back();
  const OpenCall& c = stack.back();
  const uint64_t dur = end_ticks - c.start_ticks;
  Node& n = nodes_[node];
  n.self_ns += time_->ToNs(dur > c.child_ticks ? dur - c.child_ticks : 0);
  // Inside a kMore node nested calls share the node: only the outermost
  // adds its duration.
  if (open.empty() || open.back() != node)
    n.total_ns += time_->ToNs(end_ticks) - time_->ToNs(c.start_ticks);
}

void StackTree::Finish() {
  // Children have higher indexes than their parents: a backward pass sees
  // a thread node's children before the thread node itself.
  for (size_t i = nodes_.size(); i-- > 1;) {
    const Node& n = nodes_[i];
    Node& parent = nodes_[n.parent];
    if (parent.kind == Kind::kRoot || parent.kind == Kind::kThread ||
        parent.kind == Kind::kProcess)
      parent.total_ns += n.total_ns;
  }
}

}  // namespace tracestore
