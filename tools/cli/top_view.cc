// TopModel: the data and the text of `tracestore top`.

#include "top_view.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tracestore/call_stream.h"

namespace tracestore::cli {

namespace {

constexpr struct {
  TopSort sort;
  std::string_view name;
} kSorts[] = {{TopSort::kSelf, "self"},
              {TopSort::kTotal, "total"},
              {TopSort::kCalls, "calls"},
              {TopSort::kRate, "rate"},
              {TopSort::kName, "name"}};

std::string Duration(uint64_t ns) {
  if (ns >= 100'000'000'000u) return absl::StrFormat("%.0fs", ns / 1e9);
  if (ns >= 1'000'000'000u) return absl::StrFormat("%.3fs", ns / 1e9);
  if (ns >= 1'000'000u) return absl::StrFormat("%.2fms", ns / 1e6);
  if (ns >= 1'000u) return absl::StrFormat("%.1fus", ns / 1e3);
  return absl::StrFormat("%dns", ns);
}

std::string Thousands(uint64_t n) {
  std::string digits = absl::StrCat(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string Rate(double r) {
  if (r >= 100) return Thousands(static_cast<uint64_t>(r + 0.5));
  return absl::StrFormat("%.1f", r);
}

double Percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / whole;
}

// At most `width` columns (UTF-8 aware: continuation bytes take none).
std::string Fit(std::string s, size_t width) {
  size_t columns = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xc0) == 0x80) continue;
    if (columns++ == width) {
      s.resize(i);
      break;
    }
  }
  return s;
}

}  // namespace

std::string_view TopSortName(TopSort sort) {
  for (const auto& s : kSorts)
    if (s.sort == sort) return s.name;
  return "";
}

bool ParseTopSort(std::string_view name, TopSort* sort) {
  for (const auto& s : kSorts) {
    if (s.name == name) {
      *sort = s.sort;
      return true;
    }
  }
  return false;
}

absl::StatusOr<std::unique_ptr<TopModel>> TopModel::Open(
    const std::string& path) {
  auto reader = TraceReader::Open(path);
  if (!reader.ok()) return reader.status();
  auto tree = ProcessTree::Open(path);
  if (!tree.ok()) return tree.status();
  return std::unique_ptr<TopModel>(
      new TopModel(*std::move(reader), *std::move(tree)));
}

TopModel::TopModel(std::unique_ptr<TraceReader> reader,
                   std::unique_ptr<ProcessTree> tree)
    : reader_(reader.get()), tree_(std::move(tree)) {
  procs_.push_back(std::make_unique<Proc>());
  procs_[0]->reader = std::move(reader);
}

bool TopModel::multi_process() const { return tree_->MultiProcess(); }

absl::Status TopModel::Refresh(double wall_seconds) {
  // New children first (the tree finds them), then every process.
  if (absl::Status s = tree_->Refresh(); !s.ok()) {
    error_ = std::string(s.message());
    return s;
  }
  for (size_t i = procs_.size(); i < tree_->size(); ++i) {
    const ProcessTree::Process& p = tree_->process(i);
    auto child = TraceReader::Open(p.path);
    if (!child.ok()) break;  // tried again at the next refresh
    procs_.push_back(std::make_unique<Proc>());
    procs_.back()->reader = *std::move(child);
    procs_.back()->offset_ns = p.offset_ns;
  }
  for (auto& proc : procs_) {
    absl::Status s = RefreshWithThreadEnds(*proc->reader, &proc->ended);
    if (!s.ok()) {
      error_ = std::string(s.message());
      return s;
    }
    proc->profile.Update(*proc->reader, proc->ended);
    proc->labels.Update(*proc->reader);
  }
  error_.clear();
  Build(wall_seconds, /*fresh_data=*/true);
  return absl::OkStatus();
}

Problems TopModel::AllProblems() const { return tree_->AllProblems(); }

size_t TopModel::thread_total() const {
  size_t n = 0;
  for (const auto& p : procs_) n += p->reader->threads().size();
  return n;
}

std::pair<uint32_t, uint32_t> TopModel::Locate(int64_t thread) const {
  uint64_t t = static_cast<uint64_t>(thread);
  for (size_t i = 0; i < procs_.size(); ++i) {
    const size_t n = procs_[i]->reader->threads().size();
    if (t < n) return {static_cast<uint32_t>(i), static_cast<uint32_t>(t)};
    t -= n;
  }
  return {0, 0};
}

void TopModel::set_sort(TopSort sort) {
  sort_ = sort;
  Sort();
}

void TopModel::SelectThread(int64_t thread) {
  const auto threads = static_cast<int64_t>(thread_total());
  if (thread < 0 || threads == 0) {
    thread = kAllThreads;
  } else if (thread >= threads) {
    thread = threads - 1;
  }
  if (thread == thread_) return;
  thread_ = thread;
  Build(last_wall_, /*fresh_data=*/false);
}

void TopModel::StepThread(int delta) {
  // Positions: 0 is "all", k is thread k - 1.
  const auto positions = static_cast<int64_t>(thread_total()) + 1;
  int64_t p = (thread_ + 1 + delta) % positions;
  if (p < 0) p += positions;
  SelectThread(p - 1);
}

TopModel::State TopModel::state() const {
  if (reader_->closed()) return State::kClosed;
  return reader_->writer_alive() ? State::kRecording : State::kWriterGone;
}

double TopModel::DurationSeconds() const {
  const uint64_t ticks =
      std::max(reader_->DurationTicks(), LiveNowTicks(*reader_));
  return reader_->ToNs(ticks) / 1e9;
}

void TopModel::Build(double wall_seconds, bool fresh_data) {
  // The processes in scope and the thread scope within each.
  const auto [only, local] =
      thread_ < 0 ? std::pair<uint32_t, uint32_t>{0, 0} : Locate(thread_);
  const uint32_t scope = thread_ < 0 ? Profile::kAllThreads : local;
  const double dt =
      fresh_data && previous_wall_ >= 0 && previous_scope_ == thread_
          ? wall_seconds - previous_wall_
          : 0;
  averages_ = dt < 0.05 || state() != State::kRecording;
  const double duration = DurationSeconds();
  auto average = [&](uint64_t n) { return duration > 0 ? n / duration : 0.0; };

  events_ = 0;
  total_calls_ = 0;
  for (size_t i = 0; i < procs_.size(); ++i) {
    if (thread_ >= 0 && i != only) continue;
    const Proc& p = *procs_[i];
    events_ +=
        thread_ < 0 ? p.reader->total_events() : p.reader->events(local).size();
    total_calls_ += p.profile.calls(scope);
  }
  if (averages_) {
    events_rate_ = average(events_);
    calls_rate_ = average(total_calls_);
  } else {
    events_rate_ = (events_ - std::min(events_, previous_events_)) / dt;
    calls_rate_ =
        (total_calls_ - std::min(total_calls_, previous_total_calls_)) / dt;
  }

  rows_.clear();
  self_sum_ns_ = 0;
  absl::flat_hash_map<uint64_t, uint64_t> calls;
  for (size_t i = 0; i < procs_.size(); ++i) {
    if (thread_ >= 0 && i != only) continue;
    const Proc& p = *procs_[i];
    const std::vector<FunctionProfile> functions =
        p.profile.Functions(*p.reader, scope, LiveNowTicks(*p.reader));
    for (const FunctionProfile& f : functions) {
      const uint64_t key = uint64_t{i} << 32 | f.function;
      TopRow r;
      r.process = static_cast<uint32_t>(i);
      r.function = f.function;
      r.calls = f.calls;
      r.open = f.open;
      r.self_ns = f.self_ns;
      r.total_ns = f.total_ns;
      if (averages_) {
        r.rate = average(f.calls);
      } else {
        auto it = previous_calls_.find(key);
        const uint64_t before = it == previous_calls_.end() ? 0 : it->second;
        r.rate = (f.calls - std::min(f.calls, before)) / dt;
      }
      self_sum_ns_ += f.self_ns;
      calls[key] = f.calls;
      rows_.push_back(r);
    }
  }
  previous_calls_ = std::move(calls);
  previous_scope_ = thread_;
  previous_wall_ = wall_seconds;
  previous_events_ = events_;
  previous_total_calls_ = total_calls_;
  last_wall_ = wall_seconds;
  Sort();
}

void TopModel::Sort() {
  auto key = [this](const TopRow& r) -> double {
    switch (sort_) {
      case TopSort::kSelf:
        return static_cast<double>(r.self_ns);
      case TopSort::kTotal:
        return static_cast<double>(r.total_ns);
      case TopSort::kCalls:
        return static_cast<double>(r.calls);
      case TopSort::kRate:
        return r.rate;
      case TopSort::kName:
        return 0;
    }
    return 0;
  };
  std::stable_sort(rows_.begin(), rows_.end(),
                   [&](const TopRow& a, const TopRow& b) {
                     if (sort_ == TopSort::kName) {
                       const std::string& x = Name(a.function, a.process);
                       const std::string& y = Name(b.function, b.process);
                       if (x != y) return x < y;
                     } else {
                       const double ka = key(a), kb = key(b);
                       if (ka != kb) return ka > kb;
                     }
                     if (a.process != b.process) return a.process < b.process;
                     return a.function < b.function;
                   });
}

std::vector<std::string> TopModel::Summary(size_t width) const {
  const format::TraceHeader& h = reader_->header();
  std::string state;
  switch (this->state()) {
    case State::kRecording:
      state = absl::StrCat("recording (pid ", h.pid, ")");
      break;
    case State::kClosed:
      state = "closed";
      break;
    case State::kWriterGone:
      state = absl::StrCat("not closed: writer pid ", h.pid, " is gone");
      break;
  }
  uint64_t waited = 0, dropped = 0, function_count = 0;
  size_t running = 0, thread_count = 0, processes_running = 0;
  for (const auto& p : procs_) {
    for (const StoreReader* s : p->reader->stores()) {
      waited += s->waited();
      dropped += s->dropped();
    }
    function_count += p->reader->functions().size();
    thread_count += p->reader->threads().size();
    // A thread without an end time runs only while its writer does: in a
    // trace whose writer died it is unfinished.
    for (const auto& t : p->reader->threads())
      running += p->reader->ThreadEndTicks(t) == 0;
    processes_running += ProcessEndOf(*p->reader) == ProcessEnd::kRunning;
  }
  const bool live = this->state() == State::kRecording;
  const char* open_word = live ? "running" : "unfinished";

  std::vector<std::string> lines;
  lines.push_back(absl::StrFormat(
      "tracestore top - %s - %s - %s", reader_->path(), state,
      Duration(static_cast<uint64_t>(DurationSeconds() * 1e9))));
  lines.push_back(absl::StrCat(
      "events ", Thousands(events_), " (", Rate(events_rate_), "/s)  calls ",
      Thousands(total_calls_), " (", Rate(calls_rate_), "/s)  functions ",
      Thousands(function_count), "  threads ", thread_count, " (", running, " ",
      open_word, ")  waited ", Thousands(waited), "  dropped ",
      Thousands(dropped)));
  if (multi_process())
    lines.push_back(absl::StrCat("processes ", procs_.size(), " (",
                                 processes_running, " running)"));
  std::string scope;
  if (thread_ < 0) {
    scope = absl::StrCat("thread: all (", thread_count, ")");
  } else {
    const auto [proc, local] = Locate(thread_);
    const TraceReader& r = *procs_[proc]->reader;
    const format::ThreadRecord& t = r.threads()[local];
    std::string name(r.String(r.ThreadName(t)));
    const std::string pid =
        multi_process() ? absl::StrCat("pid ", r.header().pid, ", ") : "";
    scope =
        absl::StrCat("thread ", thread_ + 1, "/", thread_count, ": ",
                     name.empty() ? "?" : name, " (", pid, "tid ", t.os_tid,
                     ", ", r.ThreadEndTicks(t) == 0 ? open_word : "ended", ")");
  }
  lines.push_back(absl::StrCat(
      scope, "  sort: ", std::string(TopSortName(sort_)), "  rates: ",
      averages_ ? "average over the trace" : "since the last refresh",
      "  (* = running now)"));
  // The reader's problems, first kind only (stderr gets them all at exit).
  const Problems problems = AllProblems();
  if (!problems.empty())
    lines.push_back(absl::StrCat("DAMAGED (partial): ", problems.Summary(1)[0]));
  for (std::string& line : lines) line = Fit(std::move(line), width);
  return lines;
}

std::string TopModel::ColumnHeader(size_t width) const {
  auto head = [this](const char* name, TopSort sort) {
    return sort_ == sort ? absl::StrCat(name, "*") : std::string(name);
  };
  if (multi_process())
    return Fit(absl::StrFormat("%10s %6s %10s %6s %12s %10s %8s  %s",
                               head("SELF", TopSort::kSelf), "SELF%",
                               head("TOTAL", TopSort::kTotal), "TOTAL%",
                               head("CALLS", TopSort::kCalls),
                               head("CALLS/S", TopSort::kRate), "PID",
                               head("FUNCTION", TopSort::kName)),
               width);
  return Fit(absl::StrFormat("%10s %6s %10s %6s %12s %10s  %s",
                             head("SELF", TopSort::kSelf), "SELF%",
                             head("TOTAL", TopSort::kTotal), "TOTAL%",
                             head("CALLS", TopSort::kCalls),
                             head("CALLS/S", TopSort::kRate),
                             head("FUNCTION", TopSort::kName)),
             width);
}

std::string TopModel::Row(size_t i, size_t width) const {
  const TopRow& r = rows_[i];
  if (multi_process())
    return Fit(
        absl::StrFormat("%10s %5.1f%% %10s %5.1f%% %12s %10s %8d %s%s",
                        Duration(r.self_ns), Percent(r.self_ns, self_sum_ns_),
                        Duration(r.total_ns), Percent(r.total_ns, self_sum_ns_),
                        Thousands(r.calls), Rate(r.rate),
                        procs_[r.process]->reader->header().pid,
                        r.open != 0 ? "*" : " ", Name(r.function, r.process)),
        width);
  return Fit(
      absl::StrFormat("%10s %5.1f%% %10s %5.1f%% %12s %10s %s%s",
                      Duration(r.self_ns), Percent(r.self_ns, self_sum_ns_),
                      Duration(r.total_ns), Percent(r.total_ns, self_sum_ns_),
                      Thousands(r.calls), Rate(r.rate), r.open != 0 ? "*" : " ",
                      Name(r.function)),
      width);
}

std::string TopModel::StateMessage() const {
  std::string message;
  if (!error_.empty()) message = absl::StrCat("refresh failed: ", error_, ". ");
  switch (state()) {
    case State::kRecording:
      break;
    case State::kClosed:
      absl::StrAppend(&message,
                      "The writer closed the trace: these are the final "
                      "numbers.");
      break;
    case State::kWriterGone:
      absl::StrAppend(&message, "The writer (pid ", reader_->header().pid,
                      ") is gone without closing the trace: nothing more "
                      "will come.");
      break;
  }
  switch (reader_->stop_reason()) {
    case format::StopReason::kNone:
      break;
    case format::StopReason::kDiskFull:
      absl::StrAppend(&message, " Recording stopped early: the disk was full.");
      break;
    case format::StopReason::kIoError:
      absl::StrAppend(&message, " Recording stopped early: an I/O error.");
      break;
  }
  return message;
}

}  // namespace tracestore::cli
