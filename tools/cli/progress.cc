// ProgressBar: drawn with '\r' on one line of stderr.

#include "progress.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_format.h"

namespace tracestore::cli {

double MonotonicSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

namespace {

std::string Count(uint64_t n) {
  if (n >= 10'000'000) return absl::StrFormat("%.0fM", n / 1e6);
  if (n >= 1'000'000) return absl::StrFormat("%.1fM", n / 1e6);
  if (n >= 10'000) return absl::StrFormat("%.0fk", n / 1e3);
  return absl::StrFormat("%d", n);
}

}  // namespace

ProgressBar::ProgressBar(std::string label, Mode mode)
    : label_(std::move(label)),
      mode_(mode),
      tty_(::isatty(STDERR_FILENO) == 1),
      start_(MonotonicSeconds()) {}

void ProgressBar::Update(uint64_t done, uint64_t total) {
  if (mode_ == Mode::kNever) return;
  const double now = MonotonicSeconds();
  if (mode_ == Mode::kAuto && (!tty_ || now - start_ < kDelaySeconds)) return;
  // A terminal gets ten redraws a second; a pipe a line every second; the
  // end always shows.
  if (drawn_ && done < total && now - last_draw_ < (tty_ ? 0.1 : 1.0)) return;
  last_draw_ = now;
  const double fraction =
      total == 0 ? 1.0 : std::min(1.0, static_cast<double>(done) / total);
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth + 0.5);
  const std::string bar =
      std::string(filled, '#') + std::string(kWidth - filled, '.');
  const double elapsed = now - start_;
  std::string eta;
  if (fraction > 0.01 && fraction < 1.0)
    eta = absl::StrFormat(", ~%.0f s left", elapsed / fraction - elapsed);
  std::fprintf(stderr, "%s%s [%s] %3.0f%%  %s/%s events  %.1f s%s%s",
               tty_ ? "\r\033[K" : "", label_.c_str(), bar.c_str(),
               fraction * 100, Count(done).c_str(), Count(total).c_str(),
               elapsed, eta.c_str(), tty_ ? "" : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::Done() {
  if (drawn_ && tty_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace tracestore::cli
