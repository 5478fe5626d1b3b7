// The traces a connection has open: one ProcessTree per path (the trace and
// its child processes' traces), shared by the tables, refreshed when no
// scan of it is under way.
//
//   SessionCache cache;
//   auto session = cache.Get("run.trace");      // opens, or reuses
//   if (session.ok() && (*session)->active == 0)
//     (*session)->tree->Refresh();              // see what was committed
//
// Why "no scan under way": a refresh may remap the stores and extends the
// call slices, which would pull the ground from under a cursor in the middle
// of its scan. So a cursor counts itself in `active` from xFilter until it
// reaches its end or closes, and xFilter refreshes only when the count is
// zero. A top-level query therefore always sees what has been committed so
// far, and the tables of one join all read the same snapshot.
//
// Thread-safety: none; SQLite calls a connection's virtual tables one at a
// time.

#ifndef TRACESTORE_SQLITE_EXT_SESSION_H_
#define TRACESTORE_SQLITE_EXT_SESSION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tracestore/process_tree.h"

namespace tracestore::sql::internal {

struct Session {
  std::string path;
  std::unique_ptr<ProcessTree> tree;
  int active = 0;  // cursors between xFilter and their end
};

class SessionCache {
 public:
  // Traces kept open once no cursor uses them (each holds its mappings and
  // whatever slices and indexes were built).
  static constexpr size_t kMaxIdle = 4;

  // The session for `path`: the open one, or a new one when there is none
  // or the trace at `path` was replaced (recorded anew) since.
  absl::StatusOr<std::shared_ptr<Session>> Get(const std::string& path);

  // Strict mode (SELECT tracestore_strict(1)): a scan of a trace with
  // problems fails with them instead of answering from what could be read.
  bool strict = false;

 private:
  void EvictIdle();
  std::vector<std::shared_ptr<Session>> sessions_;  // least recently used first
};

}  // namespace tracestore::sql::internal

#endif  // TRACESTORE_SQLITE_EXT_SESSION_H_
