// ProcessTree: finds the child traces of a trace and keeps them open
// together (process_tree.h).

#include "tracestore/process_tree.h"

#include <signal.h>
#include <sys/types.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>

#include "absl/strings/str_cat.h"
#include "tracestore/store_paths.h"

namespace tracestore {

namespace {

// Grandchildren nest at most this deep (a loop of symlinks ends here).
constexpr int kMaxDepth = 64;

// The pid in "child-<pid>.trace"; 0 when the name is not one.
uint64_t ChildPid(std::string_view name) {
  constexpr std::string_view kPrefix = "child-", kSuffix = ".trace";
  if (name.size() <= kPrefix.size() + kSuffix.size() ||
      name.substr(0, kPrefix.size()) != kPrefix ||
      name.substr(name.size() - kSuffix.size()) != kSuffix)
    return 0;
  const std::string_view digits = name.substr(
      kPrefix.size(), name.size() - kPrefix.size() - kSuffix.size());
  uint64_t pid = 0;
  auto [end, ec] =
      std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (ec != std::errc() || end != digits.data() + digits.size()) return 0;
  return pid;
}

uint64_t PropertyPid(const TraceReader& trace, std::string_view key) {
  const std::string_view v = trace.Property(key);
  uint64_t pid = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), pid);
  if (ec != std::errc() || end != v.data() + v.size()) return 0;
  return pid;
}

bool Alive(uint64_t pid) {
  return pid > 0 && pid < (uint64_t{1} << 31) &&
         (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

uint64_t Load(const uint64_t& v) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(v))
      .load(std::memory_order_acquire);
}

}  // namespace

const char* ProcessEndName(ProcessEnd end) {
  switch (end) {
    case ProcessEnd::kRunning:
      return "running";
    case ProcessEnd::kExited:
      return "exited";
    case ProcessEnd::kKilled:
      return "killed";
  }
  return "?";
}

ProcessExit ProcessExitOf(const TraceReader& trace) {
  const format::TraceHeader& h = trace.header();
  ProcessExit e;
  const uint32_t kind =
      std::atomic_ref<uint32_t>(const_cast<uint32_t&>(h.end_kind))
          .load(std::memory_order_acquire);
  if (kind == static_cast<uint32_t>(format::EndKind::kExited) ||
      kind == static_cast<uint32_t>(format::EndKind::kSignaled)) {
    e.kind = static_cast<format::EndKind>(kind);
    e.value = std::atomic_ref<uint32_t>(const_cast<uint32_t&>(h.end_value))
                  .load(std::memory_order_relaxed);
  }
  return e;
}

ProcessEnd ProcessEndOf(const TraceReader& trace) {
  if (ProcessExitOf(trace).kind == format::EndKind::kSignaled)
    return ProcessEnd::kKilled;
  if (trace.closed()) return ProcessEnd::kExited;
  return trace.writer_alive() ? ProcessEnd::kRunning : ProcessEnd::kKilled;
}

absl::StatusOr<std::unique_ptr<ProcessTree>> ProcessTree::Open(
    const std::string& path, Env* env) {
  if (env == nullptr) env = Env::Default();
  auto view = TraceView::Open(path, env);
  if (!view.ok()) return view.status();
  std::unique_ptr<ProcessTree> tree(new ProcessTree(env));
  tree->Add(*std::move(view), "");
  tree->Discover(path, "", 0);
  tree->Link();
  return tree;
}

void ProcessTree::Add(std::unique_ptr<TraceView> view,
                      const std::string& relative) {
  auto p = std::make_unique<Process>();
  const TraceReader& r = view->reader();
  p->pid = r.header().pid;
  p->path = r.path();
  p->relative = relative;
  p->parent_pid = PropertyPid(r, "parent_pid");
  p->traced_parent_pid = PropertyPid(r, "traced_parent_pid");
  if (!processes_.empty()) {
    p->id_base = uint64_t{processes_.size()} << kIdShift;
    const uint64_t root_start =
        root().view->reader().header().start.monotonic_ns;
    const uint64_t start = r.header().start.monotonic_ns;
    p->offset_ns = start > root_start ? start - root_start : 0;
  }
  p->view = std::move(view);
  known_[p->path] = true;
  // In the order found: ids ascend over process().
  processes_.push_back(std::move(p));
}

void ProcessTree::Discover(const std::string& dir, const std::string& relative,
                           int depth) {
  if (depth >= kMaxDepth) return;
  auto names = env_->ListDir(dir);
  if (!names.ok()) return;  // the trace's own problems say what is missing
  // By pid: a finished trace numbers its children the same in every reader.
  std::vector<std::pair<uint64_t, std::string>> children;
  for (const std::string& name : *names)
    if (const uint64_t pid = ChildPid(name); pid != 0)
      children.emplace_back(pid, name);
  std::sort(children.begin(), children.end());
  for (const auto& [pid, name] : children) {
    const std::string path = dir + "/" + name;
    const std::string rel = relative.empty() ? name : relative + "/" + name;
    if (!known_.contains(path)) {
      if (processes_.size() > kMaxChildren) {
        ++left_out_;
        known_[path] = true;
        continue;
      }
      auto view = TraceView::Open(path, env_);
      if (view.ok()) {
        unopened_.erase(path);
        Add(*std::move(view), rel);
      } else if (!env_->FileExists(path + "/" + kTraceHeaderFile) &&
                 Alive(pid)) {
        // Its process is creating it right now: not there yet, no loss.
        unopened_.erase(path);
        continue;
      } else if (Alive(pid)) {
        // Header there but not yet usable (being written): try again.
        unopened_.erase(path);
        continue;
      } else {
        unopened_[path] = std::string(view.status().message());
        continue;
      }
    }
    Discover(path, rel, depth + 1);
  }
}

void ProcessTree::Link() {
  for (auto& p : processes_) {
    if (p.get() == processes_[0].get()) {
      p->tree_parent = 0;
      continue;
    }
    uint64_t parent = root().pid;
    if (p->traced_parent_pid != 0 && p->traced_parent_pid != p->pid &&
        Find(p->traced_parent_pid) != nullptr) {
      parent = p->traced_parent_pid;
    } else if (p->parent_pid != 0 && p->parent_pid != p->pid &&
               Find(p->parent_pid) != nullptr) {
      parent = p->parent_pid;
    }
    p->tree_parent = parent;
  }
}

absl::Status ProcessTree::Refresh() {
  refresh_problems_ = Problems();
  TS_RETURN_IF_ERROR(root().view->Refresh());
  for (size_t i = 1; i < processes_.size(); ++i) {
    if (absl::Status s = processes_[i]->view->Refresh(); !s.ok())
      refresh_problems_.Add(
          ProblemKind::kUnreadable,
          absl::StrCat(processes_[i]->path, ": ", s.message()));
  }
  Discover(root().path, "", 0);
  Link();
  return absl::OkStatus();
}

bool ProcessTree::MultiProcess() const {
  return processes_.size() > 1 ||
         root().view->reader().Property("follow_children") == "1";
}

const ProcessTree::Process* ProcessTree::Find(uint64_t pid) const {
  const size_t i = IndexOf(pid);
  return i < processes_.size() ? processes_[i].get() : nullptr;
}

size_t ProcessTree::IndexOf(uint64_t pid) const {
  for (size_t i = 0; i < processes_.size(); ++i)
    if (processes_[i]->pid == pid) return i;
  return processes_.size();
}

Problems ProcessTree::AllProblems() const {
  Problems all = root().view->reader().AllProblems();
  for (size_t i = 1; i < processes_.size(); ++i)
    all.Append(processes_[i]->view->reader().AllProblems());
  all.Append(refresh_problems_);
  if (left_out_ != 0)
    all.Add(ProblemKind::kUnreadable,
            absl::StrCat(root().path, ": ", left_out_,
                         " child traces left out (at most ", kMaxChildren,
                         " children are read)"));
  if (processes_.size() > 1) {
    for (const auto& p : processes_)
      if (p->view->reader().threads().size() > kMaxThreads)
        all.Add(ProblemKind::kHeader,
                absl::StrCat(p->path, ": ", p->view->reader().threads().size(),
                             " threads: in a trace of many processes, event "
                             "and call ids are unique only over the first ",
                             kMaxThreads, " threads of each process (the "
                             "later ones repeat other processes' ids)"));
  }
  for (const auto& [path, why] : Unopened())
    all.Add(ProblemKind::kUnreadable,
            absl::StrCat(path, ": child trace cannot be opened: ", why));
  return all;
}

std::vector<std::pair<std::string, std::string>> ProcessTree::Unopened() const {
  std::vector<std::pair<std::string, std::string>> unopened(unopened_.begin(),
                                                            unopened_.end());
  std::sort(unopened.begin(), unopened.end());
  return unopened;
}

uint64_t ProcessTree::EndNs(const Process& p) const {
  const TraceReader& r = p.view->reader();
  const format::TraceHeader& h = r.header();
  uint64_t ticks = r.DurationTicks();
  if (r.closed()) {
    const uint64_t close = Load(h.close.ticks);
    if (close >= h.start.ticks) ticks = std::max(ticks, close - h.start.ticks);
  }
  return p.offset_ns + r.ToNs(ticks);
}

}  // namespace tracestore
