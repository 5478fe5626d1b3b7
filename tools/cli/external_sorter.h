// ExternalSorter<T>: sorts any number of fixed-size records in bounded
// memory. Records (trivially copyable, ordered by operator<) collect in a
// buffer of `budget_bytes`; a full buffer is sorted and written to a
// temporary file in `temp_dir` as a run; Drain merges the runs (and what is
// still in the buffer) and hands every record out in order. Without a
// spill nothing touches the disk.
//
//   ExternalSorter<Entry> sorter(dir, 16 << 20);
//   for (...) if (auto s = sorter.Add(e); !s.ok()) return s;
//   absl::Status s = sorter.Drain([&](const Entry& e) { ...; return true; });
//
// The temporary file is unlinked as soon as it is made: nothing is left
// behind, whatever happens to the process. Equal records come out in no
// particular order. `Sort` sorts a buffer (std::sort by default; see
// RadixSortByHigh for 128-bit keys).

#ifndef TRACESTORE_TOOLS_CLI_EXTERNAL_SORTER_H_
#define TRACESTORE_TOOLS_CLI_EXTERNAL_SORTER_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tracestore::cli {

// A temporary file, unlinked at once; closed by the destructor.
class TempFile {
 public:
  TempFile() = default;
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  absl::Status Open(const std::string& dir);
  bool is_open() const { return fd_ >= 0; }
  absl::Status Write(uint64_t offset, const void* data, size_t size);
  absl::Status Read(uint64_t offset, void* data, size_t size) const;

 private:
  int fd_ = -1;
};

struct StdSort {
  template <class T>
  void operator()(std::vector<T>& v) const {
    std::sort(v.begin(), v.end());
  }
};

// For records that are one unsigned __int128 `bits` (compared as such)
// and arrive ordered by their low half, often in long ascending stretches
// (an index's rowids; timestamps thread by thread). A few ascending runs
// are merged; else a stable LSD radix sort on the high half (one counting
// pass for all bytes, the bytes all records share skipped); then a check
// that the order is complete, with std::sort when it is not.
struct RadixSortByHigh {
  template <class T>
  void operator()(std::vector<T>& v) const {
    const size_t n = v.size();
    std::vector<size_t> runs{0};
    for (size_t i = 1; i < n && runs.size() <= kMaxRuns; ++i)
      if (v[i] < v[i - 1]) runs.push_back(i);
    if (runs.size() <= kMaxRuns) {
      runs.push_back(n);
      while (runs.size() > 2) {
        std::vector<size_t> merged{0};
        for (size_t r = 0; r + 2 < runs.size(); r += 2) {
          std::inplace_merge(v.begin() + runs[r], v.begin() + runs[r + 1],
                             v.begin() + runs[r + 2]);
          merged.push_back(runs[r + 2]);
        }
        if (runs.size() % 2 == 0) merged.push_back(n);
        runs.swap(merged);
      }
      return;
    }
    size_t count[8][256] = {};
    for (const T& x : v) {
      const uint64_t h = static_cast<uint64_t>(x.bits >> 64);
      for (int b = 0; b < 8; ++b) ++count[b][(h >> (8 * b)) & 0xff];
    }
    std::vector<T> other(n);
    for (int b = 0; b < 8; ++b) {
      const int shift = 64 + 8 * b;
      if (count[b][static_cast<uint8_t>(v[0].bits >> shift)] == n) continue;
      size_t at[256];
      for (size_t k = 0, sum = 0; k < 256; ++k) at[k] = sum, sum += count[b][k];
      for (const T& x : v) other[at[static_cast<uint8_t>(x.bits >> shift)]++] = x;
      v.swap(other);
    }
    if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  }
  static constexpr size_t kMaxRuns = 64;
};

template <class T, class Sort = StdSort>
class ExternalSorter {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  ExternalSorter(std::string temp_dir, size_t budget_bytes)
      : dir_(std::move(temp_dir)),
        capacity_(std::max<size_t>(budget_bytes / sizeof(T), 16)) {
    buffer_.reserve(capacity_);
  }

  absl::Status Add(const T& v) {
    buffer_.push_back(v);
    if (buffer_.size() == capacity_) return Spill();
    return absl::OkStatus();
  }
  uint64_t size() const { return written_ + buffer_.size(); }

  // Calls f(const T&) for every record in order; f returns false to stop.
  // Once: the sorter is empty afterwards.
  template <class F>
  absl::Status Drain(F f) {
    if (runs_.empty()) {
      Sort()(buffer_);
      for (const T& v : buffer_)
        if (!f(v)) break;
      buffer_.clear();
      return absl::OkStatus();
    }
    if (!buffer_.empty())
      if (absl::Status s = Spill(); !s.ok()) return s;
    buffer_ = {};
    // Each run reads through a window of its share of the budget.
    const size_t window =
        std::max<size_t>(capacity_ / runs_.size(), 16);
    std::vector<Cursor> cursors(runs_.size());
    using Head = std::pair<T, size_t>;
    auto later = [](const Head& a, const Head& b) { return b.first < a.first; };
    std::priority_queue<Head, std::vector<Head>, decltype(later)> heads(later);
    for (size_t i = 0; i < runs_.size(); ++i) {
      cursors[i].next = runs_[i].first;
      cursors[i].end = runs_[i].first + runs_[i].second;
      cursors[i].window.reserve(window);
      T v;
      if (absl::Status s = Next(cursors[i], window, &v); !s.ok()) return s;
      heads.emplace(v, i);
    }
    while (!heads.empty()) {
      auto [v, i] = heads.top();
      heads.pop();
      if (!f(v)) break;
      if (cursors[i].pos < cursors[i].window.size() ||
          cursors[i].next < cursors[i].end) {
        T w;
        if (absl::Status s = Next(cursors[i], window, &w); !s.ok()) return s;
        heads.emplace(w, i);
      }
    }
    runs_.clear();
    return absl::OkStatus();
  }

 private:
  struct Cursor {
    uint64_t next = 0, end = 0;  // records still in the file: [next, end)
    std::vector<T> window;
    size_t pos = 0;
  };

  absl::Status Spill() {
    if (!file_.is_open())
      if (absl::Status s = file_.Open(dir_); !s.ok()) return s;
    Sort()(buffer_);
    if (absl::Status s = file_.Write(written_ * sizeof(T), buffer_.data(),
                                     buffer_.size() * sizeof(T));
        !s.ok())
      return s;
    runs_.emplace_back(written_, buffer_.size());
    written_ += buffer_.size();
    buffer_.clear();
    return absl::OkStatus();
  }

  absl::Status Next(Cursor& c, size_t window, T* v) {
    if (c.pos == c.window.size()) {
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>(window, c.end - c.next));
      c.window.resize(n);
      if (absl::Status s =
              file_.Read(c.next * sizeof(T), c.window.data(), n * sizeof(T));
          !s.ok())
        return s;
      c.next += n;
      c.pos = 0;
    }
    *v = c.window[c.pos++];
    return absl::OkStatus();
  }

  std::string dir_;
  size_t capacity_;
  std::vector<T> buffer_;
  TempFile file_;
  std::vector<std::pair<uint64_t, uint64_t>> runs_;  // (first record, count)
  uint64_t written_ = 0;  // records spilled
};

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_EXTERNAL_SORTER_H_
