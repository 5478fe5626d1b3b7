// Helpers for the SQL tests: traces with a known call tree written through
// TraceWriter (so the expected slices are known independently of the code
// under test), and small wrappers to run SQL and external commands.

#ifndef TRACESTORE_TESTS_SQLITE_EXT_SQL_TEST_UTIL_H_
#define TRACESTORE_TESTS_SQLITE_EXT_SQL_TEST_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "tracestore/format.h"
#include "tracestore/trace_writer.h"

namespace tracestore::testing {

// A slice as the generator made it: the truth the tables are checked
// against.
struct ExpectedSlice {
  uint32_t thread;
  uint64_t open_index;  // event index in the thread
  uint32_t function;
  uint32_t depth;
  int64_t parent_open_index;  // -1: root
  uint64_t start_ticks;
  uint64_t end_ticks;  // UINT64_MAX: left open
  uint32_t call_line;
};

struct TreeOptions {
  uint32_t threads = 3;
  uint32_t functions = 40;
  uint64_t slices_per_thread = 1500;
  uint32_t max_depth = 12;
  uint64_t seed = 1;
  bool use_tsc = true;
  uint32_t event_chunk_shift = 12;  // small chunks: many boundaries
};

// Writes random call trees per thread: Python calls (return or unwind), C
// calls, generator resume/yield, line events and mark events, with strictly
// increasing synthetic times. Records what the slices must be.
class TreeWriter {
 public:
  TreeWriter(const std::string& path, const TreeOptions& options);
  TraceWriter& writer() { return *writer_; }
  EventWriter* thread(uint32_t i) { return threads_[i]; }
  // Appends `slices` more complete root trees' worth of slices to thread i.
  void WriteSlices(uint32_t thread, uint64_t slices);
  // Appends raw events (for unbalanced input).
  void Append(uint32_t thread, format::EventKind kind, uint32_t function,
              uint32_t value);
  // Everything written to every thread, then Close().
  void WriteAllAndClose();
  const std::vector<ExpectedSlice>& slices() const { return slices_; }
  uint64_t events(uint32_t thread) const { return threads_[thread]->count(); }
  uint64_t total_events() const;

 private:
  void Tree(uint32_t thread, uint32_t depth, int64_t parent, uint64_t* budget);
  uint64_t Tick() { return now_ += 1 + rng_() % 200; }

  TreeOptions options_;
  std::unique_ptr<TraceWriter> writer_;
  std::vector<EventWriter*> threads_;
  std::vector<uint32_t> functions_;
  std::vector<ExpectedSlice> slices_;
  std::mt19937_64 rng_;
  uint64_t now_ = 1000;
};

// A sqlite3 handle with the tables registered (the SQLITE_CORE build).
struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
Db OpenDb();

// Runs one statement; every row's values as text ("NULL" for NULL), columns
// joined by '|'. On an error returns one row "ERROR: message".
std::vector<std::string> Rows(sqlite3* db, const std::string& sql);
// The single integer a statement returns (-1 on error or no row).
int64_t Int(sqlite3* db, const std::string& sql);
// The error message of a failing statement, "" if it succeeds.
std::string Error(sqlite3* db, const std::string& sql);
// The EXPLAIN QUERY PLAN detail lines, joined by '\n'.
std::string Plan(sqlite3* db, const std::string& sql);

// Runs a shell command; returns its exit code and fills stdout (and stderr
// when `err` is set).
int Run(const std::string& command, std::string* out,
        std::string* err = nullptr);
// Quotes for /bin/sh.
std::string ShellQuote(const std::string& s);

}  // namespace tracestore::testing

#endif  // TRACESTORE_TESTS_SQLITE_EXT_SQL_TEST_UTIL_H_
