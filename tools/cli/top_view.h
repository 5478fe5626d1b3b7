// TopModel: what `tracestore top` shows, without the terminal: it follows
// a trace (live or closed) through a Profile (tracestore/profile.h), keeps
// the rows sorted and the rates current, and renders plain text lines that
// the curses screen and `top --once` both print.
//
//   auto model = TopModel::Open("run.trace");
//   (*model)->Refresh(MonotonicSeconds());    // about once a second
//   (*model)->set_sort(TopSort::kTotal);
//   for (const std::string& line : (*model)->Summary(80)) puts(line.c_str());
//   puts((*model)->ColumnHeader(80).c_str());
//   for (size_t i = 0; i < (*model)->row_count(); ++i)
//     puts((*model)->Row(i, 80).c_str());
//
// A trace of many processes (process_tree.h): every process's functions,
// each row with its pid; children that start while top runs are picked up
// at the next refresh; threads are numbered over all processes.
//
// Read-only: the trace is mapped read-only and never written.
// Thread-safety: none.

#ifndef TRACESTORE_TOOLS_CLI_TOP_VIEW_H_
#define TRACESTORE_TOOLS_CLI_TOP_VIEW_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "tracestore/function_label.h"
#include "tracestore/problems.h"
#include "tracestore/process_tree.h"
#include "tracestore/profile.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

enum class TopSort { kSelf, kTotal, kCalls, kRate, kName };
std::string_view TopSortName(TopSort sort);
bool ParseTopSort(std::string_view name, TopSort* sort);

struct TopRow {
  uint32_t process = 0;  // index of the process (0: the root)
  uint32_t function = 0;
  uint64_t calls = 0;
  uint64_t open = 0;  // calls in flight
  uint64_t self_ns = 0;
  uint64_t total_ns = 0;
  double rate = 0;  // calls per second (see TopModel::rates_are_averages)
};

class TopModel {
 public:
  enum class State { kRecording, kClosed, kWriterGone };
  static constexpr int64_t kAllThreads = -1;

  static absl::StatusOr<std::unique_ptr<TopModel>> Open(
      const std::string& path);

  // Picks up what the writer committed; wall_seconds is a monotonic clock
  // for the rates. A failure is also kept in error().
  absl::Status Refresh(double wall_seconds);

  TopSort sort() const { return sort_; }
  void set_sort(TopSort sort);
  // kAllThreads or a thread index over all processes, the root's first
  // (clamped); rows are rebuilt at once.
  void SelectThread(int64_t thread);
  // Steps through all, 0, 1, ... and around.
  void StepThread(int delta);
  int64_t thread() const { return thread_; }

  size_t row_count() const { return rows_.size(); }
  const TopRow& row(size_t i) const { return rows_[i]; }
  const std::string& Name(uint32_t function, uint32_t process = 0) const {
    return procs_[process]->labels.Get(function);
  }
  size_t process_count() const { return procs_.size(); }
  bool multi_process() const;
  State state() const;
  // Rates are averages over the trace (first screen, closed trace, or just
  // after a change of thread) rather than over the last refresh.
  bool rates_are_averages() const { return averages_; }

  // The lines above the table, the table's header, one row, and what to
  // say about the writer ("" while it records); each at most `width`
  // columns.
  std::vector<std::string> Summary(size_t width) const;
  std::string ColumnHeader(size_t width) const;
  std::string Row(size_t i, size_t width) const;
  std::string StateMessage() const;
  const std::string& error() const { return error_; }
  const TraceReader& reader() const { return *reader_; }
  // Every process's problems and the children that cannot be read.
  Problems AllProblems() const;

 private:
  // One process: its reader and what top derives from it.
  struct Proc {
    std::unique_ptr<TraceReader> reader;
    Profile profile;
    FunctionLabels labels;
    std::vector<uint64_t> ended;
    uint64_t offset_ns = 0;
  };
  TopModel(std::unique_ptr<TraceReader> reader,
           std::unique_ptr<ProcessTree> tree);
  void Build(double wall_seconds, bool fresh_data);
  void Sort();
  double DurationSeconds() const;
  size_t thread_total() const;
  // The process and its thread for a thread index over all processes.
  std::pair<uint32_t, uint32_t> Locate(int64_t thread) const;

  const TraceReader* reader_;                 // the root's
  std::unique_ptr<ProcessTree> tree_;         // finds the children
  std::vector<std::unique_ptr<Proc>> procs_;  // procs_[0]: the root
  std::vector<TopRow> rows_;
  TopSort sort_ = TopSort::kSelf;
  int64_t thread_ = kAllThreads;
  std::string error_;

  // For the rates: the previous refresh's counts, in the previous scope.
  absl::flat_hash_map<uint64_t, uint64_t> previous_calls_;  // process, fn
  int64_t previous_scope_ = kAllThreads;
  double previous_wall_ = -1;
  uint64_t previous_events_ = 0, previous_total_calls_ = 0;
  double last_wall_ = 0;
  bool averages_ = true;
  uint64_t events_ = 0, total_calls_ = 0;
  double events_rate_ = 0, calls_rate_ = 0;
  uint64_t self_sum_ns_ = 0;
};

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_TOP_VIEW_H_
