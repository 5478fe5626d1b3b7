// ProgressBar: a one-line progress bar on stderr for long commands. It
// stays silent for the first couple of seconds (a quick export prints
// nothing) and whenever stderr is not a terminal, unless forced.
//
//   ProgressBar bar("chrome", ProgressBar::Mode::kAuto);
//   options.progress = [&](uint64_t done, uint64_t total) {
//     bar.Update(done, total);
//   };
//   ... export ...
//   bar.Done();   // erases the line
//
// Thread-safety: none.

#ifndef TRACESTORE_TOOLS_CLI_PROGRESS_H_
#define TRACESTORE_TOOLS_CLI_PROGRESS_H_

#include <cstdint>
#include <string>

namespace tracestore::cli {

class ProgressBar {
 public:
  enum class Mode {
    kAuto,    // after kDelaySeconds, if stderr is a terminal
    kAlways,  // from the start, even into a pipe (one line per update)
    kNever,
  };
  static constexpr double kDelaySeconds = 2.0;

  ProgressBar(std::string label, Mode mode);
  ~ProgressBar() { Done(); }
  void Update(uint64_t done, uint64_t total);
  // Erases the bar if one was drawn.
  void Done();

 private:
  std::string label_;
  Mode mode_;
  bool tty_;
  double start_;
  double last_draw_ = 0;
  bool drawn_ = false;
};

// Seconds on CLOCK_MONOTONIC.
double MonotonicSeconds();

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_PROGRESS_H_
