// The HTML flame graph: the StackTree and the Profile of one walk over the
// calls, as JSON inside the page template.

#include "tracestore/export/flamegraph_html.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "export/export_driver.h"
#include "export/line_view.h"
#include "tracestore/export/stack_tree.h"
#include "tracestore/function_label.h"
#include "tracestore/profile.h"

namespace tracestore {

namespace {

// Feeds one walk to both the stack tree and the profile.
class Tee : public CallVisitor {
 public:
  Tee(CallVisitor& a, CallVisitor& b) : a_(a), b_(b) {}
  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override {
    a_.OnOpen(thread, stack);
    b_.OnOpen(thread, stack);
  }
  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    a_.OnClose(thread, stack, end_ticks);
    b_.OnClose(thread, stack, end_ticks);
  }

 private:
  CallVisitor& a_;
  CallVisitor& b_;
};

// The names the page shows, each once: "names" and "kinds" in the data.
class NameTable {
 public:
  enum Kind { kPython = 0, kC = 1, kOther = 2 };
  NameTable(const TraceReader& trace) : traces_{&trace}, labels_(1) {
    labels_[0].Update(trace);
  }
  // The processes of a trace of many: Function(id, process); a label that
  // several processes have is one name.
  explicit NameTable(const std::vector<const TraceReader*>& traces)
      : traces_(traces), labels_(traces.size()), merge_(true) {
    for (size_t i = 0; i < traces.size(); ++i) labels_[i].Update(*traces[i]);
  }

  uint32_t Function(uint32_t id, uint32_t process = 0) {
    auto [it, added] = functions_.try_emplace(uint64_t{process} << 32 | id, 0);
    if (added) {
      const auto functions = traces_[process]->functions();
      const bool python = id != 0 && id <= functions.size() &&
                          (functions[id - 1].flags & format::kFunctionIsPython);
      const std::string label = labels_[process].Get(id);
      if (!merge_) {
        it->second = Add(label, python ? kPython : kC);
      } else {
        auto [named, fresh] = by_label_.try_emplace(label, 0);
        if (fresh) named->second = Add(label, python ? kPython : kC);
        it->second = named->second;
      }
    }
    return it->second;
  }
  uint32_t Other(const std::string& name) {
    auto [it, added] = others_.try_emplace(name, 0);
    if (added) it->second = Add(name, kOther);
    return it->second;
  }
  void Write(Output& out) const {
    out.Append("\"names\":[");
    for (size_t i = 0; i < names_.size(); ++i) {
      if (i) out.Char(',');
      out.JsonString(names_[i]);
    }
    out.Append("],\n\"kinds\":[");
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (i) out.Char(',');
      out.Uint(kinds_[i]);
    }
    out.Char(']');
  }

 private:
  uint32_t Add(const std::string& name, Kind kind) {
    names_.push_back(name);
    kinds_.push_back(kind);
    return static_cast<uint32_t>(names_.size() - 1);
  }
  std::vector<const TraceReader*> traces_;
  std::vector<FunctionLabels> labels_;
  absl::flat_hash_map<uint64_t, uint32_t> functions_;  // process, id
  absl::flat_hash_map<std::string, uint32_t> by_label_;
  bool merge_ = false;
  absl::flat_hash_map<std::string, uint32_t> others_;
  std::vector<std::string> names_;
  std::vector<uint8_t> kinds_;
};

// The total below which frames are left out, so that about `max` are kept.
uint64_t FrameThreshold(std::span<const StackTree::Node> nodes, size_t max) {
  if (nodes.size() <= max || max == 0) return 0;
  std::vector<uint64_t> totals;
  totals.reserve(nodes.size());
  for (const auto& n : nodes) totals.push_back(n.total_ns);
  std::nth_element(totals.begin(), totals.begin() + (max - 1), totals.end(),
                   std::greater<uint64_t>());
  return totals[max - 1];
}

// The tree in preorder, five numbers per frame: name, total ns, self ns,
// calls, children sent. Returns the frames sent.
// `traces`: the trace of each process (one, or the processes of a tree:
// the tree's kProcess nodes say which).
uint64_t WriteTree(const std::vector<const TraceReader*>& traces,
                   const StackTree& tree, size_t max_frames, NameTable& names,
                   Output& out) {
  const auto nodes = tree.nodes();
  const uint64_t threshold = FrameThreshold(nodes, max_frames);
  size_t budget = max_frames == 0 ? nodes.size() : max_frames;
  std::vector<std::pair<uint32_t, uint32_t>> todo = {{0, 0}};  // node, process
  std::vector<uint32_t> kids;
  uint64_t sent = 0;
  --budget;  // the root
  out.Append("\"tree\":[");
  while (!todo.empty()) {
    const auto [i, at] = todo.back();
    todo.pop_back();
    const StackTree::Node& n = nodes[i];
    const uint32_t process = n.kind == StackTree::Kind::kProcess ? n.id : at;
    const TraceReader& trace = *traces[process];
    kids.clear();
    for (uint32_t c = n.first_child; c != StackTree::kNone;
         c = nodes[c].next_sibling) {
      const uint64_t total = nodes[c].total_ns;
      if (total == 0 || total < threshold || budget == 0) continue;
      --budget;
      kids.push_back(c);
    }
    uint32_t name;
    switch (n.kind) {
      case StackTree::Kind::kRoot:
        name = names.Other("all");
        break;
      case StackTree::Kind::kThread:
        name = names.Other(
            absl::StrCat("thread ", internal::ThreadLabel(trace, n.id)));
        break;
      case StackTree::Kind::kProcess:
        name = names.Other(internal::ProcessLabel(trace));
        break;
      case StackTree::Kind::kMore:
        name = names.Other("[more stacks]");
        break;
      default:
        name = names.Function(n.id, process);
        break;
    }
    if (sent++) out.Char(',');
    if (sent % 8 == 0) out.Char('\n');
    out.Uint(name);
    out.Char(',');
    out.Uint(n.total_ns);
    out.Char(',');
    out.Uint(n.self_ns);
    out.Char(',');
    out.Uint(n.calls);
    out.Char(',');
    out.Uint(kids.size());
    // Preorder: the first child must come out next.
    for (size_t k = kids.size(); k-- > 0;) todo.push_back({kids[k], process});
  }
  out.Append("],\n\"frames\":");
  out.Uint(sent);
  out.Append(",\"distinct_stacks\":");
  out.Uint(nodes.size());
  return sent;
}

// Returns the ids of the functions written, in table order.
std::vector<uint32_t> WriteFunctions(const TraceReader& trace,
                                     const Profile& profile, size_t max_rows,
                                     NameTable& names, Output& out) {
  std::vector<FunctionProfile> rows = profile.Functions(trace);
  std::sort(rows.begin(), rows.end(),
            [](const FunctionProfile& a, const FunctionProfile& b) {
              if (a.self_ns != b.self_ns) return a.self_ns > b.self_ns;
              return a.function < b.function;
            });
  const size_t shown = std::min(rows.size(), max_rows);
  const auto functions = trace.functions();
  out.Append("\"functions\":[");
  for (size_t i = 0; i < shown; ++i) {
    const FunctionProfile& f = rows[i];
    out.Append(i ? ",\n[" : "\n[");
    out.Uint(names.Function(f.function));
    out.Char(',');
    if (f.function != 0 && f.function <= functions.size()) {
      const format::FunctionRecord& r = functions[f.function - 1];
      out.JsonString(trace.String(r.file));
      out.Char(',');
      out.Uint(r.first_line);
    } else {
      out.Append("\"\",0");
    }
    out.Char(',');
    out.Uint(f.calls);
    out.Char(',');
    out.Uint(f.self_ns);
    out.Char(',');
    out.Uint(f.total_ns);
    out.Char(']');
  }
  out.Append("],\n\"function_count\":");
  out.Uint(rows.size());
  std::vector<uint32_t> ids;
  ids.reserve(shown);
  for (size_t i = 0; i < shown; ++i) ids.push_back(rows[i].function);
  return ids;
}

std::string Iso8601(uint64_t realtime_ns) {
  const time_t secs = static_cast<time_t>(realtime_ns / 1000000000u);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

absl::StatusOr<ExportStats> WriteFlameGraphHtml(
    const TraceReader& trace, std::span<const uint64_t> thread_ended,
    const ExportOptions& options, Output& out) {
  internal::ExportDriver driver(trace, thread_ended, options);
  StackTree tree(driver.time(), /*by_thread=*/true, options.max_stack_nodes);
  Profile profile;
  Tee tee(tree, profile);
  // Nothing is written before the walk: the page starts with the template.
  StringSink none;
  Output scratch(&none, 64);
  if (!driver.RunAll(tee, scratch)) return scratch.status();
  tree.Finish();
  ExportStats stats = driver.stats();
  stats.folded_calls = tree.folded_calls();

  const std::string_view page = internal::kFlameGraphTemplate;
  const size_t marker = page.find(internal::kFlameGraphDataMarker);
  if (marker == std::string_view::npos)
    return absl::InternalError("the HTML template has no data marker");
  out.Append(page.substr(0, marker));

  NameTable names(trace);
  out.Append("{\"title\":");
  out.JsonString(driver.Title());
  out.Append(",\"trace\":");
  out.JsonString(trace.path());
  out.Append(",\"state\":\"");
  out.Append(trace.closed() ? "closed" : "recording");
  out.Append("\",\"started\":");
  out.JsonString(Iso8601(trace.header().start.realtime_ns));
  out.Append(",\"duration_ns\":");
  out.Uint(driver.time().ToNs(trace.DurationTicks()));
  out.Append(",\"events\":");
  out.Uint(stats.events);
  out.Append(",\"calls\":");
  out.Uint(stats.calls);
  out.Append(",\"threads\":");
  out.Uint(driver.threads());
  out.Append(",\"open_at_end\":");
  out.Uint(stats.closed_at_end);
  out.Append(",\n");
  WriteTree({&trace}, tree, options.max_html_frames, names, out);
  out.Append(",\n");
  const std::vector<uint32_t> shown =
      WriteFunctions(trace, profile, options.max_html_functions, names, out);
  out.Append(",\n");
  // Per-line times of the table's functions (line_view.h): needs its own
  // pass over the events, empty without line events.
  internal::WriteLineView(
      trace, thread_ended, driver.time(), shown,
      [&](uint32_t id) { return names.Function(id); },
      internal::LineViewLimits{}, out);
  out.Append(",\n");
  names.Write(out);  // last: the tree and the table add names
  out.Append("}");
  out.Append(page.substr(marker + internal::kFlameGraphDataMarker.size()));
  if (!out.ok()) return out.status();
  return stats;
}

absl::StatusOr<ExportStats> WriteFlameGraphHtmlProcesses(
    std::span<const ExportProcess> processes, const ExportOptions& options,
    Output& out) {
  if (processes.empty()) return absl::InvalidArgumentError("no process");
  std::vector<const TraceReader*> traces;
  std::vector<std::unique_ptr<internal::ExportDriver>> drivers;
  std::vector<std::unique_ptr<Profile>> profiles;
  for (const ExportProcess& p : processes) {
    traces.push_back(p.trace);
    drivers.push_back(std::make_unique<internal::ExportDriver>(
        *p.trace, p.thread_ended, options));
    profiles.push_back(std::make_unique<Profile>());
  }
  StackTree tree(drivers[0]->time(), /*by_thread=*/true,
                 options.max_stack_nodes);
  StringSink none;
  Output scratch(&none, 64);
  ExportStats stats;
  uint64_t threads = 0, end_ns = 0;
  for (size_t i = 0; i < processes.size(); ++i) {
    tree.BeginProcess(static_cast<uint32_t>(i), drivers[i]->time());
    Tee tee(tree, *profiles[i]);
    if (!drivers[i]->RunAll(tee, scratch)) return scratch.status();
    stats += drivers[i]->stats();
    threads += drivers[i]->threads();
    end_ns = std::max(end_ns,
                      processes[i].offset_ns +
                          drivers[i]->time().ToNs(traces[i]->DurationTicks()));
  }
  tree.Finish();
  stats.folded_calls = tree.folded_calls();

  const std::string_view page = internal::kFlameGraphTemplate;
  const size_t marker = page.find(internal::kFlameGraphDataMarker);
  if (marker == std::string_view::npos)
    return absl::InternalError("the HTML template has no data marker");
  out.Append(page.substr(0, marker));

  const TraceReader& root = *traces[0];
  NameTable names(traces);
  out.Append("{\"title\":");
  out.JsonString(drivers[0]->Title());
  out.Append(",\"trace\":");
  out.JsonString(root.path());
  out.Append(",\"state\":\"");
  bool closed = true;
  for (const TraceReader* t : traces) closed &= t->closed();
  out.Append(closed ? "closed" : "recording");
  out.Append("\",\"started\":");
  out.JsonString(Iso8601(root.header().start.realtime_ns));
  out.Append(",\"duration_ns\":");
  out.Uint(end_ns);
  out.Append(",\"events\":");
  out.Uint(stats.events);
  out.Append(",\"calls\":");
  out.Uint(stats.calls);
  out.Append(",\"threads\":");
  out.Uint(threads);
  out.Append(",\"processes\":");
  out.Uint(processes.size());
  out.Append(",\"open_at_end\":");
  out.Uint(stats.closed_at_end);
  out.Append(",\n");
  WriteTree(traces, tree, options.max_html_frames, names, out);
  out.Append(",\n");
  // One row per function over the processes: same name, file and line.
  struct Row {
    uint32_t name;
    std::string file;
    uint32_t line;
    uint64_t calls = 0, self_ns = 0, total_ns = 0;
  };
  std::vector<Row> rows;
  absl::flat_hash_map<std::string, size_t> row_of;
  for (size_t i = 0; i < processes.size(); ++i) {
    const auto functions = traces[i]->functions();
    for (const FunctionProfile& f : profiles[i]->Functions(*traces[i])) {
      Row r;
      r.name = names.Function(f.function, static_cast<uint32_t>(i));
      if (f.function != 0 && f.function <= functions.size()) {
        const format::FunctionRecord& fr = functions[f.function - 1];
        r.file = std::string(traces[i]->String(fr.file));
        r.line = fr.first_line;
      } else {
        r.line = 0;
      }
      const std::string key = absl::StrCat(r.name, "\n", r.file, "\n", r.line);
      auto [it, added] = row_of.try_emplace(key, rows.size());
      if (added) rows.push_back(r);
      Row& row = rows[it->second];
      row.calls += f.calls;
      row.self_ns += f.self_ns;
      row.total_ns += f.total_ns;
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.self_ns != b.self_ns) return a.self_ns > b.self_ns;
    return a.name < b.name;
  });
  const size_t shown = std::min(rows.size(), options.max_html_functions);
  out.Append("\"functions\":[");
  for (size_t i = 0; i < shown; ++i) {
    const Row& r = rows[i];
    out.Append(i ? ",\n[" : "\n[");
    out.Uint(r.name);
    out.Char(',');
    out.JsonString(r.file);
    out.Char(',');
    out.Uint(r.line);
    out.Char(',');
    out.Uint(r.calls);
    out.Char(',');
    out.Uint(r.self_ns);
    out.Char(',');
    out.Uint(r.total_ns);
    out.Char(']');
  }
  out.Append("],\n\"function_count\":");
  out.Uint(rows.size());
  out.Append(",\n");
  names.Write(out);  // last: the tree and the table add names
  out.Append("}");
  out.Append(page.substr(marker + internal::kFlameGraphDataMarker.size()));
  if (!out.ok()) return out.status();
  return stats;
}

}  // namespace tracestore
