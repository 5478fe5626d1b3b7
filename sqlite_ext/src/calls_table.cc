// tracestore_calls(path): the call slices (calls.h), Perfetto style.
//
//   SELECT name, count(*) FILTER (WHERE kind != 'resume'),
//          sum(dur) FILTER (WHERE NOT recursive)
//   FROM tracestore_calls('run.trace') GROUP BY name;
//
// id is the id of the opening event (as in tracestore_events); ts, dur and
// self_dur are in ns; dur and self_dur are NULL while the slice is open.
// starts_before_window is 1 for a call of a flight-recorder trace that
// started before its thread's window: its ts is the window's start and its
// dur a lower bound (calls.h).
// kind is what opened the slice: 'call', 'c_call', or 'resume' (a
// generator or coroutine continued: not a new call). recursive is 1 when a
// call of the same function was open below it in its thread: summing dur
// over the rows where it is 0 counts recursion once, as `top` does.

#include <optional>

#include "tables.h"
#include "tracestore/calls.h"

namespace tracestore::sql::internal {

namespace {

enum Column {
  kId,
  kThreadId,
  kDepth,
  kParentId,
  kFunctionId,
  kName,
  kModule,
  kFile,
  kLine,
  kCallLine,
  kTs,
  kDur,
  kSelfDur,
  kStartsBeforeWindow,
  kKind,
  kRecursive,
  kPathColumn,
  kPid,
};

class CallsCursor : public TableCursor {
 public:
  absl::Status Start(TraceView& view, const Constraints& c) override {
    scan_.reset();
    time_ = view.time();
    reader_ = &view.reader();
    const CallTree& tree = c.filter.by_function && !c.filter.empty
                               ? view.calls_by_function()
                               : view.calls();
    scan_.emplace(tree, time_, c.filter);
    return absl::OkStatus();
  }
  bool Eof() const override { return scan_->done(); }
  void Next() override { scan_->Next(); }
  sqlite3_int64 Rowid() const override { return TreeId(scan_->id()); }

  void Column(sqlite3_context* ctx, int column) override {
    const CallSlice& s = scan_->slice();
    switch (column) {
      case kId:
        sqlite3_result_int64(ctx, TreeId(scan_->id()));
        return;
      case kThreadId:
        ResultInt(ctx, scan_->thread());
        return;
      case kDepth:
        ResultInt(ctx, s.depth);
        return;
      case kParentId: {
        uint64_t parent;
        if (scan_->parent_id(&parent)) {
          sqlite3_result_int64(ctx, TreeId(parent));
        } else {
          sqlite3_result_null(ctx);
        }
        return;
      }
      case kFunctionId:
        if (s.function == 0) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, s.function);
        }
        return;
      case kCallLine:
        ResultInt(ctx, s.call_line);
        return;
      case kTs:
        sqlite3_result_int64(ctx, TreeNs(time_.ToNs(s.start_ticks)));
        return;
      case kDur:
        if (s.open()) {
          sqlite3_result_null(ctx);
        } else {
          // ns(end) - ns(start), so that ts + dur is the end's ns exactly.
          ResultInt(ctx, time_.ToNs(s.end_ticks) - time_.ToNs(s.start_ticks));
        }
        return;
      case kSelfDur:
        if (s.open()) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, time_.ToNs(s.self_ticks()));
        }
        return;
      case kStartsBeforeWindow:
        ResultInt(ctx, (s.flags & kSliceStartsBeforeWindow) != 0 ? 1 : 0);
        return;
      case kKind:
        ResultStaticText(ctx, EventKindName(static_cast<format::EventKind>(
                                  s.open_kind)));
        return;
      case kRecursive:
        ResultInt(ctx, s.recursive() ? 1 : 0);
        return;
      case kName:
        return ResultFunctionColumn(ctx, *reader_, s.function,
                                    FunctionColumn::kName);
      case kModule:
        return ResultFunctionColumn(ctx, *reader_, s.function,
                                    FunctionColumn::kModule);
      case kFile:
        return ResultFunctionColumn(ctx, *reader_, s.function,
                                    FunctionColumn::kFile);
      case kLine:
        return ResultFunctionColumn(ctx, *reader_, s.function,
                                    FunctionColumn::kLine);
      default:
        sqlite3_result_null(ctx);
        return;
    }
  }

 private:
  TimeScale time_;
  const TraceReader* reader_ = nullptr;
  std::optional<CallScan> scan_;
};

}  // namespace

const Table kCallsTable = {
    {
        "tracestore_calls",
        "CREATE TABLE x(id INTEGER, thread_id INTEGER, depth INTEGER,"
        " parent_id INTEGER, function_id INTEGER, name TEXT, module TEXT,"
        " file TEXT, line INTEGER, call_line INTEGER, ts INTEGER, dur INTEGER,"
        " self_dur INTEGER, starts_before_window INTEGER, kind TEXT,"
        " recursive INTEGER, path HIDDEN, pid HIDDEN)",
        /*path_col=*/kPathColumn,
        /*id_col=*/kId,
        /*ts_col=*/kTs,
        /*thread_col=*/kThreadId,
        /*function_col=*/kFunctionId,
        /*depth_col=*/kDepth,
        /*function_order=*/true,
        /*rows=*/5e6,
        /*pid_col=*/kPid,
    },
    TraceView::kEvents | TraceView::kFunctions | TraceView::kStrings,
    [] { return std::unique_ptr<TableCursor>(new CallsCursor); },
    /*whole_tree=*/false,
    /*tree_ids=*/true,
};

}  // namespace tracestore::sql::internal
