// ProcessTree: a trace and the traces of its child processes, read as one
// trace of many processes.
//
//   auto tree = ProcessTree::Open("run.trace");
//   if (!tree.ok()) return tree.status();
//   TS_RETURN_IF_ERROR((*tree)->Refresh());   // new children, new events
//   for (size_t i = 0; i < (*tree)->size(); ++i) {
//     ProcessTree::Process& p = (*tree)->process(i);
//     ... p.pid, p.view->calls(), p.offset_ns ...
//   }
//
// `record --follow-children` writes each child's trace as a directory
// child-<pid>.trace inside the trace it was started from (format.h); the
// tree finds them recursively (grandchildren too), at Open and again at
// every Refresh(), so children that start while a reader runs are picked
// up. A trace without children is a tree of one process.
//
// Order and ids: process(0) is the root; the children follow in the order
// found (by pid within one look; a finished trace: by pid). A process's row
// ids (event and call ids in SQL, (thread << 40) | index in a process) are
// id_base + its own ids: 0 for the root (its ids are what they are when read
// alone), ordinal << kIdShift for the ordinal-th child found. So ids are
// unique over the tree, never change across refreshes, and ascend in the
// order of process(). Limits: kMaxChildren children (more are left out,
// as a problem) and, for ids to stay unique, 2^13 threads per process (a
// process with more is a problem; its rows are all read, but the ids of its
// later threads repeat the next process's). A trace without children has
// no limit: its ids are what they are read alone.
//
// One clock: every trace header holds a simultaneous reading of its trace
// clock and CLOCK_MONOTONIC at its start (TraceHeader::start). A process's
// times, calibrated by its own tick rate, are moved to the root's time line
// by offset_ns = its start.monotonic_ns - the root's start.monotonic_ns
// (clamped at 0). Same machine, same monotonic clock: times of all
// processes compare, to the precision of the anchors (about 100 ns).
//
// Problems: a child whose trace cannot be opened is left out; while its
// process runs it is taken as starting (its trace being created: no
// problem, tried again at the next Refresh()), once it has gone it is an
// unreadable problem. AllProblems() adds every child's own problems.
//
// Thread-safety: none; one thread at a time. Views stay valid until the
// tree is destroyed; process indexes may shift at Refresh() (new children
// are inserted in pid order).

#ifndef TRACESTORE_PROCESS_TREE_H_
#define TRACESTORE_PROCESS_TREE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tracestore/env.h"
#include "tracestore/problems.h"
#include "tracestore/trace_view.h"

namespace tracestore {

// How a traced process ended, as its trace shows it.
enum class ProcessEnd {
  kRunning,  // the trace is open and its writer is alive
  kExited,   // the trace was closed: the process exited (or stopped tracing)
  kKilled,   // the writer is gone and never closed the trace: killed by a
             // signal, os._exit before the close, or a crash
};
// "running", "exited", "killed".
const char* ProcessEndName(ProcessEnd end);
// A trace whose header records a death by signal (EndKind::kSignaled) is
// killed even though it was closed.
ProcessEnd ProcessEndOf(const TraceReader& trace);
// What the header records of the end (format::EndKind): the exit status or
// the signal; kUnknown when nobody saw it (see process_end.h).
struct ProcessExit {
  format::EndKind kind = format::EndKind::kUnknown;
  uint32_t value = 0;
};
ProcessExit ProcessExitOf(const TraceReader& trace);

class ProcessTree {
 public:
  static constexpr int kIdShift = 53;
  static constexpr size_t kMaxChildren = (size_t{1} << (63 - kIdShift)) - 1;
  static constexpr uint64_t kMaxThreads = uint64_t{1} << (kIdShift - 40);

  struct Process {
    uint64_t pid = 0;
    std::string path;      // the trace directory
    std::string relative;  // to the root: "" (root), "child-12.trace", ...
    std::unique_ptr<TraceView> view;
    uint64_t id_base = 0;    // 0 (root) or ordinal << kIdShift
    uint64_t offset_ns = 0;  // where its time 0 is on the root's time line
    // From the trace header's properties (0: not recorded).
    uint64_t parent_pid = 0;         // the OS parent (os.getppid())
    uint64_t traced_parent_pid = 0;  // the nearest traced ancestor

    // The process of the tree this one hangs under: traced_parent_pid, else
    // parent_pid, when that process is in the tree; else the root (0 for
    // the root itself).
    uint64_t tree_parent = 0;
  };

  static absl::StatusOr<std::unique_ptr<ProcessTree>> Open(
      const std::string& path, Env* env = nullptr);
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;

  // Refreshes every process's view, then looks for new children. Fails only
  // when the root's refresh fails; a child's failure is a problem.
  absl::Status Refresh();

  size_t size() const { return processes_.size(); }
  Process& process(size_t i) { return *processes_[i]; }
  const Process& process(size_t i) const { return *processes_[i]; }
  Process& root() { return *processes_[0]; }
  const Process& root() const { return *processes_[0]; }
  // The process with this pid; nullptr if none.
  const Process* Find(uint64_t pid) const;
  // The index in process() of the process with this pid, or size().
  size_t IndexOf(uint64_t pid) const;

  // A trace of many processes: it has children, or it was recorded
  // following them (the root's "follow_children" property is "1"), so that
  // its readers show the process of each row even before a child starts.
  bool MultiProcess() const;

  // True when the root's path no longer holds the trace this tree opened.
  bool Replaced() const { return root().view->Replaced(); }

  // The root's problems, every child's, and children that cannot be read.
  Problems AllProblems() const;
  // Child traces that cannot be opened (their process has gone): path, why;
  // sorted by path.
  std::vector<std::pair<std::string, std::string>> Unopened() const;

  // The ids of process `p` span [id_base, id_base + IdSpan()).
  static constexpr uint64_t IdSpan() { return uint64_t{1} << kIdShift; }

  // Start and end of a process on the root's time line, in ns. End: the
  // close anchor for a closed trace, else the last event seen.
  uint64_t StartNs(const Process& p) const { return p.offset_ns; }
  uint64_t EndNs(const Process& p) const;

 private:
  ProcessTree(Env* env) : env_(env) {}
  // Looks for child-<pid>.trace directories in `dir` and in every child
  // found, recursively; opens the ones not open yet.
  void Discover(const std::string& dir, const std::string& relative, int depth);
  void Add(std::unique_ptr<TraceView> view, const std::string& relative);
  void Link();

  Env* env_;
  std::vector<std::unique_ptr<Process>> processes_;
  // Children that could not be opened yet, by path: why.
  absl::flat_hash_map<std::string, std::string> unopened_;
  absl::flat_hash_map<std::string, bool> known_;  // child paths open
  Problems refresh_problems_;
  size_t left_out_ = 0;  // children past kMaxChildren
};

}  // namespace tracestore

#endif  // TRACESTORE_PROCESS_TREE_H_
