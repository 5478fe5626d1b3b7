// ProcessTree over real processes: the test writes a root trace and forks
// children that write their own traces inside it (as `record
// --follow-children` lays them out), then reads them as one tree: found at
// Open and at each Refresh, in order, on one clock, with ids per process;
// a SIGKILLed child's committed calls; a child that cannot be read; and the
// SQL tables over the tree (pid pushed down, ids unique).

#include "tracestore/process_tree.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "test_util.h"
#include "tracestore/process_end.h"
#include "tracestore/trace_writer.h"

namespace tracestore {
namespace {

using testing::ScratchDir;

// Writes a trace at `path` with `calls` calls of `name` on one thread;
// closes it unless `stay_open`.
void WriteTrace(const std::string& path, const std::string& name, int calls,
                const std::string& parent_pid, bool stay_open = false) {
  TraceOptions options;
  options.path = path;
  options.properties = {{"command_line", "test " + name},
                        {"parent_pid", parent_pid},
                        {"traced_parent_pid", parent_pid}};
  auto trace = TraceWriter::Create(options);
  if (!trace.ok()) _exit(3);
  const uint32_t fn = (*trace)->AddFunction({"mod", name, "mod.py", 1});
  EventWriter* events = (*trace)->StartThread(syscall(SYS_gettid), "Main");
  for (int i = 0; i < calls; ++i) {
    events->Append(format::EventKind::kCall, fn, 1);
    events->Append(format::EventKind::kReturn, fn, 2);
  }
  if (stay_open) {
    trace->release();  // never closed: the process is killed
    return;
  }
  (*trace)->EndThread(events);
  if (!(*trace)->Close().ok()) _exit(4);
}

// A child process that writes root/child-<pid>.trace and exits with
// `status`; returns its pid once it has exited.
pid_t Child(const std::string& root, const std::string& name, int calls,
            int status) {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string path = absl::StrCat(root, "/child-", getpid(), ".trace");
    WriteTrace(path, name, calls, absl::StrCat(parent));
    RecordExitStatusAtExit(path);
    exit(status);
  }
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == status) << wstatus;
  return pid;
}

int64_t Int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << ": " << sql;
  int64_t v = -1;
  if (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW)
    v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

TEST(ProcessTreeTest, ChildrenFoundOrderedTimedAndQueried) {
  ScratchDir dir;
  const std::string root = dir / "root.trace";
  TraceOptions options;
  options.path = root;
  auto trace = TraceWriter::Create(options);
  ASSERT_TRUE(trace.ok()) << trace.status();
  const uint32_t fn = (*trace)->AddFunction({"mod", "main", "mod.py", 1});
  EventWriter* events = (*trace)->StartThread(syscall(SYS_gettid), "Main");
  events->Append(format::EventKind::kCall, fn, 1);
  events->Append(format::EventKind::kReturn, fn, 2);

  const pid_t a = Child(root, "a", 10, 0);
  auto tree = ProcessTree::Open(root);
  ASSERT_TRUE(tree.ok()) << tree.status();
  ASSERT_EQ((*tree)->size(), 2u);
  EXPECT_EQ((*tree)->root().pid, static_cast<uint64_t>(getpid()));
  const ProcessTree::Process& pa = (*tree)->process(1);
  EXPECT_EQ(pa.pid, static_cast<uint64_t>(a));
  EXPECT_EQ(pa.id_base, uint64_t{1} << ProcessTree::kIdShift);
  EXPECT_EQ(pa.parent_pid, static_cast<uint64_t>(getpid()));
  EXPECT_EQ(pa.tree_parent, static_cast<uint64_t>(getpid()));
  EXPECT_EQ(pa.relative, absl::StrCat("child-", a, ".trace"));
  // The child started after the root: later on the root's time line, and
  // it ended before the root's events so far.
  EXPECT_GT(pa.offset_ns, 0u);
  EXPECT_EQ(ProcessEndOf(pa.view->reader()), ProcessEnd::kExited);
  EXPECT_EQ(ProcessExitOf(pa.view->reader()).kind, format::EndKind::kExited);
  EXPECT_TRUE((*tree)->MultiProcess());

  // Found while the reader runs: a child that exits with 7 and one that
  // is SIGKILLed after its calls.
  const pid_t b = Child(root, "b", 5, 7);
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t parent = getpid();
  const pid_t k = fork();
  if (k == 0) {
    WriteTrace(absl::StrCat(root, "/child-", getpid(), ".trace"), "k", 20,
               absl::StrCat(parent), /*stay_open=*/true);
    char c = 1;
    (void)!write(ready[1], &c, 1);
    pause();
    _exit(0);
  }
  char c;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  close(ready[0]);
  close(ready[1]);
  ASSERT_EQ(kill(k, SIGKILL), 0);
  ASSERT_EQ(waitpid(k, nullptr, 0), k);
  // A child whose trace cannot be read, its process gone (no pid is above
  // pid_max).
  const std::string junk = root + "/child-4194999.trace";
  ASSERT_EQ(mkdir(junk.c_str(), 0755), 0);
  testing::WriteFile(junk + "/trace.header", "junk");

  ASSERT_TRUE((*tree)->Refresh().ok());
  ASSERT_EQ((*tree)->size(), 4u);
  EXPECT_EQ((*tree)->process(1).pid, static_cast<uint64_t>(a));  // unchanged
  for (size_t i = 1; i < 4; ++i)
    EXPECT_EQ((*tree)->process(i).id_base,
              uint64_t{i} << ProcessTree::kIdShift);
  const ProcessTree::Process* pb = (*tree)->Find(b);
  const ProcessTree::Process* pk = (*tree)->Find(k);
  ASSERT_NE(pb, nullptr);
  ASSERT_NE(pk, nullptr);
  EXPECT_EQ(ProcessExitOf(pb->view->reader()).value, 7u);
  EXPECT_EQ(ProcessEndOf(pk->view->reader()), ProcessEnd::kKilled);
  EXPECT_EQ(pk->view->reader().total_events(), 40u);
  EXPECT_LE(pa.offset_ns, pb->offset_ns);
  ASSERT_EQ((*tree)->Unopened().size(), 1u);
  EXPECT_EQ((*tree)->Unopened()[0].first, junk);
  const Problems problems = (*tree)->AllProblems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems.all()[0].kind, ProblemKind::kUnreadable);

  // SQL over the tree.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  ASSERT_EQ(sql::RegisterTables(db), SQLITE_OK);
  const std::string calls = "tracestore_calls('" + root + "')";
  EXPECT_EQ(Int(db, "SELECT count(*) FROM " + calls), 1 + 10 + 5 + 20);
  EXPECT_EQ(
      Int(db, absl::StrCat("SELECT count(*) FROM ", calls, " WHERE pid = ", k)),
      20);
  EXPECT_EQ(Int(db, absl::StrCat("SELECT count(*) FROM tracestore_calls('",
                                 root, "', ", b, ")")),
            5);
  EXPECT_EQ(Int(db, "SELECT count(DISTINCT id) FROM " + calls), 36);
  EXPECT_EQ(
      Int(db, absl::StrCat("SELECT min(id) FROM ", calls, " WHERE pid = ", a)),
      int64_t{1} << ProcessTree::kIdShift);
  EXPECT_EQ(Int(db, absl::StrCat("SELECT count(*) FROM ", calls, " WHERE id = ",
                                 int64_t{2} << ProcessTree::kIdShift)),
            1);
  EXPECT_EQ(
      Int(db, "SELECT count(*) FROM tracestore_processes('" + root + "')"), 4);
  EXPECT_EQ(Int(db, absl::StrCat("SELECT exit_status FROM tracestore_processes"
                                 "('",
                                 root, "') WHERE pid = ", b)),
            7);
  EXPECT_EQ(Int(db, "SELECT count(*) FROM tracestore_problems('" + root + "')"),
            1);
  // Every child's calls start at or after its start on the root's clock.
  EXPECT_EQ(Int(db, "SELECT count(*) FROM " + calls +
                        " c JOIN tracestore_processes('" + root +
                        "') p USING (pid) WHERE c.ts < p.start_ts"),
            0);
  sqlite3_close(db);
  (*trace)->EndThread(events);
  ASSERT_TRUE((*trace)->Close().ok());
}

TEST(ProcessTreeTest, TraceWithoutChildrenIsOneProcess) {
  ScratchDir dir;
  const std::string root = dir / "one.trace";
  WriteTrace(root, "main", 3, "1");
  auto tree = ProcessTree::Open(root);
  ASSERT_TRUE(tree.ok()) << tree.status();
  EXPECT_EQ((*tree)->size(), 1u);
  EXPECT_FALSE((*tree)->MultiProcess());
  EXPECT_EQ((*tree)->root().id_base, 0u);
  EXPECT_EQ((*tree)->root().offset_ns, 0u);
  EXPECT_TRUE((*tree)->AllProblems().empty());
}

}  // namespace
}  // namespace tracestore
