// VerifyTrace: checksums and cross-references over a TraceReader.

#include "tracestore/verify.h"

#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tracestore/trace_reader.h"

namespace tracestore {

namespace {

using format::EventKind;

// The chunk checksums themselves are checked by the reader as it reads
// (StoreReader; mismatches come with its problems). Here: that the header's
// claims about them are consistent.
void VerifyChecksumClaims(const StoreReader& s, VerifyReport& report) {
  const format::StoreHeader& h = s.header();
  report.chunks_checked += s.chunks_checked();
  if (h.flags & format::kStoreMutableRecords) return;
  const uint64_t per_chunk = s.chunk_bytes() / s.record_bytes();
  if (s.ring()) {
    // A ring's chunks are sealed in logical order without a cap; its
    // window's checksums were checked by the reader.
    const uint64_t full = s.committed() / per_chunk;
    const uint64_t sealed = s.sealed_at_refresh();
    if (sealed > full)
      report.errors.push_back(absl::StrCat(s.path(), ": header claims ", sealed,
                                           " sealed chunks, the ring has had ",
                                           full, " full chunks"));
    else if (s.closed() && s.problem().empty() &&
             sealed * per_chunk + h.tail_records != s.committed())
      report.errors.push_back(absl::StrCat(
          s.path(), ": closed with ", s.committed(), " records but ", sealed,
          " sealed chunks and a tail of ", h.tail_records));
    return;
  }
  const bool truncated = s.count() < s.committed();
  // Against what the header claims, not what the file still holds: a
  // truncated store is reported as that, not as a checksum puzzle.
  const uint64_t full_chunks = s.committed() / per_chunk;
  const uint64_t sealed = s.sealed_chunks();
  if (sealed > format::kMaxSealedChunks || sealed > full_chunks) {
    report.errors.push_back(absl::StrCat(s.path(), ": header claims ", sealed,
                                         " sealed chunks, the store holds ",
                                         full_chunks, " full chunks"));
    return;
  }
  if (!s.closed()) return;
  const uint64_t expected =
      std::min<uint64_t>(full_chunks, format::kMaxSealedChunks);
  if (sealed < expected) {
    report.errors.push_back(absl::StrCat(
        s.path(), ": closed with ", full_chunks, " full chunks but only ",
        sealed, " sealed"));
    return;
  }
  if (sealed >= format::kMaxSealedChunks || truncated) return;
  if (sealed * per_chunk + h.tail_records != s.committed())
    report.errors.push_back(absl::StrCat(
        s.path(), ": closed with ", s.committed(), " records but its sealed ",
        "chunks and tail cover ", sealed * per_chunk + h.tail_records));
}

// The writer gives every events store one chunk size and every other store
// another (TraceOptions): a store that differs from the rest of its class
// (the most common size wins) was not written by it.
void VerifyChunkSizes(const TraceReader& t, VerifyReport& report) {
  for (const bool events : {true, false}) {
    uint64_t counts[31] = {};
    for (const StoreReader* s : t.stores())
      if ((s->kind() == format::StoreKind::kEvents) == events)
        ++counts[s->header().chunk_shift];  // 12..30: checked at open
    const uint32_t common = static_cast<uint32_t>(
        std::max_element(std::begin(counts), std::end(counts)) -
        std::begin(counts));
    for (const StoreReader* s : t.stores()) {
      if ((s->kind() == format::StoreKind::kEvents) != events ||
          s->header().chunk_shift == common)
        continue;
      report.errors.push_back(absl::StrCat(
          s->path(), ": chunk size 2^", s->header().chunk_shift, ", the other ",
          events ? "events" : "metadata", " stores use 2^", common));
      if (report.errors.size() > 100) return;
    }
  }
}

bool AllZero(const void* p, size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (size_t i = 0; i < n; ++i)
    if (b[i] != 0) return false;
  return true;
}

// Reserved fields, padding, unused checksum slots and the bytes after a
// closed store's last record are written as zeros: anything else is damage.
void VerifyZeros(const StoreReader& s, VerifyReport& report) {
  const format::StoreHeader& h = s.header();
  if (!AllZero(h.reserved0, sizeof(h.reserved0)) || h.reserved1 != 0 ||
      !AllZero(h.padding, sizeof(h.padding)) ||
      (h.flags & ~(format::kStoreMutableRecords | format::kStoreRing)) != 0 ||
      (!s.ring() && h.ring_slots != 0))
    report.errors.push_back(
        s.path() + ": reserved header fields are not zero");
  if (s.ring()) {
    const uint64_t slots = std::atomic_ref<const uint64_t>(h.ring_slots)
                               .load(std::memory_order_acquire);
    bool bad = slots > format::kMaxRingSlots;
    for (uint64_t k = 0; k < format::kMaxRingSlots && !bad; ++k)
      bad = h.ring[k].reserved != 0 ||
            (slots != 0 && k >= slots &&
             !AllZero(&h.ring[k], sizeof(format::RingSlot)));
    if (bad) report.errors.push_back(s.path() + ": bad ring slot table");
    return;
  }
  if (!s.closed()) return;  // the filler may be writing the next slot
  const uint64_t sealed =
      std::min<uint64_t>(s.sealed_chunks(), format::kMaxSealedChunks);
  if (!AllZero(h.chunk_checksums + sealed,
               (format::kMaxSealedChunks - sealed) * sizeof(uint64_t)))
    report.errors.push_back(s.path() + ": unused checksum slots are not zero");
}

void VerifyTraceHeader(const TraceReader& t, VerifyReport& report) {
  const format::TraceHeader& h = t.header();
  const char* text = reinterpret_cast<const char*>(&h) + format::kTraceHeaderBytes;
  // Only as far as the file goes (a short one is among the problems).
  const uint64_t end = t.header_file_bytes() - format::kTraceHeaderBytes;
  if (!AllZero(h.reserved, sizeof(h.reserved)) ||
      !AllZero(h.padding, sizeof(h.padding)) ||
      (end > h.properties_bytes &&
       !AllZero(text + h.properties_bytes, end - h.properties_bytes)))
    report.errors.push_back(
        t.path() + "/trace.header: reserved fields are not zero");
  if (h.version < format::kTraceVersion &&
      (h.max_event_bytes != 0 || h.unrecorded_threads != 0))
    report.errors.push_back(t.path() +
                            "/trace.header: reserved fields are not zero");
  if (h.stop_reason > static_cast<uint32_t>(format::StopReason::kIoError))
    report.errors.push_back(t.path() + "/trace.header: bad stop reason");
  if (h.end_kind > static_cast<uint32_t>(format::EndKind::kSignaled))
    report.errors.push_back(t.path() + "/trace.header: bad end kind");
}

bool ValidKind(EventKind k) {
  return k >= EventKind::kCall && k <= EventKind::kMark;
}

// Every code range names a known function, fits the address space and
// overlaps no other (format.h: a native address maps to one function).
void VerifyCodeRanges(const TraceReader& t, VerifyReport& report) {
  const auto ranges = t.code_ranges();
  const uint64_t functions = t.functions().size();
  report.code_ranges = ranges.size();
  std::vector<uint64_t> order;  // indexes of the non-empty ranges
  order.reserve(ranges.size());
  for (uint64_t i = 0; i < ranges.size(); ++i) {
    const auto& r = ranges[i];
    const char* what = nullptr;
    if (r.function == 0 || r.function > functions) {
      what = "names an unknown function";
    } else if (r.begin + r.size < r.begin) {
      what = "runs past the end of the address space";
    } else if (r.size > 0) {
      order.push_back(i);
    }
    if (what != nullptr) {
      report.errors.push_back(
          absl::StrCat(t.path(), ": code range ", i, " ", what));
      if (report.errors.size() > 100) return;
    }
  }
  std::sort(order.begin(), order.end(), [&](uint64_t a, uint64_t b) {
    return ranges[a].begin < ranges[b].begin;
  });
  // Sorted by start, a range overlaps an earlier one exactly when it starts
  // before the furthest end so far.
  uint64_t furthest = 0;  // index into order of the range ending last
  for (uint64_t k = 1; k < order.size(); ++k) {
    const auto& a = ranges[order[furthest]];
    const auto& b = ranges[order[k]];
    if (b.begin < a.begin + a.size) {
      report.errors.push_back(absl::StrCat(t.path(), ": code ranges ",
                                           order[furthest], " and ", order[k],
                                           " overlap"));
      if (report.errors.size() > 100) return;
    }
    if (b.begin + b.size > a.begin + a.size) furthest = k;
  }
}

}  // namespace

absl::StatusOr<VerifyReport> VerifyTrace(const std::string& path, Env* env) {
  auto opened = TraceReader::Open(path, env);
  if (!opened.ok()) return opened.status();
  const TraceReader& t = **opened;
  VerifyReport report;
  report.errors = t.problems();

  const bool closed = t.closed();
  if (closed) {
    if (t.header().close.ticks < t.header().start.ticks)
      report.errors.push_back(path + ": close time is before start time");
  } else if (t.writer_alive()) {
    report.notes.push_back(absl::StrCat(
        "still being written by pid ", t.header().pid,
        ": verified what was committed so far"));
  } else {
    report.notes.push_back(absl::StrCat(
        "not closed cleanly (writer pid ", t.header().pid,
        " is gone): everything it committed is kept"));
  }
  if (t.stop_reason() != format::StopReason::kNone)
    report.notes.push_back(
        t.stop_reason() == format::StopReason::kDiskFull
            ? "recording stopped early: the disk was full"
            : "recording stopped early: an I/O error");

  if (t.max_event_bytes() != 0) {
    uint64_t overwritten = 0;
    for (uint32_t i = 0; i < t.threads().size(); ++i)
      overwritten += t.events_first(i);
    report.notes.push_back(absl::StrCat(
        "flight recorder (max ", t.max_event_bytes(), " bytes of events): ",
        overwritten, " older events overwritten; verified the window"));
  }
  VerifyTraceHeader(t, report);
  VerifyChunkSizes(t, report);
  uint64_t dropped = 0;
  for (const StoreReader* s : t.stores()) {
    VerifyChecksumClaims(*s, report);
    VerifyZeros(*s, report);
    dropped += s->dropped();
    if (closed && !s->closed())
      report.errors.push_back(
          s->path() + ": the trace is closed but this store is not");
  }
  if (dropped > 0)
    report.notes.push_back(absl::StrCat(dropped, " records were dropped"));

  // Cross-references.
  const auto strings = t.strings();
  const uint64_t nstrings = strings.size();
  const auto functions = t.functions();
  const auto threads = t.threads();
  report.strings = nstrings;
  report.functions = functions.size();
  report.threads = threads.size();
  report.marks = t.marks().size();
  for (uint64_t i = 0; i < nstrings; ++i) {
    const auto& s = strings[i];
    std::string_view text = t.String(static_cast<uint32_t>(i + 1));
    if (text.size() != s.length) {
      report.errors.push_back(absl::StrCat(path, ": string ", i + 1,
                                           " points past the string bytes"));
    } else if (static_cast<uint32_t>(XXH64(text.data(), text.size(), 0)) !=
               s.hash32) {
      report.errors.push_back(
          absl::StrCat(path, ": string ", i + 1, " does not match its hash"));
    }
  }
  for (uint64_t i = 0; i < functions.size(); ++i) {
    const auto& f = functions[i];
    if (f.id != i + 1 || f.module > nstrings || f.qualname > nstrings ||
        f.file > nstrings)
      report.errors.push_back(
          absl::StrCat(path, ": function record ", i, " is inconsistent"));
  }
  for (uint64_t i = 0; i < threads.size(); ++i) {
    const auto& th = threads[i];
    const uint64_t end = t.ThreadEndTicks(th);
    if (th.index != i || t.ThreadName(th) > nstrings ||
        (end != 0 && end < th.start_ticks))
      report.errors.push_back(
          absl::StrCat(path, ": thread record ", i, " is inconsistent"));
    auto events = t.events(static_cast<uint32_t>(i));
    report.events += events.size();
    uint64_t last = 0;
    for (uint64_t j = 0; j < events.size(); ++j) {
      const auto& e = events[j];
      const uint64_t ticks = format::EventTicks(e);
      const char* what = nullptr;
      if (!ValidKind(format::GetEventKind(e))) what = "has an unknown kind";
      else if (e.function > functions.size()) what = "names an unknown function";
      else if (ticks < last) what = "goes back in time";
      if (what != nullptr) {
        report.errors.push_back(absl::StrCat(path, ": thread ", i, " event ",
                                             j, " ", what));
        if (report.errors.size() > 100) break;
      }
      last = ticks;
    }
  }
  VerifyCodeRanges(t, report);
  for (uint64_t i = 0; i < t.marks().size(); ++i) {
    const auto& m = t.marks()[i];
    if (m.thread >= threads.size() || m.name > nstrings ||
        m.kind > static_cast<uint32_t>(format::MarkKind::kStop))
      report.errors.push_back(
          absl::StrCat(path, ": mark ", i, " is inconsistent"));
  }
  return report;
}

}  // namespace tracestore
