// Hostile and many-thread traces (issue 14): every reader command holds up
// (no crash, no hang, no open of a FIFO or device node), reports the
// reader's problems on stderr and exits non-zero when its answer is
// partial, and keeps its descriptors and address space bounded. These run
// the real `tracestore` binary on real files; the ASan pass runs them too.

#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

#if defined(__SANITIZE_ADDRESS__)
#define TS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TS_ASAN 1
#endif
#endif

namespace tracestore {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::ScratchDir;

constexpr uint64_t kEvents = 20000;  // 78 sealed 4 KiB chunks in events.0
constexpr uint32_t kFunctions = 50;

std::string WriteTrace(const ScratchDir& dir, const std::string& name,
                       uint32_t threads = 1) {
  TraceOptions o;
  o.path = dir / name;
  o.event_chunk_shift = 12;
  o.metadata_chunk_shift = 12;
  o.properties = {{"command_line", "x.py"}};
  auto w = TraceWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status();
  for (uint32_t i = 0; i < kFunctions; ++i) {
    const uint32_t f =
        (*w)->AddFunction({"mod", absl::StrCat("function_", i), "mod.py", i});
    (*w)->AddCodeRange(f, 0x7f1200000000 + uint64_t{i} * 32, 32);
  }
  for (uint32_t t = 0; t < threads; ++t) {
    EventWriter* e = (*w)->StartThread(100 + t, absl::StrCat("t", t));
    EXPECT_NE(e, nullptr);
    if (e == nullptr) break;
    const uint64_t n = threads == 1 ? kEvents : 4;
    for (uint64_t i = 0; i < n; ++i) {
      // Call/return pairs: a sound call tree in every thread.
      const uint32_t f = static_cast<uint32_t>(1 + i / 2 % kFunctions);
      e->AppendAt(i + 1,
                  i % 2 ? format::EventKind::kReturn : format::EventKind::kCall,
                  f, 7);
    }
    if (threads > 1) (*w)->EndThread(e);
  }
  (*w)->AddMark(0, "m", format::MarkKind::kPoint);
  EXPECT_TRUE((*w)->Close().ok());
  return o.path;
}

struct Result {
  int status;  // exit status; 124 when `timeout` had to stop it
  std::string output;  // stdout and stderr
};

// Runs the CLI under a shell prefix (ulimit ...), stopped after 20 s.
Result RunCli(const std::string& args, const std::string& prefix = "") {
  const std::string cmd =
      absl::StrCat(prefix, prefix.empty() ? "" : "; ", "exec timeout 20 ",
                   TRACESTORE_CLI, " ", args, " 2>&1 </dev/null");
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::string out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), p)) > 0;)
    out.append(buf, n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Every reader command, as a user would type it, on `trace`.
std::vector<std::string> ReaderCommands(const std::string& trace,
                                        const std::string& out_dir) {
  std::vector<std::string> cmds = {
      "info " + trace,
      "verify " + trace,
      "query " + trace + " \"SELECT count(*) FROM threads\"",
      "query " + trace +
          " \"SELECT count(*), sum(dur) FROM calls WHERE ts > 2\"",
      "query " + trace + " \"SELECT count(*) FROM events\"",
      "query " + trace + " \"SELECT count(*) FROM functions\"",
      "query " + trace + " \"SELECT count(*) FROM marks\"",
      "top --once " + trace,
      "query " + trace + " \"SELECT count(*), sum(hits) FROM lines\"",
  };
  for (const char* f : {"chrome", "speedscope", "collapsed", "html", "sqlite"})
    cmds.push_back(absl::StrCat("export ", trace, " --format ", f, " -o ",
                                out_dir, "/out.", f, " --force --no-progress"));
  return cmds;
}

void Patch(const std::string& file, uint64_t offset, const void* bytes,
           size_t n) {
  std::string data = testing::ReadFile(file);
  ASSERT_LE(offset + n, data.size());
  std::memcpy(data.data() + offset, bytes, n);
  testing::WriteFile(file, data);
}
void Patch64(const std::string& file, uint64_t offset, uint64_t v) {
  Patch(file, offset, &v, sizeof(v));
}
void Patch32(const std::string& file, uint64_t offset, uint32_t v) {
  Patch(file, offset, &v, sizeof(v));
}

std::string Copy(const ScratchDir& dir, const std::string& from,
                 const std::string& name) {
  const std::string to = dir / name;
  std::system(absl::StrCat("rm -rf ", to, " && cp -r ", from, " ", to).c_str());
  return to;
}

// ---------------------------------------------------------------------------

TEST(Hostile, ShortTraceHeader) {
  ScratchDir dir;
  const std::string good = WriteTrace(dir, "good.trace");
  for (uint64_t size : {4096u + 20u, 4269u, 65535u}) {
    const std::string t = Copy(dir, good, "short.trace");
    ASSERT_EQ(::truncate((t + "/" + kTraceHeaderFile).c_str(), size), 0);
    for (const std::string& cmd : ReaderCommands(t, dir.path())) {
      const Result r = RunCli(cmd);
      SCOPED_TRACE(cmd + "\n" + r.output);
      EXPECT_NE(r.status, 0);
      EXPECT_NE(r.status, 124);
      EXPECT_LE(r.status, 3);  // not a signal (SIGBUS was the bug)
      EXPECT_THAT(r.output, HasSubstr("trace.header: truncated"));
    }
  }
}

// Whether something opened `path` while `fn` ran (inotify sees every open
// of a FIFO or a device node, whoever does it).
template <class Fn>
bool OpenedDuring(const std::string& path, Fn fn) {
  const int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  EXPECT_GE(in, 0);
  EXPECT_GE(::inotify_add_watch(in, path.c_str(), IN_OPEN), 0);
  fn();
  char buf[4096];
  const ssize_t n = ::read(in, buf, sizeof(buf));
  ::close(in);
  return n > 0;
}

TEST(Hostile, FifoOrDeviceInPlaceOfEachFile) {
  ScratchDir dir;
  const std::string good = WriteTrace(dir, "good.trace");
  const char* files[] = {kTraceHeaderFile, kFunctionsFile,  kStringsFile,
                         kStringBytesFile, kThreadsFile,    kMarksFile,
                         kCodeRangesFile,  "events.0.store"};
  struct stat null_st;
  ASSERT_EQ(::stat("/dev/null", &null_st), 0);
  for (const bool device : {false, true}) {
    for (const char* file : files) {
      const std::string t = Copy(dir, good, "node.trace");
      const std::string node = t + "/" + file;
      ASSERT_EQ(::unlink(node.c_str()), 0);
      if (device) {
        if (::mknod(node.c_str(), S_IFCHR | 0666, null_st.st_rdev) != 0) {
          GTEST_SKIP() << "cannot create a device node here: "
                       << std::strerror(errno);
        }
      } else {
        ASSERT_EQ(::mkfifo(node.c_str(), 0666), 0);
      }
      for (const std::string& cmd : ReaderCommands(t, dir.path())) {
        Result r;
        const bool opened = OpenedDuring(node, [&] { r = RunCli(cmd); });
        SCOPED_TRACE(cmd + "\n" + r.output);
        EXPECT_FALSE(opened) << "the reader opened " << node;
        EXPECT_NE(r.status, 124) << "hung";
        EXPECT_NE(r.status, 0);
        EXPECT_THAT(r.output, HasSubstr(absl::StrCat(file, " is not a regular file")));
      }
    }
  }
}

// A threads.store claiming 100,000 threads and a segments.store claiming as
// many segments, all zero (sparse files: every segment names thread 0 and
// events store 0, which is missing): opening and verifying are linear, well
// under a second, and the 100,000 problems are reported in a few lines.
TEST(Hostile, HugeThreadsStoreOpensFast) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "huge.trace");
  ASSERT_EQ(::unlink((t + "/events.0.store").c_str()), 0);
  constexpr uint64_t kThreads = 100000;
  for (const char* file : {kThreadsFile, kSegmentsFile}) {
    const std::string path = t + "/" + file;
    Patch64(path, offsetof(format::StoreHeader, committed), kThreads);
    ASSERT_EQ(::truncate(path.c_str(), format::kStoreHeaderBytes + kThreads * 32),
              0);
  }
  auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0)
        .count();
  };
  auto start = std::chrono::steady_clock::now();
  auto reader = TraceReader::Open(t);
  const double open_s = seconds_since(start);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->threads().size(), kThreads);
  const Problems problems = (*reader)->AllProblems();
  EXPECT_EQ(problems.count(ProblemKind::kUnreadable), kThreads);
  start = std::chrono::steady_clock::now();
  ASSERT_TRUE((*reader)->Refresh().ok());  // the missing are not retried
  const double refresh_s = seconds_since(start);
  start = std::chrono::steady_clock::now();
  auto report = VerifyTrace(t);
  const double verify_s = seconds_since(start);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->ok());
  std::fprintf(stderr, "100,000 threads: open %.3f s, refresh %.3f s, "
               "verify %.3f s\n", open_s, refresh_s, verify_s);
  // What this guards is the complexity, not a speed: a quadratic open took
  // 20 s here, linear ones 0.2 s. The bounds sit far from both, so that a
  // loaded machine (ctest -j2 beside CPython's suites) cannot fail them.
  // Under a sanitizer every allocation costs several times more.
#ifdef TS_ASAN
  constexpr double kSlowdown = 4;
#else
  constexpr double kSlowdown = 1;
#endif
  EXPECT_LT(open_s, 5.0 * kSlowdown);
  EXPECT_LT(refresh_s, 1.0 * kSlowdown);
  EXPECT_LT(verify_s, 5.0 * kSlowdown);
  // The commands too, and each says so in a few lines, not 100,000.
  for (const std::string& cmd :
       {"info " + t, "verify " + t,
        "query " + t + " \"SELECT count(*) FROM threads\""}) {
    start = std::chrono::steady_clock::now();
    const Result r = RunCli(cmd);
    const double s = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start)
                         .count();
    SCOPED_TRACE(cmd + "\n" + r.output.substr(0, 2000));
    EXPECT_LT(s, 10.0 * kSlowdown);
    EXPECT_NE(r.status, 0);
    EXPECT_LT(std::count(r.output.begin(), r.output.end(), '\n'), 120);
    EXPECT_THAT(r.output, HasSubstr("more"));
  }
}

// 5,000 threads under a small descriptor limit and address-space limit:
// every command reads the trace as sound and whole.
TEST(Hostile, FiveThousandThreadsUnderLimits) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "many.trace", 5000);
  std::string limits = "ulimit -n 256";
#ifndef TS_ASAN
  limits += "; ulimit -v 4000000";  // ASan reserves terabytes of shadow
#endif
  for (const std::string& cmd : ReaderCommands(t, dir.path())) {
    const Result r = RunCli(cmd, limits);
    SCOPED_TRACE(cmd + "\n" + r.output.substr(0, 4000));
    EXPECT_EQ(r.status, 0);
    EXPECT_THAT(r.output, Not(HasSubstr("warning")));
  }
  const Result verify = RunCli("verify " + t, limits);
  EXPECT_THAT(verify.output, HasSubstr("sound (5000 threads"));
  const Result count =
      RunCli("query " + t + " --csv \"SELECT count(*) FROM calls\"", limits);
  EXPECT_THAT(count.output, HasSubstr("\r\n10000\r\n"));
}

// Damage of each kind: every reader prints the problem (naming the file)
// and exits non-zero; those that still answer exit 3 (partial).
TEST(Hostile, DamagedStoresMakeEveryReaderSaySo) {
  ScratchDir dir;
  const std::string good = WriteTrace(dir, "good.trace");
  struct Damage {
    const char* name;
    const char* file;
    void (*apply)(const std::string& file);
  };
  const Damage damages[] = {
      {"record_bytes 0", kFunctionsFile,
       [](const std::string& f) {
         Patch32(f, offsetof(format::StoreHeader, record_bytes), 0);
       }},
      {"wrong kind", kMarksFile,
       [](const std::string& f) {
         Patch32(f, offsetof(format::StoreHeader, kind), 2);
       }},
      {"truncated", "events.0.store",
       [](const std::string& f) {
         ASSERT_EQ(::truncate(f.c_str(), format::kStoreHeaderBytes + 5000), 0);
       }},
      {"committed beyond the file", kStringsFile,
       [](const std::string& f) {
         Patch64(f, offsetof(format::StoreHeader, committed), 1u << 20);
       }},
  };
  for (const Damage& d : damages) {
    const std::string t = Copy(dir, good, "damaged.trace");
    d.apply(t + "/" + d.file);
    for (const std::string& cmd : ReaderCommands(t, dir.path())) {
      const Result r = RunCli(cmd);
      SCOPED_TRACE(absl::StrCat(d.name, ": ", cmd, "\n", r.output));
      EXPECT_NE(r.status, 0);
      EXPECT_THAT(r.status, ::testing::AnyOf(1, 2, 3));
      EXPECT_THAT(r.output, HasSubstr(d.file));
      if (r.status == 3) {
        EXPECT_THAT(r.output, HasSubstr("the answer is partial"));
      }
    }
  }
}

// A flipped byte inside a sealed chunk: the reader hashes each sealed chunk
// as it reads it, so query and export report it (and exit 3).
TEST(Hostile, FlippedByteInSealedChunk) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "flip.trace");
  const std::string events = t + "/events.0.store";
  // Chunk 3 (4 KiB chunks): the `value` of one of its events.
  testing::FlipBit(events, format::kStoreHeaderBytes + 3 * 4096 + 16 * 7 + 12,
                   2);
  for (const std::string& cmd :
       {"query " + t + " \"SELECT count(*) FROM events\"",
        "query " + t + " \"SELECT count(*) FROM threads\"",
        "export " + t + " --format chrome -o " + dir.path() +
            "/f.json --force --no-progress",
        "export " + t + " --format sqlite -o " + dir.path() +
            "/f.db --force",
        "info " + t, "top --once " + t}) {
    const Result r = RunCli(cmd);
    SCOPED_TRACE(cmd + "\n" + r.output);
    EXPECT_EQ(r.status, 3);
    EXPECT_THAT(r.output,
                HasSubstr("events.0.store: checksum mismatch in chunk 3"));
  }
  const Result v = RunCli("verify " + t);
  EXPECT_EQ(v.status, 1);
  EXPECT_THAT(v.output, HasSubstr("checksum mismatch in chunk 3"));
}

// ---------------------------------------------------------------------------
// The smaller findings.

TEST(Hostile, ImplausibleClockRateIsRefused) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "clock.trace");
  Patch64(t + "/" + kTraceHeaderFile,
          offsetof(format::TraceHeader, ticks_per_second), 1);
  for (const std::string& cmd : ReaderCommands(t, dir.path())) {
    const Result r = RunCli(cmd);
    SCOPED_TRACE(cmd + "\n" + r.output);
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, HasSubstr("bad clock calibration"));
  }
}

TEST(Hostile, ChunkSizeAndSealedCountClaims) {
  ScratchDir dir;
  const std::string good = WriteTrace(dir, "good.trace");
  {
    const std::string t = Copy(dir, good, "shift.trace");
    Patch32(t + "/" + kMarksFile, offsetof(format::StoreHeader, chunk_shift),
            20);
    const Result r = RunCli("verify " + t);
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.output, HasSubstr("marks.store: chunk size 2^20, the other "
                                    "metadata stores use 2^12"));
  }
  {
    const std::string t = Copy(dir, good, "sealed.trace");
    Patch64(t + "/events.0.store",
            offsetof(format::StoreHeader, sealed_chunks), 10);
    const Result r = RunCli("verify " + t);
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.output, HasSubstr("closed with 78 full chunks but only 10 "
                                    "sealed"));
  }
  {
    // Truncated mid-chunk: reported as truncated, and nothing else about
    // how the sealed chunks and tail add up.
    const std::string t = Copy(dir, good, "torn.trace");
    ASSERT_EQ(::truncate((t + "/events.0.store").c_str(),
                         format::kStoreHeaderBytes + 10 * 4096 + 100),
              0);
    const Result r = RunCli("verify " + t);
    EXPECT_EQ(r.status, 1);
    EXPECT_THAT(r.output, HasSubstr("events.0.store: truncated"));
    EXPECT_THAT(r.output, Not(HasSubstr("tail cover")));
  }
}

TEST(Hostile, NulInTracePath) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "nul.trace");
  // The path t + "\0x": before the fix it opened t and named only t.
  const Result r = RunCli("query " + t +
                       " \"SELECT count(*) FROM tracestore_threads('" + t +
                       "' || char(0) || 'x')\"");
  EXPECT_EQ(r.status, 2);
  EXPECT_THAT(r.output, HasSubstr("contains a NUL byte"));
  EXPECT_THAT(r.output, HasSubstr("\\x00x"));
}

TEST(Hostile, TopOnADeadWritersTrace) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "dead.trace", 3);
  // As a killed writer leaves it: recording, threads without an end, and
  // a pid that no longer exists.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  const std::string header = t + "/" + kTraceHeaderFile;
  Patch32(header, offsetof(format::TraceHeader, state), 1);
  Patch64(header, offsetof(format::TraceHeader, pid),
          static_cast<uint64_t>(child));
  for (uint64_t i = 0; i < 3; ++i)
    Patch64(t + "/" + kThreadsFile,
            format::kStoreHeaderBytes + i * 32 +
                offsetof(format::ThreadRecord, end_ticks),
            0);
  const Result r = RunCli("top --once " + t);
  SCOPED_TRACE(r.output);
  EXPECT_EQ(r.status, 0);
  EXPECT_THAT(r.output, HasSubstr("threads 3 (3 unfinished)"));
  EXPECT_THAT(r.output, Not(HasSubstr("running)")));
}

TEST(Hostile, ExportIntoTheTraceIsRefused) {
  ScratchDir dir;
  const std::string t = WriteTrace(dir, "self.trace");
  const std::string target = t + "/events.0.store";
  const std::string before = testing::ReadFile(target);
  for (const char* f : {"chrome", "sqlite"}) {
    const Result r =
        RunCli(absl::StrCat("export ", t, " --format ", f, " -o ", target,
                         " --force --no-progress"));
    EXPECT_EQ(r.status, 2);
    EXPECT_THAT(r.output, HasSubstr("is inside the trace being exported"));
  }
  const Result r = RunCli(absl::StrCat("export ", t, " --format chrome -o ", t,
                                    "/new.json --no-progress"));
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(testing::ReadFile(target), before);
  EXPECT_EQ(RunCli("verify " + t).status, 0);
}

}  // namespace
}  // namespace tracestore
