// `tracestore top TRACE`: a live, read-only terminal view of a trace that is
// being written (or of a finished one): the hottest functions by self and
// total time, calls per second, threads, events written, waited and
// dropped appends. Refreshes about once a second; the numbers come from
// the library's incremental Profile (tracestore/profile.h), so a refresh
// costs only the events written since the last one.
//
//   tracestore top run.trace                   # q or Ctrl-C quits
//   tracestore top run.trace --sort total --interval 0.5
//   tracestore top run.trace --once -n 10      # one plain-text snapshot
//
// Keys: s t c r n sort by self, total, calls, calls/s, name (< > step);
// ] [ or Tab / Left Right: next / previous thread, a: all threads, 1-9: a
// thread; Up Down PgUp PgDn Home: scroll; p or space: pause; q, Esc,
// Ctrl-C: quit. Plain curses (ncursesw): works in any terminal, over ssh,
// in tmux. The trace is only ever mapped read-only.
//
// Exit 0; 2 on a usage error, a trace that cannot be opened, or no terminal
// (without --once).

#include <curses.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "problem_report.h"
#include "progress.h"
#include "top_view.h"

namespace tracestore::cli {

namespace {

constexpr char kUsage[] =
    "usage: tracestore top TRACE [--interval SECONDS] [--sort KEY]\n"
    "                      [--thread N|all] [--once [-n ROWS]]\n"
    "  --sort self|total|calls|rate|name   (default self)\n"
    "  --thread N     start on thread N (1-based, as shown), default all\n"
    "  --once         print one snapshot as plain text and exit\n"
    "keys: q quit, s/t/c/r/n sort, [ ] thread, a all threads, p pause\n";

constexpr char kKeys[] =
    "q quit  s self  t total  c calls  r calls/s  n name  [ ] thread  "
    "a all  arrows scroll  p pause";

volatile sig_atomic_t g_stop = 0;
extern "C" void OnStopSignal(int) { g_stop = 1; }

int Fail(const std::string& message) {
  std::fprintf(stderr, "tracestore top: %s\n", message.c_str());
  return kExitUsage;
}

struct TopArgs {
  std::string trace;
  double interval = 1.0;
  TopSort sort = TopSort::kSelf;
  int64_t thread = TopModel::kAllThreads;
  bool once = false;
  size_t rows = 20;
};

// Prints one snapshot, as `top` would show it.
int PrintOnce(TopModel& model, size_t rows) {
  constexpr size_t kWidth = 200;
  for (const std::string& line : model.Summary(kWidth))
    std::printf("%s\n", line.c_str());
  std::printf("\n%s\n", model.ColumnHeader(kWidth).c_str());
  for (size_t i = 0; i < std::min(rows, model.row_count()); ++i)
    std::printf("%s\n", model.Row(i, kWidth).c_str());
  const std::string message = model.StateMessage();
  if (!message.empty()) std::printf("\n%s\n", message.c_str());
  return kExitOk;
}

class Screen {
 public:
  explicit Screen(TopModel& model) : model_(model) {}

  void Draw(bool paused, const std::string& note) {
    erase();
    const int height = LINES, width = COLS;
    const auto w = static_cast<size_t>(std::max(width, 1));
    int y = 0;
    const std::vector<std::string> summary = model_.Summary(w);
    for (size_t i = 0; i < summary.size() && y < height; ++i, ++y) {
      if (i == 0) attron(A_BOLD);
      mvaddstr(y, 0, summary[i].c_str());
      if (i == 0) attroff(A_BOLD);
    }
    ++y;
    if (y < height) {
      std::string header = model_.ColumnHeader(w);
      header.resize(w, ' ');
      attron(A_REVERSE);
      mvaddstr(y, 0, header.c_str());
      attroff(A_REVERSE);
      ++y;
    }
    const int visible = std::max(0, height - y - 2);
    const int rows = static_cast<int>(model_.row_count());
    scroll_ = std::clamp(scroll_, 0, std::max(0, rows - visible));
    for (int k = 0; k < visible && scroll_ + k < rows; ++k)
      mvaddstr(y + k, 0,
               model_.Row(static_cast<size_t>(scroll_ + k), w).c_str());
    std::string status = model_.StateMessage();
    if (paused) status = absl::StrCat("PAUSED (p resumes). ", status);
    if (!note.empty()) status = absl::StrCat(note, " ", status);
    if (height >= 2 && !status.empty()) {
      attron(A_BOLD | (has_colors() ? COLOR_PAIR(1) : 0));
      mvaddnstr(height - 2, 0, status.c_str(), width);
      attroff(A_BOLD | (has_colors() ? COLOR_PAIR(1) : 0));
    }
    if (height >= 1) {
      attron(A_DIM);
      mvaddnstr(height - 1, 0, kKeys, width);
      attroff(A_DIM);
    }
    refresh();
  }

  // Returns false to quit.
  bool Key(int ch, bool* paused, bool* refresh_now) {
    const int page = std::max(1, LINES - 8);
    switch (ch) {
      case 'q':
      case 'Q':
      case 27:  // Esc
        return false;
      case 's':
        model_.set_sort(TopSort::kSelf);
        break;
      case 't':
        model_.set_sort(TopSort::kTotal);
        break;
      case 'c':
        model_.set_sort(TopSort::kCalls);
        break;
      case 'r':
        model_.set_sort(TopSort::kRate);
        break;
      case 'n':
        model_.set_sort(TopSort::kName);
        break;
      case '<':
      case '>': {
        constexpr TopSort kOrder[] = {TopSort::kSelf, TopSort::kTotal,
                                      TopSort::kCalls, TopSort::kRate,
                                      TopSort::kName};
        int i = 0;
        while (kOrder[i] != model_.sort()) ++i;
        i = (i + (ch == '>' ? 1 : 4)) % 5;
        model_.set_sort(kOrder[i]);
        break;
      }
      case ']':
      case '\t':
      case KEY_RIGHT:
        model_.StepThread(1);
        scroll_ = 0;
        break;
      case '[':
      case KEY_BTAB:
      case KEY_LEFT:
        model_.StepThread(-1);
        scroll_ = 0;
        break;
      case 'a':
      case '0':
        model_.SelectThread(TopModel::kAllThreads);
        scroll_ = 0;
        break;
      case KEY_UP:
      case 'k':
        --scroll_;
        break;
      case KEY_DOWN:
      case 'j':
        ++scroll_;
        break;
      case KEY_PPAGE:
        scroll_ -= page;
        break;
      case KEY_NPAGE:
        scroll_ += page;
        break;
      case KEY_HOME:
      case 'g':
        scroll_ = 0;
        break;
      case 'p':
      case ' ':
        *paused = !*paused;
        break;
      case 'R':
      case 12:  // Ctrl-L
        *refresh_now = true;
        clearok(curscr, TRUE);
        break;
      default:
        if (ch >= '1' && ch <= '9') {
          model_.SelectThread(ch - '1');
          scroll_ = 0;
        }
        break;
    }
    scroll_ = std::max(scroll_, 0);
    return true;
  }

 private:
  TopModel& model_;
  int scroll_ = 0;
};

int RunScreen(TopModel& model, const TopArgs& args) {
  std::setlocale(LC_ALL, "");
  SCREEN* screen = newterm(nullptr, stdout, stdin);
  if (screen == nullptr)
    return Fail(absl::StrCat("cannot use the terminal (TERM=",
                             std::getenv("TERM") ? std::getenv("TERM") : "",
                             ")"));
  struct sigaction sa = {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: getch returns at once
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  set_escdelay(25);
  curs_set(0);
  timeout(100);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(1, COLOR_YELLOW, -1);
  }

  Screen view(model);
  bool paused = false, refresh_now = false, dirty = true;
  double next_refresh = MonotonicSeconds() + args.interval;
  while (!g_stop) {
    const double now = MonotonicSeconds();
    if ((now >= next_refresh && !paused) || refresh_now) {
      (void)model.Refresh(now);  // a failure shows in the status line
      next_refresh = now + args.interval;
      refresh_now = false;
      dirty = true;
    }
    if (dirty) view.Draw(paused, "");
    dirty = false;
    const int ch = getch();
    if (ch == ERR) continue;
    if (ch == KEY_RESIZE) {
      dirty = true;
      continue;
    }
    if (!view.Key(ch, &paused, &refresh_now)) break;
    dirty = true;
  }
  endwin();
  delscreen(screen);
  switch (model.state()) {
    case TopModel::State::kClosed:
      std::printf("tracestore top: the writer closed the trace.\n");
      break;
    case TopModel::State::kWriterGone:
      std::printf(
          "tracestore top: the writer is gone without closing the "
          "trace.\n");
      break;
    case TopModel::State::kRecording:
      break;
  }
  return kExitOk;
}

}  // namespace

int RunTop(const std::vector<std::string>& argv) {
  TopArgs args;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argv.size()) return false;
      *out = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--interval" || a == "-d") {
      if (!value(&v) || !absl::SimpleAtod(v, &args.interval) ||
          !(args.interval >= 0.05 && args.interval <= 3600))
        return Fail("--interval needs seconds between 0.05 and 3600\n" +
                    std::string(kUsage));
    } else if (a == "--sort") {
      if (!value(&v) || !ParseTopSort(v, &args.sort))
        return Fail("--sort takes self, total, calls, rate or name\n" +
                    std::string(kUsage));
    } else if (a == "--thread") {
      int64_t n = 0;
      if (!value(&v))
        return Fail("--thread needs a value\n" + std::string(kUsage));
      if (v == "all") {
        args.thread = TopModel::kAllThreads;
      } else if (absl::SimpleAtoi(v, &n) && n >= 1) {
        args.thread = n - 1;
      } else {
        return Fail("--thread takes a thread number (1, 2, ...) or all");
      }
    } else if (a == "--once") {
      args.once = true;
    } else if (a == "-n") {
      if (!value(&v) || !absl::SimpleAtoi(v, &args.rows))
        return Fail("-n needs a number of rows");
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.size() > 1 && a[0] == '-') {
      return Fail("unknown option '" + a + "'\n" + kUsage);
    } else if (args.trace.empty()) {
      args.trace = a;
    } else {
      return Fail("more than one trace given\n" + std::string(kUsage));
    }
  }
  if (args.trace.empty()) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  if (!args.once &&
      (::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1))
    return Fail("needs a terminal (--once prints one plain-text snapshot)");

  auto model = TopModel::Open(args.trace);
  if (!model.ok()) return Fail(std::string(model.status().message()));
  if (absl::Status s = (*model)->Refresh(MonotonicSeconds()); !s.ok())
    return Fail(std::string(s.message()));
  (*model)->set_sort(args.sort);
  (*model)->SelectThread(args.thread);
  const int rc = args.once ? PrintOnce(**model, args.rows)
                           : RunScreen(**model, args);
  if (rc != kExitOk) return rc;
  std::fflush(stdout);
  return ReportProblems("top", (*model)->AllProblems());
}

}  // namespace tracestore::cli
