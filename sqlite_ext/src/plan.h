// The query-plan contract shared by every tracestore table: which
// constraints xBestIndex hands to xFilter, how they are numbered, and how
// xFilter turns their values into a scan filter.
//
//   int rc = internal::BestIndex(spec, info);          // in xBestIndex
//   internal::Constraints c;
//   if (!internal::DecodeArgs(idx_num, argc, argv, &c)) ...   // in xFilter
//
// Decoding follows SQLite's own comparison rules for an INTEGER column (the
// right-hand side gets numeric affinity; a number is less than any text or
// blob; NULL matches nothing), so a constraint handed to xFilter is applied
// exactly and xBestIndex may set `omit` for it.

#ifndef TRACESTORE_SQLITE_EXT_PLAN_H_
#define TRACESTORE_SQLITE_EXT_PLAN_H_

#include <cstdint>
#include <string>

#include "sqlite_api.h"
#include "tracestore/calls.h"

namespace tracestore::sql::internal {

// What xBestIndex knows about a table: where its constrainable columns are
// (-1: not constrainable) and what it can do.
struct TableSpec {
  const char* name;    // "tracestore_events"
  const char* schema;  // CREATE TABLE x(...), path HIDDEN after the
                       // columns (then, in per-process tables, pid HIDDEN:
                       // tracestore_calls('run.trace', 4242) reads one
                       // process)
  int path_col;
  int id_col;
  int ts_col;  // rows are in ts order within a thread
  int thread_col;
  int function_col;  // `=` through the posting index
  int depth_col;
  bool function_order;  // can deliver rows grouped by function_id
  double rows;          // a guess at the size of a whole scan
  int pid_col = -1;     // the process column (`=` picks one process)
};

// The plan contract: idxNum bits. A constraint's value is in argv when its
// slot bit is set; argv holds the values in slot order (lowest bit first).
//
//   bit  slot           constraint                 argv value
//   ---  -------------  -------------------------  -----------------------
//    0   kPath          path =                     the trace directory
//    1   kIdEq          id =                       integer
//    2   kIdLower       id > | id >=               integer (bit 18: >)
//    3   kIdUpper       id < | id <=               integer (bit 19: <)
//    4   kTsEq          ts =                       ns
//    5   kTsLower       ts > | ts >=               ns (bit 21: >)
//    6   kTsUpper       ts < | ts <=               ns (bit 22: <)
//    7   kThreadEq      thread_id =                thread index
//    8   kFunctionEq    function_id =              function id
//    9   kDepthEq       depth =                    depth
//   10   kDepthLower    depth > | depth >=         depth (bit 26: >)
//   11   kDepthUpper    depth < | depth <=         depth (bit 27: <)
//   12   kPidEq         pid =                      process id (never
//                                                  strict: bit 28 is free)
//   16+s                the constraint in slot s is strict (> or <)
//   28   kByFunction    no argv: rows come grouped by function_id,
//                       ascending (ORDER BY / GROUP BY function_id consumed)
//   29   kOrdered       no argv: ORDER BY consumed; informational, the scan
//                       order (id order, or kByFunction) is the same anyway
//
// A plan without kPath is chosen only when the statement gives no path at
// all; xFilter then fails with a message saying how to call the table.
// Constraints are consumed only on the columns a TableSpec names, one per
// slot (a second `id >` is left to SQLite), and always with omit = 1.
enum Slot : int {
  kPath = 0,
  kIdEq,
  kIdLower,
  kIdUpper,
  kTsEq,
  kTsLower,
  kTsUpper,
  kThreadEq,
  kFunctionEq,
  kDepthEq,
  kDepthLower,
  kDepthUpper,
  kPidEq,
  kSlotCount,
};
inline constexpr int kStrictShift = 16;
inline constexpr int kByFunction = 1 << 28;
inline constexpr int kOrdered = 1 << 29;

int BestIndex(const TableSpec& spec, sqlite3_index_info* info);

// The decoded constraints of one xFilter call.
struct Constraints {
  std::string path;
  bool has_path = false;
  CallFilter filter;  // ids, ts, thread, function, depth; `empty` if none
                      // can match
  bool has_pid = false;  // pid = (the value is in pid; `empty` if it can
  uint64_t pid = 0;      // match no process)
};

// Fills `out` from the idxNum and argv xBestIndex chose. Returns false when
// argv does not match idx_num (a bug, reported as an error).
bool DecodeArgs(int idx_num, int argc, sqlite3_value** argv, Constraints* out);

// Narrows [*lo, *hi], a range of non-negative integers, to the values v of
// an INTEGER column for which "v op rhs" holds in SQLite (op: an
// SQLITE_INDEX_CONSTRAINT_* of EQ, GT, GE, LT, LE). False when none does.
// Exposed for tests.
bool Narrow(sqlite3_value* rhs, int op, uint64_t* lo, uint64_t* hi);

}  // namespace tracestore::sql::internal

#endif  // TRACESTORE_SQLITE_EXT_PLAN_H_
