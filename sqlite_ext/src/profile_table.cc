// tracestore_profile(path): one row per function that has calls, with what
// `top` shows: calls made (generator/coroutine resumes apart), total time
// counting a recursive call inside another call of the same function once,
// and self time. The rows are sums over tracestore_calls, exactly:
//
//   calls      count(*) FILTER (WHERE kind != 'resume')
//   resumes    count(*) FILTER (WHERE kind = 'resume')
//   open       count(*) FILTER (WHERE dur IS NULL)
//   total_dur  sum(dur) FILTER (WHERE NOT recursive)
//   self_dur   sum(self_dur)
//
//   SELECT name, calls, total_dur / 1e6 AS total_ms, self_dur / 1e6 AS self_ms
//   FROM tracestore_profile('run.trace') ORDER BY total_dur DESC LIMIT 10;
//
// Calls still open (a live trace) count in calls and open, not in the
// times (their dur is NULL). Ordered by function_id; built from the call
// slices at each scan, in one pass.

#include <algorithm>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "tables.h"
#include "tracestore/calls.h"

namespace tracestore::sql::internal {

namespace {

enum ProfileColumn {
  kPfFunctionId,
  kPfName,
  kPfModule,
  kPfFile,
  kPfLine,
  kPfCalls,
  kPfResumes,
  kPfOpen,
  kPfTotalDur,
  kPfSelfDur,
  kPfPath,
  kPfPid,
};

struct Row {
  uint32_t function = 0;
  uint64_t calls = 0, resumes = 0, open = 0, total_ns = 0, self_ns = 0;
  bool seen() const { return calls + resumes != 0; }
};

class ProfileCursor : public TableCursor {
 public:
  absl::Status Start(TraceView& view, const Constraints& c) override {
    reader_ = &view.reader();
    functions_ = reader_->functions();
    rows_.clear();
    i_ = 0;
    if (c.filter.empty) return absl::OkStatus();
    const TimeScale& time = view.time();
    const CallTree& tree = view.calls();
    // Dense by function id; ids past the functions store (damaged input)
    // in a map.
    std::vector<Row> dense(functions_.size() + 1);
    absl::flat_hash_map<uint32_t, Row> other;
    for (uint32_t t = 0; t < tree.thread_count(); ++t) {
      for (const CallSlice& s : tree.slices(t)) {
        Row& r = s.function < dense.size() ? dense[s.function]
                                           : other[s.function];
        if (s.resumed()) {
          ++r.resumes;
        } else {
          ++r.calls;
        }
        if (s.open()) {
          ++r.open;
          continue;
        }
        r.self_ns += time.ToNs(s.self_ticks());
        if (!s.recursive())
          r.total_ns += time.ToNs(s.end_ticks) - time.ToNs(s.start_ticks);
      }
    }
    for (uint32_t f = 0; f < dense.size(); ++f) {
      if (!dense[f].seen()) continue;
      dense[f].function = f;
      rows_.push_back(dense[f]);
    }
    for (auto& [f, r] : other) {
      r.function = f;
      rows_.push_back(r);
    }
    std::sort(rows_.begin() + static_cast<ptrdiff_t>(rows_.size() - other.size()),
              rows_.end(), [](const Row& a, const Row& b) {
                return a.function < b.function;
              });
    return absl::OkStatus();
  }
  bool Eof() const override { return i_ >= rows_.size(); }
  void Next() override { ++i_; }
  sqlite3_int64 Rowid() const override {
    return static_cast<sqlite3_int64>(i_);
  }
  void Column(sqlite3_context* ctx, int column) override {
    const Row& r = rows_[i_];
    switch (column) {
      case kPfFunctionId:
        if (r.function == 0) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx, r.function);
        }
        return;
      case kPfCalls:
        ResultInt(ctx, r.calls);
        return;
      case kPfResumes:
        ResultInt(ctx, r.resumes);
        return;
      case kPfOpen:
        ResultInt(ctx, r.open);
        return;
      case kPfTotalDur:
        ResultInt(ctx, r.total_ns);
        return;
      case kPfSelfDur:
        ResultInt(ctx, r.self_ns);
        return;
      case kPfName:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kName);
      case kPfModule:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kModule);
      case kPfFile:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kFile);
      case kPfLine:
        return ResultFunctionColumn(ctx, *reader_, r.function,
                                    FunctionColumn::kLine);
      default:
        sqlite3_result_null(ctx);
        return;
    }
  }

 private:
  const TraceReader* reader_ = nullptr;
  std::span<const format::FunctionRecord> functions_;
  std::vector<Row> rows_;
  size_t i_ = 0;
};

}  // namespace

const Table kProfileTable = {
    TableSpec{"tracestore_profile",
              "CREATE TABLE x(function_id INTEGER, name TEXT, module TEXT,"
              " file TEXT, line INTEGER, calls INTEGER, resumes INTEGER,"
              " open INTEGER, total_dur INTEGER, self_dur INTEGER,"
              " path HIDDEN, pid HIDDEN)",
              kPfPath,
              /*id_col=*/-1,
              /*ts_col=*/-1,
              /*thread_col=*/-1,
              /*function_col=*/-1,
              /*depth_col=*/-1,
              /*function_order=*/false,
              /*rows=*/1000,
              /*pid_col=*/kPfPid},
    TraceView::kEvents | TraceView::kFunctions | TraceView::kStrings,
    [] { return std::unique_ptr<TableCursor>(new ProfileCursor); },
};

}  // namespace tracestore::sql::internal
