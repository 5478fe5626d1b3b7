// The small tables: tracestore_functions(path), tracestore_threads(path),
// tracestore_marks(path). Each row is one record of its store; only id
// constraints are pushed down (the tables are small: SQLite filters the
// rest).
//
//   SELECT c.name, m.name FROM tracestore_marks('run.trace') m
//   JOIN tracestore_threads('run.trace') t ON t.id = m.thread_id;

#include <algorithm>

#include "tables.h"
#include "tracestore/code_ranges.h"
#include "tracestore/event_scan.h"

namespace tracestore::sql::internal {

namespace {

// Rows [i, end) of a store, their ids being index + id_base.
class IndexCursor : public TableCursor {
 public:
  explicit IndexCursor(uint64_t id_base) : id_base_(id_base) {}
  absl::Status Start(TraceView& view, const Constraints& c) override {
    view_ = &view;
    const uint64_t n = Size(view.reader());
    const ScanFilter& f = c.filter;
    i_ = end_ = 0;
    if (f.empty || f.id_max < id_base_ || f.id_min > f.id_max)
      return absl::OkStatus();
    const uint64_t first = std::max(f.id_min, id_base_) - id_base_;
    const uint64_t last = f.id_max - id_base_;  // inclusive
    i_ = std::min(first, n);
    end_ = last >= n ? n : last + 1;
    if (end_ < i_) end_ = i_;
    return absl::OkStatus();
  }
  bool Eof() const override { return i_ >= end_; }
  void Next() override { ++i_; }
  sqlite3_int64 Rowid() const override {
    return static_cast<sqlite3_int64>(i_ + id_base_);
  }

 protected:
  virtual uint64_t Size(const TraceReader& reader) const = 0;
  const TraceReader& reader() const { return view_->reader(); }
  // On the root's time line (the process's times + scope.ts_offset).
  uint64_t ns(uint64_t ticks) const {
    return scope.ts_offset + view_->time().ToNs(ticks);
  }
  uint64_t i_ = 0, end_ = 0;
  const uint64_t id_base_;

 private:
  const TraceView* view_ = nullptr;
};

// ---------------------------------------------------------------------------

enum FunctionColumn {
  kFnId,
  kFnModule,
  kFnName,
  kFnFile,
  kFnLine,
  kFnIsPython,
  kFnTraced,
  kFnCodeAddr,
  kFnSlotBegin,
  kFnSlotEnd,
  kFnPath,
  kFnPid,
};

class FunctionsCursor : public IndexCursor {
 public:
  FunctionsCursor() : IndexCursor(1) {}
  absl::Status Start(TraceView& view, const Constraints& c) override {
    // The view keeps the id -> range lookup current across refreshes; a
    // scan only looks rows up in it.
    slots_ = &view.first_code_ranges();
    return IndexCursor::Start(view, c);
  }
  void Column(sqlite3_context* ctx, int column) override {
    const format::FunctionRecord& f = reader().functions()[i_];
    switch (column) {
      case kFnId:
        ResultInt(ctx, i_ + 1);
        break;
      case kFnModule:
        ResultText(ctx, reader().String(f.module));
        break;
      case kFnName:
        ResultText(ctx, reader().String(f.qualname));
        break;
      case kFnFile:
        ResultText(ctx, reader().String(f.file));
        break;
      case kFnLine:
        ResultInt(ctx, f.first_line);
        break;
      case kFnIsPython:
        ResultInt(ctx, (f.flags & format::kFunctionIsPython) != 0);
        break;
      case kFnTraced:
        ResultInt(ctx, (f.flags & format::kFunctionTraced) != 0);
        break;
      case kFnCodeAddr:
        ResultInt(ctx, f.code_addr);
        break;
      case kFnSlotBegin:
      case kFnSlotEnd: {
        // The function's first code range; NULL when it has none.
        const format::CodeRangeRecord* r =
            slots_->Find(static_cast<uint32_t>(i_ + 1));
        if (r == nullptr) {
          sqlite3_result_null(ctx);
        } else {
          ResultInt(ctx,
                    column == kFnSlotBegin ? r->begin : r->begin + r->size);
        }
        break;
      }
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  uint64_t Size(const TraceReader& r) const override {
    return r.functions().size();
  }

  const FirstCodeRanges* slots_ = nullptr;
};

// ---------------------------------------------------------------------------

enum ThreadColumn {
  kThId,
  kThOsTid,
  kThName,
  kThStartTs,
  kThEndTs,
  kThEventCount,
  kThEventsFirst,
  kThWindowStartTs,
  kThPath,
  kThPid,
};

class ThreadsCursor : public IndexCursor {
 public:
  ThreadsCursor() : IndexCursor(0) {}
  void Column(sqlite3_context* ctx, int column) override {
    const format::ThreadRecord& t = reader().threads()[i_];
    switch (column) {
      case kThId:
        ResultInt(ctx, i_);
        break;
      case kThOsTid:
        ResultInt(ctx, t.os_tid);
        break;
      case kThName:
        ResultText(ctx, reader().String(reader().ThreadName(t)));
        break;
      case kThStartTs:
        ResultInt(ctx, ns(t.start_ticks));
        break;
      case kThEndTs: {
        const uint64_t end = reader().ThreadEndTicks(t);
        if (end == 0) {
          sqlite3_result_null(ctx);  // still running
        } else {
          ResultInt(ctx, ns(end));
        }
        break;
      }
      case kThEventCount:
        ResultInt(ctx, reader().events(static_cast<uint32_t>(i_)).size());
        break;
      case kThEventsFirst:
        ResultInt(ctx, reader().events_first(static_cast<uint32_t>(i_)));
        break;
      case kThWindowStartTs: {
        // Where a flight recorder's window starts for this thread; NULL
        // when it kept every event.
        const auto thread = static_cast<uint32_t>(i_);
        const auto events = reader().events(thread);
        if (!reader().window_truncated(thread)) {
          sqlite3_result_null(ctx);
        } else if (events.empty()) {
          const uint64_t end = reader().ThreadEndTicks(t);
          end == 0 ? sqlite3_result_null(ctx) : ResultInt(ctx, ns(end));
        } else {
          ResultInt(ctx, ns(format::EventTicks(events.front())));
        }
        break;
      }
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  uint64_t Size(const TraceReader& r) const override {
    return std::min<uint64_t>(r.threads().size(), kMaxRowIdThreads);
  }
};

// ---------------------------------------------------------------------------

enum MarkColumn {
  kMkId,
  kMkTs,
  kMkThreadId,
  kMkName,
  kMkKind,
  kMkValue,
  kMkPath,
  kMkPid,
};

class MarksCursor : public IndexCursor {
 public:
  MarksCursor() : IndexCursor(0) {}
  void Column(sqlite3_context* ctx, int column) override {
    const format::MarkRecord& m = reader().marks()[i_];
    switch (column) {
      case kMkId:
        ResultInt(ctx, i_);
        break;
      case kMkTs:
        ResultInt(ctx, ns(m.ticks));
        break;
      case kMkThreadId:
        ResultInt(ctx, m.thread);
        break;
      case kMkName:
        ResultText(ctx, reader().String(m.name));
        break;
      case kMkKind:
        ResultStaticText(ctx, MarkKindName(m.kind));
        break;
      case kMkValue:
        ResultInt(ctx, m.value);
        break;
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  uint64_t Size(const TraceReader& r) const override {
    return r.marks().size();
  }
};

constexpr TableSpec SmallSpec(const char* name, const char* schema,
                              int path_col, double rows, int pid_col) {
  return TableSpec{name,
                   schema,
                   path_col,
                   /*id_col=*/0,
                   -1,
                   -1,
                   -1,
                   -1,
                   /*function_order=*/false,
                   rows,
                   pid_col};
}

}  // namespace

const Table kFunctionsTable = {
    SmallSpec("tracestore_functions",
              "CREATE TABLE x(id INTEGER, module TEXT, name TEXT, file TEXT,"
              " line INTEGER, is_python INTEGER, traced INTEGER,"
              " code_addr INTEGER, slot_begin INTEGER, slot_end INTEGER,"
              " path HIDDEN, pid HIDDEN)",
              kFnPath, 1e3, kFnPid),
    TraceView::kFunctions | TraceView::kStrings | TraceView::kCodeRanges,
    [] { return std::unique_ptr<TableCursor>(new FunctionsCursor); },
};

const Table kThreadsTable = {
    SmallSpec("tracestore_threads",
              "CREATE TABLE x(id INTEGER, os_tid INTEGER, name TEXT,"
              " start_ts INTEGER, end_ts INTEGER, event_count INTEGER,"
              " events_first INTEGER, window_start_ts INTEGER,"
              " path HIDDEN, pid HIDDEN)",
              kThPath, 10, kThPid),
    TraceView::kThreads | TraceView::kStrings,
    [] { return std::unique_ptr<TableCursor>(new ThreadsCursor); },
};

const Table kMarksTable = {
    SmallSpec("tracestore_marks",
              "CREATE TABLE x(id INTEGER, ts INTEGER, thread_id INTEGER,"
              " name TEXT, kind TEXT, value INTEGER, path HIDDEN,"
              " pid HIDDEN)",
              kMkPath, 100, kMkPid),
    TraceView::kMarks | TraceView::kStrings,
    [] { return std::unique_ptr<TableCursor>(new MarksCursor); },
};

}  // namespace tracestore::sql::internal
