// tracestore_processes(path): the processes of a trace, one row each: the
// root (the trace itself) and every child trace `record --follow-children`
// wrote inside it, grandchildren too (process_tree.h).
//
//   SELECT pid, parent_pid, ended, command_line
//   FROM tracestore_processes('run.trace');
//
// pid, parent_pid (the OS parent, as the process saw it; NULL when the
// trace does not say), tree_parent (the process of the tree it hangs under:
// the nearest traced ancestor; NULL for the root), command_line,
// interpreter, start_ts and end_ts (ns on the root's time line; end_ts is
// NULL while running, the last event seen for a killed process), ended
// ('running', 'exited', 'killed'), trace (the directory, relative to the
// root's: '' for the root), depth (0 for the root), thread_count,
// event_count, exit_status and signal (as recorded at the end: NULL when
// not known, see tracestore/process_end.h).

#include <vector>

#include "tables.h"
#include "tracestore/process_tree.h"

namespace tracestore::sql::internal {

namespace {

enum ProcessColumn {
  kPrcPid,
  kPrcParentPid,
  kPrcTreeParent,
  kPrcCommandLine,
  kPrcInterpreter,
  kPrcStartTs,
  kPrcEndTs,
  kPrcEnded,
  kPrcTrace,
  kPrcDepth,
  kPrcThreadCount,
  kPrcEventCount,
  kPrcExitStatus,
  kPrcSignal,
  kPrcPath,
};

class ProcessesCursor : public TableCursor {
 public:
  absl::Status Start(TraceView&, const Constraints&) override {
    return absl::InternalError("tracestore_processes reads the whole tree");
  }
  absl::Status StartTree(ProcessTree& tree, const Constraints& c) override {
    tree_ = &tree;
    i_ = 0;
    end_ = c.filter.empty ? 0 : tree.size();
    return absl::OkStatus();
  }
  bool Eof() const override { return i_ >= end_; }
  void Next() override { ++i_; }
  sqlite3_int64 Rowid() const override {
    return static_cast<sqlite3_int64>(tree_->process(i_).pid);
  }
  void Column(sqlite3_context* ctx, int column) override {
    const ProcessTree::Process& p = tree_->process(i_);
    const TraceReader& r = p.view->reader();
    const ProcessEnd ended = ProcessEndOf(r);
    switch (column) {
      case kPrcPid:
        ResultInt(ctx, p.pid);
        break;
      case kPrcParentPid:
        if (p.parent_pid == 0) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, p.parent_pid);
        }
        break;
      case kPrcTreeParent:
        if (i_ == 0) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, p.tree_parent);
        }
        break;
      case kPrcCommandLine:
        ResultText(ctx, r.Property("command_line"), true);
        break;
      case kPrcInterpreter:
        ResultText(ctx, r.Property("interpreter"), true);
        break;
      case kPrcStartTs:
        ResultInt(ctx, tree_->StartNs(p));
        break;
      case kPrcEndTs:
        if (ended == ProcessEnd::kRunning) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, tree_->EndNs(p));
        }
        break;
      case kPrcEnded:
        ResultStaticText(ctx, ProcessEndName(ended));
        break;
      case kPrcTrace:
        ResultText(ctx, p.relative);
        break;
      case kPrcDepth:
        ResultInt(ctx, Depth(p));
        break;
      case kPrcThreadCount:
        ResultInt(ctx, r.threads().size());
        break;
      case kPrcEventCount:
        ResultInt(ctx, r.total_events());
        break;
      case kPrcExitStatus:
      case kPrcSignal: {
        const ProcessExit e = ProcessExitOf(r);
        const format::EndKind want = column == kPrcExitStatus
                                         ? format::EndKind::kExited
                                         : format::EndKind::kSignaled;
        if (e.kind == want) {
          ResultInt(ctx, e.value);
        } else {
          sqlite3_result_null(ctx);
        }
        break;
      }
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  uint64_t Depth(const ProcessTree::Process& p) const {
    uint64_t depth = 0;
    const ProcessTree::Process* q = &p;
    // tree_parent links always end at the root; the bound guards a loop.
    while (q != &tree_->root() && depth < tree_->size()) {
      q = tree_->Find(q->tree_parent);
      if (q == nullptr) break;
      ++depth;
    }
    return depth;
  }

  ProcessTree* tree_ = nullptr;
  size_t i_ = 0, end_ = 0;
};

}  // namespace

const Table kProcessesTable = {
    TableSpec{"tracestore_processes",
              "CREATE TABLE x(pid INTEGER, parent_pid INTEGER,"
              " tree_parent INTEGER, command_line TEXT, interpreter TEXT,"
              " start_ts INTEGER, end_ts INTEGER, ended TEXT, trace TEXT,"
              " depth INTEGER, thread_count INTEGER, event_count INTEGER,"
              " exit_status INTEGER, signal INTEGER, path HIDDEN)",
              kPrcPath,
              /*id_col=*/-1, -1, -1, -1, -1,
              /*function_order=*/false, 10},
    /*needs=*/TraceView::kThreads,
    [] { return std::unique_ptr<TableCursor>(new ProcessesCursor); },
    /*whole_tree=*/true,
};

}  // namespace tracestore::sql::internal
