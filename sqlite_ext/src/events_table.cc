// tracestore_events(path): every event of every thread, one row each.
//
//   SELECT kind, count(*) FROM tracestore_events('run.trace') GROUP BY kind;
//
// Rows come in id order (thread by thread, in time order within a thread);
// a plan grouped by function_id reads them through the function index.

#include <optional>

#include "tables.h"
#include "tracestore/event_scan.h"

namespace tracestore::sql::internal {

namespace {

enum Column {
  kId,
  kThreadId,
  kTs,
  kKind,
  kFunctionId,
  kLine,
  kMarkId,
  kPathColumn,
  kPid,
};

class EventsCursor : public TableCursor {
 public:
  absl::Status Start(TraceView& view, const Constraints& c) override {
    scan_.reset();
    time_ = view.time();
    const PostingIndex* index = c.filter.by_function && !c.filter.empty
                                    ? &view.event_functions()
                                    : nullptr;
    scan_.emplace(view.reader(), time_, c.filter, index);
    return absl::OkStatus();
  }
  bool Eof() const override { return scan_->done(); }
  void Next() override { scan_->Next(); }
  sqlite3_int64 Rowid() const override { return TreeId(scan_->id()); }

  void Column(sqlite3_context* ctx, int column) override {
    const format::EventRecord& e = scan_->event();
    const format::EventKind kind = format::GetEventKind(e);
    switch (column) {
      case kId:
        sqlite3_result_int64(ctx, TreeId(scan_->id()));
        break;
      case kThreadId:
        ResultInt(ctx, scan_->thread());
        break;
      case kTs:
        sqlite3_result_int64(ctx, TreeNs(time_.ToNs(format::EventTicks(e))));
        break;
      case kKind:
        ResultStaticText(ctx, EventKindName(kind));
        break;
      case kFunctionId:
        if (e.function == 0) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, e.function);
        }
        break;
      case kLine:
        if (kind == format::EventKind::kMark) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, e.value);
        }
        break;
      case kMarkId:
        if (kind == format::EventKind::kMark) {
          ResultInt(ctx, e.value);
        } else {
          sqlite3_result_null(ctx);
        }
        break;
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  TimeScale time_;
  std::optional<EventScan> scan_;
};

}  // namespace

const Table kEventsTable = {
    {
        "tracestore_events",
        "CREATE TABLE x(id INTEGER, thread_id INTEGER, ts INTEGER, kind TEXT,"
        " function_id INTEGER, line INTEGER, mark_id INTEGER, path HIDDEN,"
        " pid HIDDEN)",
        /*path_col=*/kPathColumn,
        /*id_col=*/kId,
        /*ts_col=*/kTs,
        /*thread_col=*/kThreadId,
        /*function_col=*/kFunctionId,
        /*depth_col=*/-1,
        /*function_order=*/true,
        /*rows=*/1e7,
        /*pid_col=*/kPid,
    },
    TraceView::kEvents,
    [] { return std::unique_ptr<TableCursor>(new EventsCursor); },
    /*whole_tree=*/false,
    /*tree_ids=*/true,
};

}  // namespace tracestore::sql::internal
