// ProcessTree over real processes: the test writes a root trace and forks
// children that write their own traces inside it (as `record
// --follow-children` lays them out), then reads them as one tree: found at
// Open and at each Refresh, in order, on one clock, with ids per process;
// a SIGKILLed child's committed calls; a child that cannot be read; and the
// SQL tables over the tree (pid pushed down, ids unique).
//
// Each child execs this binary again (ProcessTreeChild.Run, told what to
// write through the environment) rather than go on after fork(): the parent
// has threads (its trace's page filler), and a forked child that allocates
// can block forever on an allocator lock one of them held at the fork
// (seen under ASan). Everything the child needs is prepared before fork().

#include "tracestore/process_tree.h"

#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

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

// Forks a child that execs this binary to run ProcessTreeChild.Run with
// `env` (TS_TREE_CHILD_* settings) added; returns its pid. Nothing is
// allocated between fork() and exec.
pid_t Spawn(const std::vector<std::string>& env) {
  std::vector<std::string> strings = env;
  for (char** e = environ; *e != nullptr; ++e) strings.emplace_back(*e);
  std::vector<char*> envp;
  for (std::string& e : strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::string self = "/proc/self/exe", filter = "--gtest_filter=ProcessTreeChild.Run";
  char* argv[] = {self.data(), filter.data(), nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  return pid;
}

std::vector<std::string> ChildEnv(const std::string& root,
                                  const std::string& name, int calls,
                                  int status) {
  return {absl::StrCat("TS_TREE_CHILD_ROOT=", root),
          absl::StrCat("TS_TREE_CHILD_NAME=", name),
          absl::StrCat("TS_TREE_CHILD_CALLS=", calls),
          absl::StrCat("TS_TREE_CHILD_STATUS=", status),
          absl::StrCat("TS_TREE_CHILD_PARENT=", getpid())};
}

// A child process that writes root/child-<pid>.trace and exits with
// `status`; returns its pid once it has exited.
pid_t Child(const std::string& root, const std::string& name, int calls,
            int status) {
  const pid_t pid = Spawn(ChildEnv(root, name, calls, status));
  int wstatus = 0;
  EXPECT_EQ(waitpid(pid, &wstatus, 0), pid);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == status) << wstatus;
  return pid;
}

// What a child runs, in a fresh process: TS_TREE_CHILD_READY_FD set means
// the trace stays open and the child writes a byte there, then waits to be
// killed.
TEST(ProcessTreeChild, Run) {
  const char* root = std::getenv("TS_TREE_CHILD_ROOT");
  if (root == nullptr) GTEST_SKIP() << "run by ProcessTreeTest as a child";
  const std::string path = absl::StrCat(root, "/child-", getpid(), ".trace");
  const int calls = std::atoi(std::getenv("TS_TREE_CHILD_CALLS"));
  const char* ready = std::getenv("TS_TREE_CHILD_READY_FD");
  WriteTrace(path, std::getenv("TS_TREE_CHILD_NAME"), calls,
             std::getenv("TS_TREE_CHILD_PARENT"), /*stay_open=*/ready != nullptr);
  if (ready != nullptr) {
    char c = 1;
    (void)!write(std::atoi(ready), &c, 1);
    for (;;) pause();
  }
  RecordExitStatusAtExit(path);
  exit(std::atoi(std::getenv("TS_TREE_CHILD_STATUS")));
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
  std::vector<std::string> env = ChildEnv(root, "k", 20, 0);
  env.push_back(absl::StrCat("TS_TREE_CHILD_READY_FD=", ready[1]));
  const pid_t k = Spawn(env);
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
