// EtwEmitter: lazy PythonFunction descriptions, rundown, threads and marks.

#include "etw.h"

#include <algorithm>

namespace tracestore::pyhook {

std::unique_ptr<EtwEmitter> EtwEmitter::Open(Mode mode, std::string* why) {
  std::unique_ptr<EtwEmitter> e(new EtwEmitter());
  if (mode != Mode::kPlatform) {
    auto sink = std::make_unique<etwbridge::CaptureSink>(
        etwbridge::kPythonProviderName);
    e->capture_ = sink.get();
    auto events = etwbridge::PythonEvents::Create(std::move(sink));
    if (!events.ok()) {
      *why = std::string(events.status().message());
      return nullptr;
    }
    e->events_ = *std::move(events);
  } else {
    auto events = etwbridge::PythonEvents::Open();
    if (!events.ok()) {
      *why = std::string(events.status().message());
      return nullptr;
    }
    e->events_ = *std::move(events);
  }
  EtwEmitter* raw = e.get();
  e->events_->SetRundownCallback([raw] { raw->Rundown(); });
  if (mode == Mode::kCapture) e->capture_->Enable();  // a session at level 5
  return e;
}

void EtwEmitter::OnFunction(uint32_t id, FunctionDesc desc) {
  std::lock_guard<std::mutex> lock(mu_);
  if (functions_.size() < id) {
    functions_.resize(id);
    described_.resize(id, 0);
  }
  functions_[id - 1] = std::move(desc);
  if (functions_[id - 1].begin != 0 &&
      events_->IsEnabled(etwbridge::PythonEvent::kFunction))
    Describe(id, events_->generation());
}

void EtwEmitter::Describe(uint32_t id, uint32_t generation) {
  if (id == 0 || id > functions_.size()) return;
  std::atomic_ref<uint32_t> seen(described_[id - 1]);
  if (seen.load(std::memory_order_relaxed) == generation) return;
  const FunctionDesc& f = functions_[id - 1];
  events_->Function(id, f.begin, f.end, f.line, f.file, f.name, f.is_python);
  seen.store(generation, std::memory_order_relaxed);
}

void EtwEmitter::Push(uint32_t id, uint32_t caller, uint32_t line) {
  const uint32_t generation = events_->generation();
  if (NeedsDescription(id, generation) || NeedsDescription(caller, generation)) {
    std::lock_guard<std::mutex> lock(mu_);
    Describe(id, generation);
    Describe(caller, generation);
  }
  events_->Push(id, caller, line);
}

void EtwEmitter::OnThreadStart(int32_t tid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    live_threads_.push_back(tid);
  }
  events_->Poll();  // Linux: notice sessions started since (no callback)
  events_->ThreadStart(tid);
}

void EtwEmitter::OnThreadStop(int32_t tid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(live_threads_.begin(), live_threads_.end(), tid);
    if (it == live_threads_.end()) return;
    live_threads_.erase(it);
  }
  events_->ThreadStop(tid);
}

void EtwEmitter::StopAll(std::vector<uint32_t>* open) {
  if (open != nullptr) {
    for (auto it = open->rbegin(); it != open->rend(); ++it) events_->Pop(*it);
    open->clear();
  }
  std::vector<int32_t> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live.swap(live_threads_);
  }
  for (int32_t tid : live) events_->ThreadStop(tid);
}

void EtwEmitter::OnMark(std::string_view name, uint8_t opcode) {
  events_->Mark(name, opcode);
}

void EtwEmitter::OnStackSample(std::string_view name) {
  events_->StackSample(name);
}

void EtwEmitter::Rundown() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint32_t generation = events_->generation();
  for (uint32_t id = 1; id <= functions_.size(); ++id) Describe(id, generation);
  for (int32_t tid : live_threads_) events_->ThreadStart(tid);
}

}  // namespace tracestore::pyhook
