// PageFiller: the background thread (it blocks every signal:
// signal_free_thread.h) that keeps every StoreWriter of a trace
// ahead of its writer (extend, map, pre-fault the next chunks) and behind it
// (checksum and unmap the chunks it left).
//
//   internal::PageFiller filler([](const absl::Status& s) { report(s); });
//   auto store = StoreWriter::Create(options, &filler);  // registers itself
//
// Thread-safety: all methods are thread-safe. The first failure of any store
// (a full disk) stops recording for the whole trace: stopped() turns true,
// on_stop is called once, and writers drop further records.

#ifndef TRACESTORE_SRC_PAGE_FILLER_H_
#define TRACESTORE_SRC_PAGE_FILLER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace tracestore {
class StoreWriter;
namespace internal {

class PageFiller {
 public:
  explicit PageFiller(std::function<void(const absl::Status&)> on_stop);
  ~PageFiller();  // stops and joins the thread; stores must be removed first
  PageFiller(const PageFiller&) = delete;
  PageFiller& operator=(const PageFiller&) = delete;

  void Add(StoreWriter* store);
  // After Remove returns, the filler thread no longer touches `store`.
  void Remove(StoreWriter* store);
  // Asks the thread to look at the stores again (a writer changed chunk).
  void Wake();

  // Recording stopped because a store could not grow.
  bool stopped() const { return stopped_.load(std::memory_order_acquire); }
  void Stop(const absl::Status& why);

  // Writers waiting for a chunk wait on this counter, which moves (and is
  // notified) whenever a chunk becomes ready or recording stops.
  std::atomic<uint32_t>& progress() { return progress_; }
  void NotifyProgress();

 private:
  void Run();

  std::function<void(const absl::Status&)> on_stop_;
  std::mutex mu_;
  std::vector<StoreWriter*> stores_;  // guarded by mu_
  std::atomic<uint32_t> wake_{0};
  std::atomic<uint32_t> progress_{0};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> quit_{false};
  std::thread thread_;
};

}  // namespace internal
}  // namespace tracestore

#endif  // TRACESTORE_SRC_PAGE_FILLER_H_
