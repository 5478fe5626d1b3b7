"""One trace for a whole process tree (issue 18): a program recorded with
--follow-children whose children are a multiprocessing Pool under each
start method, a ProcessPoolExecutor and a Python child started through
`sh -c`, read as one trace — in the real sqlite3 shell, through `query`,
`verify`, `info` and the chrome and sqlite exports — live while children
come and go, and with a child killed by SIGKILL.

Every process of the workload (tree_workload.py) counts its own calls; the
trace must show the same counts per process.

Run by ctest with TRACESTORE_CLI, TRACED_PYTHON, SQLITE_EXT and PYTHONPATH.
"""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest

CLI = os.environ["TRACESTORE_CLI"]
PY = os.environ.get("TRACED_PYTHON") or ""
EXT = os.environ["SQLITE_EXT"]
HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "tree_workload.py")
SQLITE3 = shutil.which("sqlite3")


def run(args, **kw):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True,
                          timeout=kw.pop("timeout", 300), **kw)


def record(out, *args):
    r = run([PY, "-m", "tracestore", "record", "-o", out, "--follow-children",
             "-q", "--", WORKLOAD] + list(args))
    assert r.returncode == 0, r.stderr
    return {int(pid): c for pid, c in json.loads(r.stdout).items()}


def shell(sql):
    """The sqlite3 shell with the extension loaded: rows as lists of str."""
    r = run([SQLITE3, "-bail", "-batch", "-cmd", ".load " + EXT, ":memory:",
             sql])
    assert r.returncode == 0, r.stderr
    return [line.split("|") for line in r.stdout.splitlines()]


def counts_sql(trace):
    return ("SELECT pid, name, count(*) FROM tracestore_calls('%s') "
            "WHERE name IN ('work', 'leaf') AND file = '%s' "
            "GROUP BY pid, name ORDER BY pid, name;" % (trace, WORKLOAD))


def as_counts(rows):
    got = {}
    for pid, name, n in rows:
        got.setdefault(int(pid), {})[name] = int(n)
    return got


def expected_counts(seen):
    return {pid: {"work": c["work"], "leaf": c["leaf"]}
            for pid, c in seen.items()}


def child_traces(trace):
    found = []
    for root, dirs, _ in os.walk(trace):
        found += [os.path.join(root, d) for d in dirs
                  if d.startswith("child-") and d.endswith(".trace")]
    return found


@unittest.skipUnless(PY, "no Python recorder in this build")
@unittest.skipUnless(SQLITE3, "no sqlite3 shell")
class TreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tstree-")
        cls.trace = os.path.join(cls.tmp, "tree.trace")
        cls.seen = record(cls.trace)
        cls.root_pid = int(shell("SELECT pid FROM tracestore_processes('%s') "
                                 "WHERE depth = 0;" % cls.trace)[0][0])

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, True)

    def test_counts_per_process(self):
        # Must show 1: one query over the parent's trace, per process and
        # function, equal to what each process counted itself.
        got = as_counts(shell(counts_sql(self.trace)))
        self.assertEqual(got, expected_counts(self.seen))
        # Pool workers under three start methods, the executor's workers and
        # the sh -c child: many processes ran work().
        self.assertGreaterEqual(len(got), 6, got)

    def test_processes_table(self):
        rows = shell("SELECT pid, ifnull(parent_pid, ''), "
                     "ifnull(tree_parent, ''), ended, depth, trace "
                     "FROM tracestore_processes('%s');" % self.trace)
        procs = {int(r[0]): r[1:] for r in rows}
        # Every child trace is a process of the table, and the root.
        self.assertEqual(len(procs), len(child_traces(self.trace)) + 1)
        for pid, c in self.seen.items():
            self.assertIn(pid, procs)
            parent, tree_parent, ended, depth, trace = procs[pid]
            self.assertEqual(int(parent), c["ppid"], (pid, procs[pid]))
            # A plain os.fork child leaves through os._exit: never closed.
            self.assertEqual(ended, "killed" if c.get("forked") else "exited",
                             (pid, procs[pid]))
            if pid != self.root_pid:
                self.assertIn(int(tree_parent), procs)
                self.assertGreaterEqual(int(depth), 1)
                self.assertTrue(trace.startswith("child-%d" % pid) or
                                "/child-%d" % pid in trace, trace)
        # The sh -c child: its OS parent is the shell, which is not traced;
        # in the tree it hangs under the Python parent.
        sh_child = [pid for pid, c in self.seen.items()
                    if c["ppid"] not in procs and pid != self.root_pid]
        self.assertEqual(len(sh_child), 1, sh_child)
        self.assertEqual(int(procs[sh_child[0]][1]), self.root_pid)
        # Both exited through exit(): their status is recorded.
        rows = shell("SELECT pid, exit_status FROM tracestore_processes('%s')"
                     " WHERE pid IN (%d, %d);"
                     % (self.trace, self.root_pid, sh_child[0]))
        self.assertEqual(sorted(rows), sorted([[str(self.root_pid), "0"],
                                               [str(sh_child[0]), "0"]]))

    def test_pid_pushdown_and_unique_ids(self):
        pid = max(self.seen, key=lambda p: self.seen[p]["leaf"])
        for where in ("tracestore_calls('%s', %d) WHERE 1" % (self.trace, pid),
                      "tracestore_calls('%s') WHERE pid = %d" % (self.trace,
                                                                pid)):
            rows = shell("SELECT count(*) FROM %s AND name = 'leaf' AND "
                         "file = '%s';" % (where, WORKLOAD))
            self.assertEqual(int(rows[0][0]), self.seen[pid]["leaf"])
        rows = shell("SELECT count(*), count(DISTINCT id), count(DISTINCT pid)"
                     " FROM tracestore_calls('%s');" % self.trace)
        n, distinct, pids = map(int, rows[0])
        self.assertEqual(n, distinct)
        self.assertGreaterEqual(pids, len(self.seen))
        # parent_id points at a call of the same process.
        rows = shell("SELECT count(*) FROM tracestore_calls('{0}') c "
                     "JOIN tracestore_calls('{0}') p ON p.id = c.parent_id "
                     "WHERE p.pid != c.pid;".format(self.trace))
        self.assertEqual(rows, [["0"]])
        # Times are on one clock: every child's calls lie within its
        # process's span, and children start after the root.
        rows = shell("SELECT count(*) FROM tracestore_calls('{0}') c JOIN "
                     "tracestore_processes('{0}') p USING (pid) WHERE "
                     "c.ts < p.start_ts OR c.ts + c.dur > p.end_ts;"
                     .format(self.trace))
        self.assertEqual(rows, [["0"]])

    def test_pushed_constraints_equal_sqlite_filtering(self):
        # Over a tree, every constraint pushed into the scan (ids, ts, pid,
        # function_id, GROUP BY function_id) answers what SQLite's own
        # filtering of the same rows (`x + 0` is never pushed) answers.
        t = self.trace
        pid = sorted(self.seen)[len(self.seen) // 2]
        span = 1 << 53
        for where in ("function_id {0}= 5", "ts {0}>= 300000000 AND ts {0}< "
                      "900000000", "id {0}> %d AND id {0}< %d" % (span,
                                                                 3 * span),
                      "pid {0}= %d" % pid, "pid {0}= %d AND ts {0}> 1000"
                      % pid):
            pushed = shell("SELECT count(*), sum(dur) FROM "
                           "tracestore_calls('%s') WHERE %s;"
                           % (t, where.format("")))
            plain = shell("SELECT count(*), sum(dur) FROM "
                          "tracestore_calls('%s') WHERE %s;"
                          % (t, where.replace("{0}", "+ 0 ")))
            self.assertEqual(pushed, plain, where)
            self.assertNotEqual(pushed[0][0], "0", where)
        grouped = "SELECT function_id, count(*), sum(dur) FROM " \
                  "tracestore_calls('%s') GROUP BY function_id%s;"
        plan = shell("EXPLAIN QUERY PLAN " + grouped % (t, ""))
        self.assertIn("by_function", str(plan))
        self.assertEqual(shell(grouped % (t, "")),
                         shell(grouped % (t, " + 0 ORDER BY 1")))

    def test_query_cli(self):
        r = run([CLI, "query", self.trace, "--csv",
                 "SELECT pid, count(*) FROM calls WHERE name = 'work' AND "
                 "file = '%s' GROUP BY pid ORDER BY pid" % WORKLOAD])
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], "pid,count(*)")
        got = {int(a): int(b) for a, b in (l.split(",") for l in lines[1:])}
        self.assertEqual(got, {p: c["work"] for p, c in self.seen.items()})
        r = run([CLI, "query", self.trace, "--csv",
                 "SELECT count(*) FROM processes"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout.splitlines()[1]),
                         len(child_traces(self.trace)) + 1)

    def test_verify_and_info(self):
        r = run([CLI, "verify", self.trace])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        n = len(child_traces(self.trace)) + 1
        self.assertIn("%d processes: sound" % n, r.stdout)
        r = run([CLI, "info", self.trace])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("processes    %d (0 running, %d exited, 1 killed)"
                      % (n, n - 1), r.stdout)
        for pid in self.seen:
            self.assertIn("pid %d " % pid, r.stdout)

    def test_chrome_export(self):
        # Must show 4: valid JSON, one process per pid, every call of every
        # process.
        out = os.path.join(self.tmp, "tree.json")
        r = run([CLI, "export", self.trace, "--format", "chrome", "-o", out,
                 "--force"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(out) as f:
            data = json.load(f)
        events = data["traceEvents"]
        names = {e["pid"]: e["args"]["name"] for e in events
                 if e["ph"] == "M" and e["name"] == "process_name"}
        rows = shell("SELECT pid, count(*) FROM tracestore_calls('%s') "
                     "GROUP BY pid;" % self.trace)
        calls = {int(p): int(n) for p, n in rows}
        procs = {int(r[0]) for r in shell(
            "SELECT pid FROM tracestore_processes('%s');" % self.trace)}
        self.assertEqual(set(names), procs)
        per_pid = {}
        work = {}
        for e in events:
            if e["ph"] != "X":
                continue
            per_pid[e["pid"]] = per_pid.get(e["pid"], 0) + 1
            if e["name"].split(".")[-1] == "work" and e["cat"] == "python":
                work[e["pid"]] = work.get(e["pid"], 0) + 1
        self.assertEqual(per_pid, calls)
        self.assertEqual({p: n for p, n in work.items()},
                         {p: c["work"] for p, c in self.seen.items()})
        # Thread names per process.
        tids = {(e["pid"], e["tid"]) for e in events if e["ph"] == "M"
                and e["name"] == "thread_name"}
        self.assertTrue({p for p, _ in tids} >= set(self.seen))

    def test_sqlite_export(self):
        out = os.path.join(self.tmp, "tree.db")
        r = run([CLI, "export", self.trace, "--format", "sqlite", "-o", out,
                 "--force"])
        self.assertEqual(r.returncode, 0, r.stderr)
        db = sqlite3.connect(out)
        got = {}
        for pid, n in db.execute("SELECT pid, count(*) FROM calls WHERE "
                                 "name = 'leaf' AND file = ? GROUP BY pid",
                                 (WORKLOAD,)):
            got[pid] = n
        self.assertEqual(got, {p: c["leaf"] for p, c in self.seen.items()})
        # Every per-process table has the process column (lines too).
        for table in ("events", "calls", "functions", "threads", "marks",
                      "lines"):
            cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)]
            self.assertEqual(cols[-1], "pid", (table, cols))
        n = db.execute("SELECT count(*) FROM processes").fetchone()[0]
        self.assertEqual(n, len(child_traces(self.trace)) + 1)
        db.close()

    def export(self, fmt, *extra):
        out = os.path.join(self.tmp, "tree." + fmt + "".join(extra))
        r = run([CLI, "export", self.trace, "--format", fmt, "-o", out,
                 "--force"] + list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        return out

    def test_html_export_has_the_process_level(self):
        # Must show 4: the html export shows the process level: a frame per
        # process under "all" (and the page's data says how many).
        with open(self.export("html")) as f:
            page = f.read()
        procs = [int(r[0]) for r in shell(
            "SELECT pid FROM tracestore_processes('%s') WHERE event_count > 0;"
            % self.trace)]
        for pid in procs:
            self.assertIn('"pid %d: ' % pid, page)
        self.assertIn('"processes":%d' % len(procs), page)
        # The page, rendered, draws a frame per process.
        browser = next((shutil.which(n) for n in ("chromium",
                        "chromium-browser", "google-chrome") if shutil.which(n)),
                       None)
        if browser:
            r = run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                     "--virtual-time-budget=3000", "--dump-dom",
                     os.path.join(self.tmp, "tree.html")])
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            for pid in procs:
                self.assertIn("pid %d:" % pid, r.stdout)

    def test_speedscope_and_collapsed(self):
        with open(self.export("speedscope")) as f:
            data = json.load(f)
        names = {p["name"].split(":")[0] for p in data["profiles"]}
        self.assertTrue({"pid %d" % p for p in self.seen} <= names, names)
        frames = len(data["shared"]["frames"])
        for p in data["profiles"]:
            for e in p["events"]:
                self.assertLess(e["frame"], frames)
        merged = self.export("collapsed")
        split = self.export("collapsed", "--processes")

        def lines(path):
            with open(path) as f:
                return [l.rsplit(" ", 1) for l in f.read().splitlines()]
        a, b = lines(merged), lines(split)
        # The same self time, with or without a frame per process.
        self.assertEqual(sum(int(n) for _, n in a), sum(int(n) for _, n in b))
        roots = {stack.split(";")[0].split(":")[0] for stack, _ in b}
        self.assertTrue({"pid %d" % p for p in self.seen} <= roots)
        self.assertFalse([s for s, _ in a if s.startswith("pid ")])
        # Without it, one line per distinct stack over all processes.
        self.assertEqual(len({s for s, _ in a}), len(a))


@unittest.skipUnless(PY, "no Python recorder in this build")
@unittest.skipUnless(SQLITE3, "no sqlite3 shell")
class SingleAndBadTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tstree-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def test_single_process_reads_as_before(self):
        trace = os.path.join(self.tmp, "one.trace")
        r = run([PY, "-m", "tracestore", "record", "-o", trace, "-q", "--",
                 WORKLOAD, "child", "3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        r = run([CLI, "query", trace, "--csv", "SELECT * FROM calls LIMIT 1"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0],
                         "id,thread_id,depth,parent_id,function_id,name,"
                         "module,file,line,call_line,ts,dur,self_dur,"
                         "starts_before_window,kind,recursive")  # no pid
        r = run([CLI, "info", trace])
        self.assertNotIn("processes", r.stdout)
        r = run([CLI, "verify", trace])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("processes", r.stdout)
        self.assertEqual(shell("SELECT count(*), min(depth) FROM "
                               "tracestore_processes('%s');" % trace),
                         [["1", "0"]])

    def test_unreadable_child_is_a_problem(self):
        trace = os.path.join(self.tmp, "bad.trace")
        r = run([PY, "-m", "tracestore", "record", "-o", trace,
                 "--follow-children", "-q", "--", WORKLOAD, "child", "3"])
        self.assertEqual(r.returncode, 0, r.stderr)
        # A child trace whose process has gone (no pid is above pid_max)
        # and whose header is junk.
        bad = os.path.join(trace, "child-4194999.trace")
        os.mkdir(bad)
        with open(os.path.join(bad, "trace.header"), "wb") as f:
            f.write(b"junk" * 100)
        r = run([CLI, "query", trace, "SELECT count(*) FROM calls"])
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("child-4194999.trace", r.stderr)
        r = run([CLI, "verify", trace])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("child-4194999.trace", r.stderr)
        rows = shell("SELECT kind FROM tracestore_problems('%s');" % trace)
        self.assertEqual(rows, [["unreadable"]])
        r = run([SQLITE3, "-bail", "-cmd", ".load " + EXT, ":memory:",
                 "SELECT tracestore_strict(1); SELECT count(*) FROM "
                 "tracestore_calls('%s');" % trace])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("child-4194999.trace", r.stderr)


@unittest.skipUnless(PY, "no Python recorder in this build")
@unittest.skipUnless(SQLITE3, "no sqlite3 shell")
class KilledChildTest(unittest.TestCase):
    def test_sigkill(self):
        # Must show 3: a child killed with SIGKILL leaves its part valid;
        # how each process ended: SIGKILL (nobody saw it), SIGTERM (the
        # recorder closes and records the signal), exit status 3, and the
        # root's 0.
        tmp = tempfile.mkdtemp(prefix="tstree-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "kill.trace")
        seen = record(trace, "kill")
        self.assertEqual(len(seen), 4, seen)
        r = run([CLI, "verify", trace])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("4 processes: sound", r.stdout)
        got = as_counts(shell(counts_sql(trace)))
        self.assertEqual(got, expected_counts(seen))
        rows = shell("SELECT pid, ended, ifnull(exit_status, '-'), "
                     "ifnull(signal, '-'), end_ts IS NOT NULL FROM "
                     "tracestore_processes('%s');" % trace)
        ends = {int(r[0]): r[1:] for r in rows}
        want = {9: ["killed", "-", "-", "1"], 15: ["killed", "-", "15", "1"],
                3: ["exited", "3", "-", "1"]}
        for pid, c in seen.items():
            if "end" in c:
                self.assertEqual(ends[pid], want[c["end"]], (pid, c))
            else:
                self.assertEqual(ends[pid], ["exited", "0", "-", "1"])
        r = run([CLI, "info", trace])
        self.assertIn("killed (signal 15)", r.stdout)
        self.assertIn("exited (status 3)", r.stdout)


@unittest.skipUnless(PY, "no Python recorder in this build")
@unittest.skipUnless(SQLITE3, "no sqlite3 shell")
class LiveTest(unittest.TestCase):
    def test_live(self):
        # Must show 2: queried live (one connection, the real sqlite3 shell)
        # while children come and go: counts only grow, no error.
        tmp = tempfile.mkdtemp(prefix="tstree-")
        self.addCleanup(shutil.rmtree, tmp, True)
        trace = os.path.join(tmp, "live.trace")
        stages = 3
        prog = subprocess.Popen(
            [PY, "-m", "tracestore", "record", "-o", trace,
             "--follow-children", "-q", "--", WORKLOAD, "live", tmp,
             str(stages)], stdout=subprocess.PIPE, universal_newlines=True)
        self.addCleanup(prog.kill)
        while not os.path.exists(os.path.join(trace, "trace.header")):
            if prog.poll() is not None:
                self.fail("the program ended before its trace started")
        err = open(os.path.join(tmp, "shell.err"), "w")
        self.addCleanup(err.close)
        sh = subprocess.Popen([SQLITE3, "-bail", "-batch", "-cmd",
                               ".load " + EXT, ":memory:"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=err, universal_newlines=True)
        self.addCleanup(sh.kill)

        def query(sql):
            sh.stdin.write(sql + "\nSELECT '<<end>>';\n")
            sh.stdin.flush()
            rows = []
            while True:
                line = sh.stdout.readline()
                if not line:
                    with open(err.name) as f:
                        self.fail("the sqlite3 shell stopped: " + f.read())
                line = line.rstrip("\n")
                if line == "<<end>>":
                    return rows
                rows.append(line.split("|"))

        # `top` watches the same tree in a real terminal: it starts with the
        # root alone and must pick up every child that starts later.
        top = None
        if shutil.which("tmux"):
            sys.path.insert(0, HERE)
            import test_top
            top = test_top.Tmux(tmp)
            self.addCleanup(top.close)
            top.start([CLI, "top", trace, "--interval", "0.2"])
            test_top.wait_until(lambda: "processes 1 (1 running)" in
                                top.screen(), 60, "top showing the root")

        last, queries, processes = {}, 0, set()

        def check():
            nonlocal queries
            got = as_counts(query(counts_sql(trace)))
            pids = {int(r[0]) for r in query(
                "SELECT pid FROM tracestore_processes('%s');" % trace)}
            queries += 1
            self.assertTrue(pids >= processes, (pids, processes))
            processes.update(pids)
            for pid, counts in last.items():
                for name, n in counts.items():
                    self.assertGreaterEqual(got.get(pid, {}).get(name, 0), n,
                                            (pid, name))
            last.clear()
            last.update(got)

        check()
        for i in range(stages):
            open(os.path.join(tmp, "go-%d" % i), "w").close()
            while not os.path.exists(os.path.join(tmp, "done-%d" % i)):
                check()
            check()
        out, _ = prog.communicate(timeout=300)
        self.assertEqual(prog.returncode, 0)
        seen = {int(pid): c for pid, c in json.loads(out).items()}
        check()
        self.assertEqual(last, expected_counts(seen))
        # The processes: the root, a sh -c child and a fork Pool worker per
        # stage.
        self.assertEqual(len(processes), 1 + 2 * stages, processes)
        if top is not None:
            want = "processes %d (0 running)" % (1 + 2 * stages)
            screen = test_top.wait_until(
                lambda: want in top.screen() and top.screen(), 60,
                "top showing every process")
            self.assertIn("PID", screen)
            top.keys("q")
        sh.stdin.close()
        sh.wait()
        sh.stdout.close()
        print("live: %d queries over the tree while it ran" % queries,
              file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
