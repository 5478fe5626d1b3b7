// tracestore_lines(path): one row per (function, line) that has line events
// (record --lines), with its hits and times (line_times.h says what a
// line's time is).
//
//   SELECT line, hits, time, self_time, time_in_calls
//   FROM tracestore_lines('run.trace') WHERE function_id = 7 ORDER BY line;
//
// time = self_time + time_in_calls, in ns; rows come ordered by function_id
// then line (the rowid is function_id << 32 | line); function_id = is
// pushed down. Live: each scan sees the events committed so far.

#include <vector>

#include "tables.h"
#include "tracestore/line_times.h"

namespace tracestore::sql::internal {

namespace {

enum Column {
  kFunctionId,
  kName,
  kModule,
  kFile,
  kLine,
  kHits,
  kTime,
  kSelfTime,
  kTimeInCalls,
  kPathColumn,
  kPid,
};

class LinesCursor : public TableCursor {
 public:
  absl::Status Start(TraceView& view, const Constraints& c) override {
    rows_.clear();
    i_ = 0;
    time_ = view.time();
    reader_ = &view.reader();
    const ScanFilter& f = c.filter;
    if (f.empty) return absl::OkStatus();
    uint32_t lo = 0, hi = UINT32_MAX;
    if (f.by_function) {
      lo = f.function_min;
      hi = f.function_max;
    }
    if (lo > hi) return absl::OkStatus();
    rows_ = view.lines().Rows(lo, hi);
    return absl::OkStatus();
  }
  bool Eof() const override { return i_ >= rows_.size(); }
  void Next() override { ++i_; }
  sqlite3_int64 Rowid() const override {
    const LineTimes::Row& r = rows_[i_];
    return static_cast<sqlite3_int64>(LineTimes::Key(r.function, r.line));
  }

  void Column(sqlite3_context* ctx, int column) override {
    const LineTimes::Row& r = rows_[i_];
    switch (column) {
      case kFunctionId:
        ResultInt(ctx, r.function);
        return;
      case kLine:
        ResultInt(ctx, r.line);
        return;
      case kHits:
        ResultInt(ctx, r.stat.hits);
        return;
      case kTime:
        // The sum of the two columns as shown (each rounds once).
        ResultInt(ctx, time_.ToNs(r.stat.self_ticks) +
                           time_.ToNs(r.stat.call_ticks));
        return;
      case kSelfTime:
        ResultInt(ctx, time_.ToNs(r.stat.self_ticks));
        return;
      case kTimeInCalls:
        ResultInt(ctx, time_.ToNs(r.stat.call_ticks));
        return;
      case kName:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kName);
      case kModule:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kModule);
      case kFile:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kFile);
      default:
        sqlite3_result_null(ctx);
        return;
    }
  }

 private:
  TimeScale time_;
  const TraceReader* reader_ = nullptr;
  std::vector<LineTimes::Row> rows_;
  size_t i_ = 0;
};

}  // namespace

const Table kLinesTable = {
    {
        "tracestore_lines",
        "CREATE TABLE x(function_id INTEGER, name TEXT, module TEXT,"
        " file TEXT, line INTEGER, hits INTEGER, time INTEGER,"
        " self_time INTEGER, time_in_calls INTEGER, path HIDDEN,"
        " pid HIDDEN)",
        /*path_col=*/kPathColumn,
        /*id_col=*/-1,
        /*ts_col=*/-1,
        /*thread_col=*/-1,
        /*function_col=*/kFunctionId,
        /*depth_col=*/-1,
        /*function_order=*/true,
        /*rows=*/1e4,
        /*pid_col=*/kPid,
    },
    TraceView::kEvents | TraceView::kFunctions | TraceView::kStrings,
    [] { return std::unique_ptr<TableCursor>(new LinesCursor); },
};

}  // namespace tracestore::sql::internal
