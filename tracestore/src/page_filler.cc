// The background thread behind every StoreWriter of a trace.

#include "page_filler.h"

#include <algorithm>

#include "signal_free_thread.h"
#include "tracestore/store_writer.h"

namespace tracestore::internal {

PageFiller::PageFiller(std::function<void(const absl::Status&)> on_stop)
    : on_stop_(std::move(on_stop)),
      thread_(StartSignalFreeThread([this] { Run(); })) {}

PageFiller::~PageFiller() {
  quit_.store(true, std::memory_order_release);
  Wake();
  thread_.join();
}

void PageFiller::Add(StoreWriter* store) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stores_.push_back(store);
  }
  Wake();
}

void PageFiller::Remove(StoreWriter* store) {
  // The thread holds mu_ for a whole pass over the stores, so once we hold it
  // the store is not being serviced.
  std::lock_guard<std::mutex> lock(mu_);
  stores_.erase(std::remove(stores_.begin(), stores_.end(), store),
                stores_.end());
}

void PageFiller::Wake() {
  wake_.fetch_add(1, std::memory_order_release);
  wake_.notify_one();
}

void PageFiller::NotifyProgress() {
  progress_.fetch_add(1, std::memory_order_release);
  progress_.notify_all();
}

void PageFiller::Stop(const absl::Status& why) {
  bool was = stopped_.exchange(true, std::memory_order_acq_rel);
  if (!was && on_stop_) on_stop_(why);
  NotifyProgress();
}

void PageFiller::Run() {
  while (!quit_.load(std::memory_order_acquire)) {
    uint32_t seen = wake_.load(std::memory_order_acquire);
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (StoreWriter* store : stores_) {
        std::lock_guard<std::mutex> store_lock(store->service_mu_);
        store->ServiceLocked();
      }
    }
    if (quit_.load(std::memory_order_acquire)) break;
    wake_.wait(seen, std::memory_order_acquire);
  }
}

}  // namespace tracestore::internal
