// tracestore_problems(path): what the reader found wrong with a trace, one
// row per problem: id, kind ('unreadable', 'truncated', 'checksum',
// 'header'), message. Empty for a sound trace. The other tables answer from
// what could be read; this table says whether that answer is partial.
//
//   SELECT kind, count(*) FROM tracestore_problems('run.trace') GROUP BY 1;

#include <vector>

#include "tables.h"
#include "tracestore/problems.h"

namespace tracestore::sql::internal {

namespace {

enum ProblemColumn { kPrId, kPrKind, kPrMessage, kPrPath };

class ProblemsCursor : public TableCursor {
 public:
  absl::Status Start(TraceView& view, const Constraints& c) override {
    return StartRows(view.reader().AllProblems().all(), c);
  }
  // Every process of the tree: the root's problems, each child's, and the
  // children that cannot be read.
  absl::Status StartTree(ProcessTree& tree, const Constraints& c) override {
    return StartRows(tree.AllProblems().all(), c);
  }
  absl::Status StartRows(std::vector<Problem> rows, const Constraints& c) {
    rows_ = std::move(rows);
    const ScanFilter& f = c.filter;
    i_ = 0;
    end_ = rows_.size();
    if (f.empty || f.id_min > f.id_max) end_ = 0;
    if (f.id_max < end_) end_ = f.id_max + 1;
    if (f.id_min > i_) i_ = std::min<uint64_t>(f.id_min, end_);
    return absl::OkStatus();
  }
  bool Eof() const override { return i_ >= end_; }
  void Next() override { ++i_; }
  sqlite3_int64 Rowid() const override {
    return static_cast<sqlite3_int64>(i_);
  }
  void Column(sqlite3_context* ctx, int column) override {
    const Problem& p = rows_[i_];
    switch (column) {
      case kPrId:
        ResultInt(ctx, i_);
        break;
      case kPrKind:
        ResultStaticText(ctx, ProblemKindKey(p.kind));
        break;
      case kPrMessage:
        ResultText(ctx, p.message);
        break;
      default:
        sqlite3_result_null(ctx);
        break;
    }
  }

 private:
  std::vector<Problem> rows_;
  uint64_t i_ = 0, end_ = 0;
};

}  // namespace

const Table kProblemsTable = {
    TableSpec{"tracestore_problems",
              "CREATE TABLE x(id INTEGER, kind TEXT, message TEXT,"
              " path HIDDEN)",
              kPrPath,
              /*id_col=*/0,
              -1,
              -1,
              -1,
              -1,
              /*function_order=*/false,
              10},
    /*needs=*/0,
    [] { return std::unique_ptr<TableCursor>(new ProblemsCursor); },
    /*whole_tree=*/true,
};

}  // namespace tracestore::sql::internal
