// A writer process is killed with SIGKILL at random moments; each time the
// trace it leaves opens, verifies, and holds an exact prefix of what the
// writer appended.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

constexpr uint32_t kFunctions = 64;

// The child: records forever (two threads, functions, strings, marks) until
// it is killed. Writes one byte to `ready` once the trace exists.
[[noreturn]] void RecordUntilKilled(const std::string& path, int ready) {
  TraceOptions options;
  options.path = path;
  options.event_chunk_shift = 16;  // many chunk hand-overs per run
  options.quiet = true;
  auto trace = TraceWriter::Create(options);
  if (!trace.ok()) _exit(3);
  TraceWriter& w = **trace;
  for (uint32_t i = 0; i < kFunctions; ++i)
    w.AddFunction({"mod", absl::StrCat("f", i), "mod.py", i});
  char byte = 1;
  if (write(ready, &byte, 1) != 1) _exit(4);
  std::thread second([&] {
    EventWriter* e = w.StartThread(2, "second");
    for (uint64_t i = 0;; ++i) {
      const auto r = testing::PatternEvent(i, kFunctions);
      e->AppendAt(format::EventTicks(r), format::GetEventKind(r), r.function,
                  r.value);
    }
  });
  EventWriter* e = w.StartThread(1, "main");
  for (uint64_t i = 0;; ++i) {
    const auto r = testing::PatternEvent(i, kFunctions);
    e->AppendAt(format::EventTicks(r), format::GetEventKind(r), r.function,
                r.value);
    if (i % 100000 == 0) {
      w.AddMark(0, absl::StrCat("tick", i), format::MarkKind::kPoint, i);
      w.AddFunction({"late", absl::StrCat("g", i), "late.py", 1});
    }
  }
}

TEST(Crash, SigkillAtRandomMomentsLeavesASoundPrefix) {
  const unsigned seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> delay_us(0, 60000);
  testing::ScratchDir dir;
  constexpr int kKills = 24;
  for (int k = 0; k < kKills; ++k) {
    SCOPED_TRACE(absl::StrCat("kill ", k, ", seed ", seed));
    const std::string path = dir / (absl::StrCat("k", k, ".trace"));
    int pipefd[2];
    ASSERT_EQ(pipe(pipefd), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(pipefd[0]);
      RecordUntilKilled(path, pipefd[1]);
    }
    close(pipefd[1]);
    char byte;
    ASSERT_EQ(read(pipefd[0], &byte, 1), 1) << "child failed to start";
    close(pipefd[0]);
    const int wait_us = delay_us(rng);
    usleep(wait_us);
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited by itself: " << status;

    auto report = VerifyTrace(path);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_TRUE(report->ok()) << report->errors.front();
    ASSERT_FALSE(report->notes.empty());
    EXPECT_NE(report->notes[0].find("not closed cleanly"), std::string::npos);

    auto reader = TraceReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_GE((*reader)->functions().size(), kFunctions);
    uint64_t total = 0;
    for (uint32_t t = 0; t < (*reader)->threads().size(); ++t) {
      auto events = (*reader)->events(t);
      for (uint64_t i = 0; i < events.size(); ++i)
        ASSERT_TRUE(testing::MatchesPattern(events[i], i, kFunctions))
            << "thread " << t << " record " << i;
      total += events.size();
    }
    for (const auto& m : (*reader)->marks())
      EXPECT_EQ((*reader)->String(m.name), absl::StrCat("tick", m.value));
    std::printf("kill %2d after %5d us: %llu events, %zu marks kept\n", k,
                wait_us, static_cast<unsigned long long>(total),
                (*reader)->marks().size());
  }
}

TEST(Crash, KilledWhileCreatingIsAClearError) {
  // A header whose state was never set reads as "never started".
  testing::ScratchDir dir;
  TraceOptions options;
  options.path = dir / "c.trace";
  {
    auto trace = TraceWriter::Create(options);
    ASSERT_TRUE(trace.ok());
    ASSERT_TRUE((*trace)->Close().ok());
  }
  // state is the 17th..20th byte of the header.
  std::string header = testing::ReadFile(options.path + "/trace.header");
  header[16] = header[17] = header[18] = header[19] = 0;
  testing::WriteFile(options.path + "/trace.header", header);
  auto reader = TraceReader::Open(options.path);
  ASSERT_FALSE(reader.ok());
  EXPECT_NE(std::string(reader.status().message()).find("never started"),
            std::string::npos);
}

}  // namespace
}  // namespace tracestore
