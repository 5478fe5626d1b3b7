// Pooled event stores (trace version 2): threads share stores in turn, each
// thread's events are its segment, and every reader path (TraceReader::
// events) attributes each event to the thread that wrote it, live and
// closed; the version 1 layout (a store per thread) still reads.

#include <dirent.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "test_util.h"
#include "tracestore/store_paths.h"
#include "tracestore/trace_reader.h"
#include "tracestore/trace_writer.h"
#include "tracestore/verify.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::ScratchDir;

TraceOptions Options(const std::string& path, bool pooled = true) {
  TraceOptions o;
  o.path = path;
  o.event_chunk_shift = 12;  // 256 events per chunk: segments cross chunks
  o.metadata_chunk_shift = 12;
  o.pool_event_stores = pooled;
  return o;
}

int OpenDescriptors() {
  int n = 0;
  DIR* d = opendir("/proc/self/fd");
  while (dirent* e = readdir(d)) n += e->d_name[0] != '.';
  closedir(d);
  return n;
}

int EventFiles(const std::string& dir) {
  int n = 0;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d))
    n += std::string(e->d_name).rfind("events.", 0) == 0;
  closedir(d);
  return n;
}

// Thread i appends (i % 700) events, each with value i.
void WriteThread(TraceWriter& w, uint32_t expect_index_at_least) {
  EventWriter* t = w.StartThread(1000, "worker");
  ASSERT_NE(t, nullptr);
  const uint32_t i = t->thread_index();
  ASSERT_GE(i, expect_index_at_least);
  for (uint32_t k = 0; k < i % 700; ++k)
    t->Append(k % 2 == 0 ? EventKind::kCall : EventKind::kReturn, 1, i);
  w.EndThread(t);
}

void CheckEveryThread(const TraceReader& r, size_t threads) {
  ASSERT_EQ(r.threads().size(), threads);
  for (uint32_t i = 0; i < threads; ++i) {
    auto events = r.events(i);
    ASSERT_EQ(events.size(), i % 700) << "thread " << i;
    for (const auto& e : events) ASSERT_EQ(e.value, i) << "thread " << i;
    EXPECT_NE(r.ThreadEndTicks(r.threads()[i]), 0u);
  }
}

TEST(PooledStores, SequentialThreadsShareOneStoreAndNoDescriptors) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  auto writer = TraceWriter::Create(Options(path));
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;
  ASSERT_EQ(w.AddFunction({"app", "f", "app.py", 1}), 1u);
  WriteThread(w, 0);
  const int fds = OpenDescriptors();
  for (int n = 1; n < 1000; ++n) WriteThread(w, 0);
  EXPECT_EQ(OpenDescriptors(), fds);  // no descriptor per thread
  EXPECT_EQ(w.event_store_count(), 1u);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(EventFiles(path), 1);
  EXPECT_TRUE(Env::Default()->FileExists(path + "/" + kSegmentsFile));

  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->header().version, format::kTraceVersion);
  EXPECT_TRUE((*reader)->pooled());
  EXPECT_TRUE((*reader)->problems().empty());
  CheckEveryThread(**reader, 1000);
  uint64_t total = 0;
  for (int i = 0; i < 1000; ++i) total += i % 700;
  EXPECT_EQ((*reader)->total_events(), total);
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty()) << report->errors[0];
  EXPECT_EQ(report->events, total);
}

TEST(PooledStores, ConcurrentThreadsEachGetAStore) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  auto writer = TraceWriter::Create(Options(path));
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;
  ASSERT_EQ(w.AddFunction({"app", "f", "app.py", 1}), 1u);
  constexpr int kWorkers = 6, kEach = 150;
  std::vector<std::thread> workers;
  for (int k = 0; k < kWorkers; ++k)
    workers.emplace_back([&w] {
      for (int n = 0; n < kEach; ++n) WriteThread(w, 0);
    });
  for (auto& t : workers) t.join();
  // At most one store per thread alive at once.
  EXPECT_LE(w.event_store_count(), static_cast<size_t>(kWorkers));
  ASSERT_TRUE(w.Close().ok());
  EXPECT_LE(EventFiles(path), kWorkers);
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  CheckEveryThread(**reader, kWorkers * kEach);
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty()) << report->errors[0];
}

TEST(PooledStores, LiveReaderAttributesEachSegment) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  auto writer = TraceWriter::Create(Options(path));
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;
  ASSERT_EQ(w.AddFunction({"app", "f", "app.py", 1}), 1u);
  EventWriter* a = w.StartThread(1, "a");
  for (int k = 0; k < 300; ++k) a->Append(EventKind::kCall, 1, 100);
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  TraceReader& r = **reader;
  EXPECT_EQ(r.events(0).size(), 300u);  // open segment: up to committed
  w.EndThread(a);
  EventWriter* b = w.StartThread(2, "b");  // continues a's store
  EXPECT_EQ(w.event_store_count(), 1u);
  for (int k = 0; k < 5; ++k) b->Append(EventKind::kCall, 1, 200);
  // Not refreshed: a keeps what it had; b is not visible yet.
  EXPECT_EQ(r.events(0).size(), 300u);
  ASSERT_TRUE(r.Refresh().ok());
  ASSERT_EQ(r.threads().size(), 2u);
  EXPECT_EQ(r.events(0).size(), 300u);  // b's events are not a's
  ASSERT_EQ(r.events(1).size(), 5u);
  for (int k = 0; k < 400; ++k) b->Append(EventKind::kReturn, 1, 200);
  ASSERT_TRUE(r.Refresh().ok());
  EXPECT_EQ(r.events(1).size(), 405u);
  for (const auto& e : r.events(1)) EXPECT_EQ(e.value, 200u);
  for (const auto& e : r.events(0)) EXPECT_EQ(e.value, 100u);
  EXPECT_EQ(r.event_store(0), r.event_store(1));
  ASSERT_TRUE(w.Close().ok());
}

TEST(PooledStores, VersionOneLayoutStillReads) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  auto writer = TraceWriter::Create(Options(path, /*pooled=*/false));
  ASSERT_TRUE(writer.ok()) << writer.status();
  TraceWriter& w = **writer;
  ASSERT_EQ(w.AddFunction({"app", "f", "app.py", 1}), 1u);
  WriteThread(w, 0);
  const int fds = OpenDescriptors();
  for (int n = 1; n < 40; ++n) WriteThread(w, 0);
  // A store closed at thread end holds no descriptor.
  EXPECT_EQ(OpenDescriptors(), fds);
  ASSERT_TRUE(w.Close().ok());
  EXPECT_EQ(EventFiles(path), 40);
  EXPECT_FALSE(Env::Default()->FileExists(path + "/" + kSegmentsFile));
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->header().version,
            format::kTraceVersionOneStorePerThread);
  EXPECT_FALSE((*reader)->pooled());
  CheckEveryThread(**reader, 40);
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->errors.empty()) << report->errors[0];
}

TEST(PooledStores, InconsistentSegmentIsAProblemNotACrash) {
  ScratchDir dir;
  const std::string path = dir / "run.trace";
  {
    auto writer = TraceWriter::Create(Options(path));
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_EQ((*writer)->AddFunction({"app", "f", "app.py", 1}), 1u);
    for (int n = 0; n < 3; ++n) WriteThread(**writer, 0);
    ASSERT_TRUE((*writer)->Close().ok());
  }
  // Segment 1 names store 7: there are never more stores than threads.
  std::string bytes = testing::ReadFile(path + "/" + kSegmentsFile);
  const uint32_t bad_store = 7;
  std::memcpy(&bytes[format::kStoreHeaderBytes +
                     sizeof(format::SegmentRecord) +
                     offsetof(format::SegmentRecord, store)],
              &bad_store, sizeof(bad_store));
  testing::WriteFile(path + "/" + kSegmentsFile, bytes);
  auto reader = TraceReader::Open(path);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_FALSE((*reader)->problems().empty());
  EXPECT_NE((*reader)->problems()[0].find("segment 1"), std::string::npos)
      << (*reader)->problems()[0];
  EXPECT_TRUE((*reader)->events(1).empty());
  EXPECT_EQ((*reader)->events(2).size(), 2u);  // the others still read
  auto report = VerifyTrace(path);
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->errors.empty());
}

}  // namespace
}  // namespace tracestore
