// The in-memory sink.

#include "etwbridge/capture_sink.h"

#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <unistd.h>
#endif

namespace etwbridge {
namespace {

uint64_t CurrentThreadId() {
#ifdef _WIN32
  return GetCurrentThreadId();
#else
  return static_cast<uint64_t>(gettid());
#endif
}

std::vector<std::byte> Copy(std::span<const std::byte> s) {
  return std::vector<std::byte>(s.begin(), s.end());
}

}  // namespace

std::string CapturedEvent::name() const {
  // u16 size, tag bytes (the last without 0x80), NUL-terminated name.
  size_t pos = 2;
  while (pos < metadata.size() &&
         (static_cast<uint8_t>(metadata[pos]) & 0x80) != 0) {
    ++pos;
  }
  ++pos;
  std::string out;
  for (; pos < metadata.size() && metadata[pos] != std::byte{0}; ++pos) {
    out.push_back(static_cast<char>(metadata[pos]));
  }
  return pos < metadata.size() ? out : std::string();
}

CaptureSink::CaptureSink(std::string_view provider_name, const Guid* group)
    : Sink(provider_name, group) {}

void CaptureSink::Enable(uint8_t level, uint64_t match_any,
                         uint64_t match_all) {
  if (tracker_.Update(1, level, match_any, match_all)) NotifyEnabled();
}

void CaptureSink::Disable() { tracker_.Update(0, 0, 0, 0); }

void CaptureSink::CaptureState() {
  if (tracker_.Update(2, 0, 0, 0)) NotifyEnabled();
}

std::vector<CapturedEvent> CaptureSink::events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

size_t CaptureSink::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_.size();
}

void CaptureSink::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  events_.clear();
}

Status CaptureSink::Register(EventSet* set) {
  tracker_.Add(set);
  set->sink_handle = 0;
  return OkStatus();
}

int CaptureSink::Write(const EventSet& /*set*/, const EventView& event) {
  CapturedEvent e;
  e.thread_id = CurrentThreadId();
  e.descriptor = event.descriptor;
  e.tag = event.tag;
  e.traits = Copy(traits());
  e.metadata = Copy(event.metadata);
  e.eventheader_metadata = Copy(event.eventheader_metadata);
  e.payload = Copy(event.payload);
  std::lock_guard<std::mutex> lock(mu_);
  e.sequence = next_sequence_++;
  events_.push_back(std::move(e));
  return 0;
}

}  // namespace etwbridge
