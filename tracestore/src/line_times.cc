// LineTimes: incremental per-line hits and times from line events.

#include "tracestore/line_times.h"

#include <algorithm>

#include "tracestore/event_scan.h"

namespace tracestore {

using format::EventKind;

LineTimes::LineTimes() = default;
LineTimes::~LineTimes() = default;

void LineTimes::Update(const TraceReader& trace,
                       std::span<const uint64_t> thread_ended) {
  const size_t threads =
      std::min<size_t>(trace.threads().size(), kMaxRowIdThreads);
  if (threads_.size() < threads) threads_.resize(threads);
  for (size_t i = 0; i < threads; ++i) {
    ThreadLines& t = threads_[i];
    auto events = trace.events(static_cast<uint32_t>(i));
    if (t.processed < events.size()) Process(t, events);
    const uint64_t ended = i < thread_ended.size() ? thread_ended[i] : 0;
    if (ended != 0 && !t.finished) {
      PopAbove(t, 0, ended);
      t.finished = true;
    }
  }
}

void LineTimes::Process(ThreadLines& t,
                        std::span<const format::EventRecord> events) {
  for (uint64_t i = t.processed; i < events.size(); ++i) {
    const format::EventRecord& e = events[i];
    const uint64_t ticks = format::EventTicks(e);
    switch (format::GetEventKind(e)) {
      case EventKind::kCall:
      case EventKind::kCCall:
        t.stack.push_back(Frame{e.function, 0, ticks, ticks, 0});
        break;
      case EventKind::kResume: {
        auto it = t.yield_line.find(e.function);
        const uint32_t line = it == t.yield_line.end() ? 0 : it->second;
        t.stack.push_back(Frame{e.function, line, ticks, ticks, 0});
        break;
      }
      case EventKind::kYield:
        if (e.value != 0) t.yield_line[e.function] = e.value;
        Close(t, e.function, ticks);
        break;
      case EventKind::kReturn:
      case EventKind::kUnwind:
      case EventKind::kCReturn:
        Close(t, e.function, ticks);
        break;
      case EventKind::kLine:
        Line(t, e.function, e.value, ticks);
        break;
      default:
        break;  // mark, or a damaged kind
    }
  }
  t.processed = events.size();
}

void LineTimes::Line(ThreadLines& t, uint32_t function, uint32_t line,
                     uint64_t ticks) {
  ++line_events_;
  const size_t floor =
      t.stack.size() > kMaxMatchSearch ? t.stack.size() - kMaxMatchSearch : 0;
  size_t pos = t.stack.size();
  while (pos > floor && t.stack[pos - 1].function != function) --pos;
  if (pos > floor) {
    PopAbove(t, pos, ticks);  // frames above it whose ends are missing
  } else {
    // Not on the stack: the recording started inside this frame.
    t.stack.push_back(Frame{function, 0, ticks, ticks, 0});
  }
  Frame& f = t.stack.back();
  EndLine(f, ticks);
  f.line = line;
  f.since = ticks;
  f.in_calls = 0;
  ++stats_[Key(function, line)].hits;
}

void LineTimes::Close(ThreadLines& t, uint32_t function, uint64_t ticks) {
  if (t.stack.empty()) {
    ++unmatched_;
    return;
  }
  size_t pos = t.stack.size() - 1;
  if (function != 0) {
    const size_t floor =
        t.stack.size() > kMaxMatchSearch ? t.stack.size() - kMaxMatchSearch : 0;
    for (;;) {
      if (t.stack[pos].function == function) break;
      if (pos == floor) {
        ++unmatched_;
        return;
      }
      --pos;
    }
  }
  PopAbove(t, pos, ticks);
}

// Ends the frames at stack positions >= keep, innermost first, at `ticks`:
// each one's current line ends, and its whole duration is callee time of
// its parent's current line.
void LineTimes::PopAbove(ThreadLines& t, size_t keep, uint64_t ticks) {
  while (t.stack.size() > keep) {
    Frame f = t.stack.back();
    t.stack.pop_back();
    EndLine(f, ticks);
    if (!t.stack.empty())
      t.stack.back().in_calls += ticks > f.start ? ticks - f.start : 0;
  }
}

void LineTimes::EndLine(Frame& f, uint64_t ticks) {
  if (f.line == 0) return;
  LineStat& s = stats_[Key(f.function, f.line)];
  const uint64_t span = ticks > f.since ? ticks - f.since : 0;
  const uint64_t calls = std::min(f.in_calls, span);
  s.call_ticks += calls;
  s.self_ticks += span - calls;
  f.line = 0;
}

std::vector<LineTimes::Row> LineTimes::Rows(uint32_t function_min,
                                            uint32_t function_max) const {
  std::vector<Row> rows;
  const uint64_t lo = Key(function_min, 0);
  const uint64_t hi = Key(function_max, UINT32_MAX);
  for (const auto& [key, stat] : stats_) {
    if (key < lo || key > hi) continue;
    rows.push_back(Row{static_cast<uint32_t>(key >> 32),
                       static_cast<uint32_t>(key), stat});
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    return Key(a.function, a.line) < Key(b.function, b.line);
  });
  return rows;
}

}  // namespace tracestore
