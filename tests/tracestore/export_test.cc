// The exporters (tracestore/export/*.h) over traces with a known call tree:
// every file parses, the chrome file holds one complete event per call with
// its exact times, speedscope's events nest and match the calls, the folded
// stacks add up to the traced self time (also past the stack limit), the
// HTML page carries its data and needs no network; output errors surface;
// names are escaped.

#include "tracestore/export/export.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "../sqlite_ext/sql_test_util.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "json_check.h"
#include "test_util.h"
#include "tracestore/call_stream.h"
#include "tracestore/calls.h"
#include "tracestore/export/stack_tree.h"
#include "tracestore/function_label.h"
#include "tracestore/trace_view.h"
#include "tracestore/trace_writer.h"

namespace tracestore {
namespace {

using format::EventKind;
using testing::Json;
using testing::ScratchDir;

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::TreeOptions o;
    o.threads = 3;
    o.functions = 25;
    o.slices_per_thread = 2000;
    tree_ = std::make_unique<testing::TreeWriter>(path(), o);
    tree_->WriteAllAndClose();
    Open();
  }
  std::string path() const { return dir_ / "t.trace"; }
  void Open() {
    auto view = TraceView::Open(path());
    ASSERT_TRUE(view.ok()) << view.status();
    view_ = *std::move(view);
    auto reader = TraceReader::Open(path());
    ASSERT_TRUE(reader.ok());
    reader_ = *std::move(reader);
    ASSERT_TRUE(RefreshWithThreadEnds(*reader_, &ended_).ok());
  }
  // The generated slices opened by a resume (a generator continued: not a
  // call), and the others.
  uint64_t Resumes() const {
    uint64_t n = 0;
    for (const auto& e : tree_->slices())
      n += format::GetEventKind(reader_->events(e.thread)[e.open_index]) ==
           format::EventKind::kResume;
    return n;
  }
  uint64_t Calls() const { return tree_->slices().size() - Resumes(); }

  std::string Export(ExportFormat format, ExportStats* stats = nullptr,
                     ExportOptions options = {}) {
    StringSink sink;
    Output out(&sink, 4096);  // small: many flushes
    auto s = ExportTrace(*reader_, ended_, format, options, out);
    EXPECT_TRUE(s.ok()) << s.status();
    EXPECT_TRUE(out.Finish().ok());
    if (stats != nullptr && s.ok()) *stats = *s;
    EXPECT_EQ(out.bytes(), sink.text().size());
    return sink.text();
  }
  Json Parse(const std::string& text) {
    Json doc;
    std::string error;
    EXPECT_TRUE(testing::ParseJson(text, &doc, &error)) << error;
    return doc;
  }
  const CallTree& calls() { return view_->calls(); }
  uint64_t SelfNs() {
    uint64_t sum = 0;
    for (uint32_t t = 0; t < calls().thread_count(); ++t)
      for (const CallSlice& s : calls().slices(t))
        sum += reader_->ToNs(s.self_ticks());
    return sum;
  }

  ScratchDir dir_;
  std::unique_ptr<testing::TreeWriter> tree_;
  std::unique_ptr<TraceView> view_;
  std::unique_ptr<TraceReader> reader_;
  std::vector<uint64_t> ended_;
};

TEST(OutputTest, Formatting) {
  StringSink sink;
  Output out(&sink, 64);
  out.MicrosFromNs(0);
  out.Char(' ');
  out.MicrosFromNs(1234567);
  out.Char(' ');
  out.MicrosFromNs(5);
  out.Char(' ');
  out.Uint(18446744073709551615u);
  out.Char(' ');
  static constexpr char kWeird[] = "a\"b\\c\n\x01</script>&\xff\xc3\xa9";
  out.JsonString(std::string(kWeird, sizeof(kWeird) - 1));
  ASSERT_TRUE(out.Finish().ok());
  EXPECT_EQ(
      sink.text(),
      "0.000 1234.567 0.005 18446744073709551615 "
      "\"a\\\"b\\\\c\\n\\u0001\\u003c/script\\u003e\\u0026\\ufffd\xc3\xa9\"");
  Json j;
  std::string error;
  ASSERT_TRUE(
      testing::ParseJson(sink.text().substr(sink.text().find('"')), &j, &error))
      << error;
  EXPECT_EQ(j.text, "a\"b\\c\n\x01</script>&\xef\xbf\xbd\xc3\xa9");
}

TEST_F(ExportTest, ChromeHasOneCompleteEventPerCall) {
  ExportStats stats;
  const std::string text = Export(ExportFormat::kChrome, &stats);
  const Json doc = Parse(text);
  ASSERT_EQ(doc.type, Json::Type::kObject);
  ASSERT_NE(doc.Find("displayTimeUnit"), nullptr);
  const Json* events = doc.Find("traceEvents");
  ASSERT_NE(events, nullptr);
  ASSERT_EQ(events->type, Json::Type::kArray);

  std::map<uint64_t, uint32_t> thread_of_tid;
  for (uint32_t t = 0; t < reader_->threads().size(); ++t)
    thread_of_tid[reader_->threads()[t].os_tid] = t;
  FunctionLabels labels;
  labels.Update(*reader_);

  using Call = std::tuple<uint32_t, uint64_t, uint64_t, std::string>;
  std::vector<Call> want, got;
  for (uint32_t t = 0; t < calls().thread_count(); ++t) {
    for (const CallSlice& s : calls().slices(t)) {
      const uint64_t start = reader_->ToNs(s.start_ticks);
      want.emplace_back(t, start, reader_->ToNs(s.end_ticks) - start,
                        labels.Get(s.function));
    }
  }
  std::map<std::string, int> phases;
  std::map<uint32_t, std::string> thread_names;
  for (const Json& e : events->items) {
    const std::string ph = e.Find("ph")->text;
    ++phases[ph];
    ASSERT_EQ(e.Find("pid")->Uint(), reader_->header().pid);
    if (ph == "M" && e.Find("name")->text == "thread_name")
      thread_names[thread_of_tid.at(e.Find("tid")->Uint())] =
          e.Find("args")->Find("name")->text;
    if (ph != "X") continue;
    got.emplace_back(thread_of_tid.at(e.Find("tid")->Uint()),
                     e.Find("ts")->Thousandths(), e.Find("dur")->Thousandths(),
                     e.Find("name")->text);
  }
  std::sort(want.begin(), want.end());
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got.size(), tree_->slices().size());
  EXPECT_TRUE(got == want);
  EXPECT_GT(Resumes(), 0u);
  EXPECT_EQ(stats.calls, Calls());
  EXPECT_EQ(stats.resumes, Resumes());
  EXPECT_EQ(stats.events, tree_->total_events());
  EXPECT_EQ(stats.closed_at_end, 0u);
  // Marks: a start and a stop per thread, one point.
  EXPECT_EQ(phases["b"], 3);
  EXPECT_EQ(phases["e"], 3);
  EXPECT_EQ(phases["i"], 1);
  EXPECT_EQ(thread_names[1], "thread-1");
}

TEST_F(ExportTest, SpeedscopeEventsNestAndMatchTheCalls) {
  const Json doc = Parse(Export(ExportFormat::kSpeedscope));
  EXPECT_EQ(doc.Find("$schema")->text,
            "https://www.speedscope.app/file-format-schema.json");
  const std::vector<Json>& frames = doc.Find("shared")->Find("frames")->items;
  ASSERT_EQ(frames.size(), reader_->functions().size() + 1);
  FunctionLabels labels;
  labels.Update(*reader_);
  for (uint32_t i = 0; i < reader_->functions().size(); ++i)
    ASSERT_EQ(frames[i].Find("name")->text, labels.Get(i + 1));
  const std::vector<Json>& profiles = doc.Find("profiles")->items;
  ASSERT_EQ(profiles.size(), 3u);
  for (uint32_t t = 0; t < profiles.size(); ++t) {
    const Json& p = profiles[t];
    EXPECT_EQ(p.Find("type")->text, "evented");
    EXPECT_EQ(p.Find("unit")->text, "nanoseconds");
    EXPECT_EQ(p.Find("name")->text, absl::StrCat("thread-", t));
    auto slices = calls().slices(t);
    std::vector<uint64_t> open;  // slice indexes
    size_t next = 0;
    uint64_t last_at = p.Find("startValue")->Uint();
    for (const Json& e : p.Find("events")->items) {
      const uint64_t at = e.Find("at")->Uint();
      const uint64_t frame = e.Find("frame")->Uint();
      ASSERT_GE(at, last_at);
      last_at = at;
      if (e.Find("type")->text == "O") {
        ASSERT_LT(next, slices.size());
        const CallSlice& s = slices[next];
        ASSERT_EQ(frame, s.function - 1);
        ASSERT_EQ(at, reader_->ToNs(s.start_ticks));
        open.push_back(next++);
      } else {
        ASSERT_EQ(e.Find("type")->text, "C");
        ASSERT_FALSE(open.empty());
        const CallSlice& s = slices[open.back()];
        ASSERT_EQ(frame, s.function - 1);
        ASSERT_EQ(at, reader_->ToNs(s.end_ticks));
        open.pop_back();
      }
    }
    EXPECT_TRUE(open.empty());
    EXPECT_EQ(next, slices.size());
    EXPECT_GE(p.Find("endValue")->Uint(), last_at);
  }
}

// Parses "a;b;c 123" lines; returns the sum of the values.
uint64_t FoldedSum(const std::string& text,
                   std::map<std::string, uint64_t>* by_leaf, size_t* lines) {
  uint64_t sum = 0;
  *lines = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    ++*lines;
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, absl::string_view::npos) << line;
    uint64_t v = 0;
    EXPECT_TRUE(absl::SimpleAtoi(line.substr(space + 1), &v)) << line;
    EXPECT_GT(v, 0u);
    sum += v;
    const absl::string_view stack = line.substr(0, space);
    const size_t semi = stack.rfind(';');
    (*by_leaf)[std::string(
        semi == absl::string_view::npos ? stack : stack.substr(semi + 1))] += v;
  }
  return sum;
}

TEST_F(ExportTest, CollapsedStacksSumToTheSelfTime) {
  std::map<std::string, uint64_t> by_leaf;
  size_t lines = 0;
  const uint64_t sum =
      FoldedSum(Export(ExportFormat::kCollapsed), &by_leaf, &lines);
  EXPECT_EQ(sum, SelfNs());
  // Per function too: a stack's last frame is where its self time was.
  FunctionLabels labels;
  labels.Update(*reader_);
  std::map<std::string, uint64_t> want;
  for (uint32_t t = 0; t < calls().thread_count(); ++t)
    for (const CallSlice& s : calls().slices(t)) {
      const uint64_t ns = reader_->ToNs(s.self_ticks());
      if (ns) want[labels.Get(s.function)] += ns;
    }
  EXPECT_EQ(by_leaf, want);

  ExportOptions per_thread;
  per_thread.collapsed_threads = true;
  const std::string text =
      Export(ExportFormat::kCollapsed, nullptr, per_thread);
  std::map<std::string, uint64_t> ignored;
  EXPECT_EQ(FoldedSum(text, &ignored, &lines), SelfNs());
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty()))
    EXPECT_EQ(line.substr(0, 7), "thread ") << line;
}

TEST_F(ExportTest, StackLimitKeepsTheSums) {
  ExportOptions small;
  small.max_stack_nodes = 60;
  ExportStats stats;
  std::map<std::string, uint64_t> by_leaf;
  size_t lines = 0;
  const std::string text = Export(ExportFormat::kCollapsed, &stats, small);
  EXPECT_EQ(FoldedSum(text, &by_leaf, &lines), SelfNs());
  EXPECT_GT(stats.folded_calls, 0u);
  EXPECT_GT(by_leaf["[more stacks]"], 0u);
  EXPECT_LT(lines, 130u);

  // The tree itself: totals are self plus the children's totals.
  StackTree tree(view_->time(), true, 60);
  CallStream stream;
  stream.Update(*reader_, ended_, tree);
  stream.FinishAll(tree);
  tree.Finish();
  auto nodes = tree.nodes();
  EXPECT_LE(nodes.size(), 60u * 2);
  for (size_t i = 0; i < nodes.size(); ++i) {
    uint64_t children = 0;
    for (uint32_t c = nodes[i].first_child; c != StackTree::kNone;
         c = nodes[c].next_sibling)
      children += nodes[c].total_ns;
    // TSC ticks round per call: allow a ns per call.
    EXPECT_NEAR(static_cast<double>(nodes[i].total_ns),
                static_cast<double>(nodes[i].self_ns + children),
                static_cast<double>(nodes[i].calls + nodes[i].resumes + 1))
        << i;
  }
  EXPECT_EQ(nodes[0].calls, Calls());
}

// The JSON inside the page.
std::string PageData(const std::string& page) {
  const std::string open =
      "<script id=\"trace-data\" type=\"application/json\">";
  const size_t a = page.find(open);
  const size_t b = page.find("</script>", a);
  if (a == std::string::npos || b == std::string::npos) return "";
  return page.substr(a + open.size(), b - a - open.size());
}

TEST_F(ExportTest, HtmlCarriesItsDataAndNeedsNoNetwork) {
  const std::string page = Export(ExportFormat::kHtml);
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(page.find("</html>"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("__TRACESTORE_DATA__"), std::string::npos);
  const Json data = Parse(PageData(page));
  const Json& names = *data.Find("names");
  const Json& tree = *data.Find("tree");
  ASSERT_EQ(tree.items.size() % 5, 0u);
  const size_t frames = tree.items.size() / 5;
  EXPECT_EQ(data.Find("frames")->Uint(), frames);
  EXPECT_EQ(data.Find("calls")->Uint(), Calls());
  // Preorder with child counts: rebuild it; every frame's total is at
  // least the sum of its children's.
  std::vector<uint64_t> total(frames), child_sum(frames, 0);
  std::vector<size_t> open, left;
  uint64_t self_sum = 0;
  for (size_t i = 0; i < frames; ++i) {
    ASSERT_LT(tree.items[5 * i].Uint(), names.items.size());
    total[i] = tree.items[5 * i + 1].Uint();
    self_sum += tree.items[5 * i + 2].Uint();
    if (!open.empty()) {
      child_sum[open.back()] += total[i];
      --left.back();
    } else {
      ASSERT_EQ(i, 0u) << "one root";
    }
    if (tree.items[5 * i + 4].Uint() > 0) {
      open.push_back(i);
      left.push_back(tree.items[5 * i + 4].Uint());
    }
    while (!open.empty() && left.back() == 0) {
      open.pop_back();
      left.pop_back();
    }
  }
  EXPECT_TRUE(open.empty());
  for (size_t i = 0; i < frames; ++i)
    EXPECT_GE(total[i] + 3 * frames, child_sum[i]) << i;  // TSC rounding
  EXPECT_EQ(self_sum, SelfNs());  // nothing pruned at this size
  EXPECT_EQ(names.items[tree.items[0].Uint()].text, "all");
  // The function table, most self time first.
  const Json& functions = *data.Find("functions");
  ASSERT_FALSE(functions.items.empty());
  for (size_t i = 1; i < functions.items.size(); ++i)
    EXPECT_GE(functions.items[i - 1].items[4].Uint(),
              functions.items[i].items[4].Uint());
  std::map<std::string, uint64_t> self_by_name;
  FunctionLabels labels;
  labels.Update(*reader_);
  for (uint32_t t = 0; t < calls().thread_count(); ++t)
    for (const CallSlice& s : calls().slices(t))
      self_by_name[labels.Get(s.function)] += s.self_ticks();
  auto hottest = std::max_element(
      self_by_name.begin(), self_by_name.end(),
      [](const auto& a, const auto& b) { return a.second < b.second; });
  EXPECT_EQ(names.items[functions.items[0].items[0].Uint()].text,
            hottest->first);
}

TEST_F(ExportTest, HtmlKeepsTheWidestFrames) {
  ExportOptions few;
  few.max_html_frames = 40;
  const Json data = Parse(PageData(Export(ExportFormat::kHtml, nullptr, few)));
  EXPECT_LE(data.Find("frames")->Uint(), 40u);
  EXPECT_GT(data.Find("distinct_stacks")->Uint(), 40u);
}

class FailingSink : public ByteSink {
 public:
  explicit FailingSink(size_t allowed) : allowed_(allowed) {}
  absl::Status Write(std::string_view bytes) override {
    if (bytes.size() > allowed_)
      return absl::ResourceExhaustedError("disk full");
    allowed_ -= bytes.size();
    return absl::OkStatus();
  }

 private:
  size_t allowed_;
};

TEST_F(ExportTest, OutputErrorsSurface) {
  for (ExportFormat f : {ExportFormat::kChrome, ExportFormat::kSpeedscope,
                         ExportFormat::kCollapsed, ExportFormat::kHtml}) {
    FailingSink sink(10000);
    Output out(&sink, 4096);
    auto stats = ExportTrace(*reader_, ended_, f, {}, out);
    const absl::Status finished = out.Finish();
    EXPECT_TRUE(!stats.ok() || !finished.ok()) << ExportFormatName(f);
    EXPECT_EQ(finished.code(), absl::StatusCode::kResourceExhausted);
  }
}

TEST(ExportFormats, Names) {
  for (const char* name : {"chrome", "speedscope", "collapsed", "html"}) {
    ExportFormat f;
    ASSERT_TRUE(ParseExportFormat(name, &f));
    EXPECT_EQ(ExportFormatName(f), name);
  }
  ExportFormat f;
  EXPECT_FALSE(ParseExportFormat("sqlite", &f));
  EXPECT_FALSE(ParseExportFormat("", &f));
}

TEST(ExportLive, OpenCallsEndAtTheLastEvent) {
  ScratchDir dir;
  testing::TreeOptions o;
  o.threads = 2;
  o.slices_per_thread = 0;
  testing::TreeWriter tree(dir / "t.trace", o);
  tree.WriteSlices(0, 300);
  tree.Append(0, EventKind::kCall, 1, 0);
  tree.Append(0, EventKind::kCall, 2, 0);
  tree.Append(1, EventKind::kCall, 3, 0);
  tree.Append(1, EventKind::kLine, 3, 9);
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  for (ExportFormat f : {ExportFormat::kChrome, ExportFormat::kSpeedscope,
                         ExportFormat::kCollapsed, ExportFormat::kHtml,
                         ExportFormat::kPerfetto}) {
    StringSink sink;
    Output out(&sink);
    auto stats = ExportTrace(**reader, ended, f, {}, out);
    ASSERT_TRUE(stats.ok());
    ASSERT_TRUE(out.Finish().ok());
    EXPECT_EQ(stats->closed_at_end, 3u) << ExportFormatName(f);
    EXPECT_EQ(stats->calls + stats->resumes, 303u);
    if (f == ExportFormat::kChrome) {
      Json doc;
      std::string error;
      ASSERT_TRUE(testing::ParseJson(sink.text(), &doc, &error)) << error;
      size_t x = 0;
      for (const Json& e : doc.Find("traceEvents")->items)
        x += e.Find("ph")->text == "X";
      EXPECT_EQ(x, 303u);
    }
  }
}

TEST(ExportNames, AreEscaped) {
  ScratchDir dir;
  TraceOptions o;
  o.path = dir / "t.trace";
  auto w = TraceWriter::Create(o);
  ASSERT_TRUE(w.ok());
  static constexpr char kWeird[] = "we\"ird\\</script>\n\t;name\xff";
  const std::string weird(kWeird, sizeof(kWeird) - 1);
  const uint32_t fn = (*w)->AddFunction({"mod", weird, "/x.py", 1});
  EventWriter* t = (*w)->StartThread(7, "main \"thread\"");
  t->Append(EventKind::kCall, fn, 0);
  t->Append(EventKind::kReturn, fn, 0);
  ASSERT_TRUE((*w)->Close().ok());
  auto reader = TraceReader::Open(dir / "t.trace");
  ASSERT_TRUE(reader.ok());
  std::vector<uint64_t> ended;
  ASSERT_TRUE(RefreshWithThreadEnds(**reader, &ended).ok());
  for (ExportFormat f : {ExportFormat::kChrome, ExportFormat::kSpeedscope,
                         ExportFormat::kHtml, ExportFormat::kCollapsed}) {
    StringSink sink;
    Output out(&sink);
    ASSERT_TRUE(ExportTrace(**reader, ended, f, {}, out).ok());
    ASSERT_TRUE(out.Finish().ok());
    std::string text = sink.text();
    if (f == ExportFormat::kCollapsed) {
      EXPECT_EQ(text.find('\n'), text.size() - 1) << text;  // one line
      EXPECT_NE(text.find("mod.we\"ird\\</script>  :name"), std::string::npos)
          << text;
      continue;
    }
    if (f == ExportFormat::kHtml) {
      EXPECT_EQ(text.find("</script>", text.find("trace-data")),
                text.find("</script>", text.find("application/json")));
      text = PageData(text);
    }
    Json doc;
    std::string error;
    ASSERT_TRUE(testing::ParseJson(text, &doc, &error)) << error;
    EXPECT_NE(sink.text().find("we\\\"ird"), std::string::npos);
  }
}

}  // namespace
}  // namespace tracestore
