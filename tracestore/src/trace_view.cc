// TraceView: keeps a reader and its derived query structures in step.

#include "tracestore/trace_view.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>

#include "absl/strings/str_cat.h"
#include "tracestore/store_paths.h"

namespace tracestore {

namespace {

bool StatHeader(const std::string& trace, dev_t* dev, ino_t* ino) {
  struct stat st;
  if (::stat((trace + "/" + kTraceHeaderFile).c_str(), &st) != 0) return false;
  *dev = st.st_dev;
  *ino = st.st_ino;
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TraceView>> TraceView::Open(
    const std::string& path, Env* env) {
  dev_t dev = 0;
  ino_t ino = 0;
  StatHeader(path, &dev, &ino);  // a failure shows in Open below
  auto reader = TraceReader::Open(path, env);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<TraceView> view(new TraceView(*std::move(reader), dev, ino));
  // Open refreshed the reader without a snapshot of the thread ends taken
  // before: refresh once more with one.
  TS_RETURN_IF_ERROR(view->Refresh());
  return view;
}

void TraceView::SnapshotThreadEnds() {
  auto threads = reader_->threads();
  ended_.resize(threads.size());
  for (size_t i = 0; i < threads.size(); ++i)
    ended_[i] = reader_->ThreadEndTicks(threads[i]);
}

absl::Status TraceView::Refresh() {
  SnapshotThreadEnds();
  TS_RETURN_IF_ERROR(reader_->Refresh());
  // The writer replaces the rate once, at close (an aligned 8-byte store).
  const uint64_t& tps = reader_->header().ticks_per_second;
  time_ = TimeScale(std::atomic_ref<uint64_t>(const_cast<uint64_t&>(tps))
                        .load(std::memory_order_acquire));
  if (calls_) calls_->Update(*reader_, ended_);
  if (event_functions_) IndexEventFunctions(*reader_, *event_functions_);
  if (first_code_ranges_) first_code_ranges_->Update(*reader_);
  if (lines_) lines_->Update(*reader_, ended_);
  return absl::OkStatus();
}

bool TraceView::Replaced() const {
  dev_t dev;
  ino_t ino;
  return !StatHeader(path(), &dev, &ino) || dev != dev_ || ino != ino_;
}

absl::Status TraceView::CheckStores(unsigned needs) const {
  std::vector<const char*> files;
  if (needs & (kThreads | kEvents)) files.push_back(kThreadsFile);
  if (needs & kFunctions) files.push_back(kFunctionsFile);
  if (needs & kStrings) {
    files.push_back(kStringsFile);
    files.push_back(kStringBytesFile);
  }
  if (needs & kMarks) files.push_back(kMarksFile);
  std::vector<std::string> missing;
  const auto stores = reader_->stores();
  auto opened = [&](const char* file) {
    const std::string full = path() + "/" + file;
    for (const StoreReader* s : stores)
      if (s->path() == full) return true;
    return false;
  };
  for (const char* file : files)
    if (!opened(file)) missing.push_back(file);
  if (needs & kEvents) {
    for (uint32_t i = 0; i < reader_->threads().size(); ++i) {
      if (reader_->event_store(i) != nullptr) continue;
      // No file yet for a thread whose segment is not visible: no loss.
      const std::string file = reader_->EventStoreFile(i);
      if (!file.empty()) missing.push_back(file);
    }
  }
  if (missing.empty()) {
    // An optional store that is absent is no failure; one the reader left
    // out as damaged is (the reader says why; an absent one it does not).
    if (needs & kCodeRanges) {
      std::string_view why = reader_->OpenProblem(kCodeRangesFile);
      if (!why.empty()) return absl::DataLossError(std::string(why));
    }
    return absl::OkStatus();
  }
  // The reader says why it left the store out; fall back to "missing".
  std::string_view why = reader_->OpenProblem(missing.front());
  if (!why.empty()) return absl::DataLossError(std::string(why));
  return absl::DataLossError(
      absl::StrCat(path(), "/", missing.front(), ": missing or unreadable"));
}

const CallTree& TraceView::calls() {
  if (!calls_) {
    calls_ = std::make_unique<CallTree>();
    calls_->Update(*reader_, ended_);
  }
  return *calls_;
}

const CallTree& TraceView::calls_by_function() {
  calls();
  calls_->EnableFunctionIndex(*reader_);
  return *calls_;
}

const FirstCodeRanges& TraceView::first_code_ranges() {
  if (!first_code_ranges_) {
    first_code_ranges_ = std::make_unique<FirstCodeRanges>();
    first_code_ranges_->Update(*reader_);
  }
  return *first_code_ranges_;
}

const LineTimes& TraceView::lines() {
  if (!lines_) {
    lines_ = std::make_unique<LineTimes>();
    lines_->Update(*reader_, ended_);
  }
  return *lines_;
}

const PostingIndex& TraceView::event_functions() {
  if (!event_functions_) {
    event_functions_ = std::make_unique<PostingIndex>();
    IndexEventFunctions(*reader_, *event_functions_);
  }
  return *event_functions_;
}

}  // namespace tracestore
