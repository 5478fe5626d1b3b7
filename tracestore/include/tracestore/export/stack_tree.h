// StackTree: the calls merged by call stack — one node per distinct path
// of functions from a root, with its calls, total and self time — built
// from a CallStream as the calls close. The collapsed-stacks and HTML
// flame graph exports are walks over it.
//
//   StackTree tree(time, /*by_thread=*/false, /*max_nodes=*/1 << 20);
//   stream.Update(trace, ended, tree);
//   stream.FinishAll(tree);
//   tree.Finish();
//   for (const StackTree::Node& n : tree.nodes()) ...   // nodes()[0]: root
//
// Times are ns, per call exactly as the `calls` table has them: self_ns
// sums self_dur, total_ns sums dur. So the self times of all nodes add up
// to the traced self time, and a node's total is its self plus its
// children's totals (up to one ns of rounding per call with a TSC clock).
//
// Memory is one node (~64 bytes with its index entry) per distinct stack,
// up to max_nodes. Past it, a call whose stack has no node yet goes to a
// "[more stacks]" node (kind kMore) under the deepest node its stack has,
// together with everything it calls: totals and self sums stay exact, only
// the detail below is lost. Each node has at most one such child.
//
// Thread-safety: none.

#ifndef TRACESTORE_EXPORT_STACK_TREE_H_
#define TRACESTORE_EXPORT_STACK_TREE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <vector>

#include "tracestore/call_stream.h"
#include "tracestore/event_scan.h"

namespace tracestore {

class StackTree final : public CallVisitor {
 public:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  enum class Kind : uint8_t {
    kRoot,      // nodes()[0]: every stack starts here
    kThread,    // by_thread: a thread (id: its index), under the root (or
                // under its process)
    kProcess,   // BeginProcess: a process (id: its index), under the root
    kFunction,  // id: function id
    kMore,      // "[more stacks]": the detail past max_nodes
  };
  struct Node {
    uint64_t calls = 0;    // calls (generator/coroutine resumes apart)
    uint64_t resumes = 0;
    uint64_t total_ns = 0;
    uint64_t self_ns = 0;
    uint32_t id = 0;
    uint32_t parent = 0;
    uint32_t first_child = kNone;
    uint32_t next_sibling = kNone;
    uint32_t more = kNone;  // its kMore child
    Kind kind = Kind::kFunction;
  };

  StackTree(const TimeScale& time, bool by_thread, size_t max_nodes);
  ~StackTree() override;
  StackTree(const StackTree&) = delete;
  StackTree& operator=(const StackTree&) = delete;

  // A trace of many processes: the calls that follow are the process
  // `process`'s (function and thread ids are its own), timed by `time`,
  // under a node of their own. Call before the process's first call.
  void BeginProcess(uint32_t process, const TimeScale& time);

  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override;
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override;

  // Gives the root and the thread nodes their totals (the sums of their
  // children's). Once, after the last call closed. Their `calls` count
  // every call below them; a function node's, the calls on its stack.
  void Finish();

  std::span<const Node> nodes() const { return nodes_; }
  // Calls that went to a kMore node.
  uint64_t folded_calls() const { return folded_calls_; }

 private:
  struct Index;
  uint32_t ThreadRoot(uint32_t thread);
  uint32_t Child(uint32_t parent, uint32_t function);
  uint32_t More(uint32_t parent);
  uint32_t Add(uint32_t parent, Kind kind, uint32_t id);

  const TimeScale* time_;
  const bool by_thread_;
  uint32_t process_root_ = 0;  // the current process's node (0: none)
  const size_t max_nodes_;
  std::vector<Node> nodes_;
  std::unique_ptr<Index> index_;             // (parent, function) -> node
  std::vector<uint32_t> thread_roots_;       // by thread, kNone until seen
  std::vector<std::vector<uint32_t>> open_;  // per thread: nodes of the
                                             // open calls, outermost first
  uint64_t folded_calls_ = 0;
};

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_STACK_TREE_H_
