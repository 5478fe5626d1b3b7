// WriteBulkTables: events and calls, sorted and written as b-trees.

#include "sqlite_bulk_tables.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>

#include "absl/strings/str_cat.h"
#include "external_sorter.h"
#include "sqlite_file_writer.h"
#include "tracestore/call_stream.h"
#include "tracestore/calls.h"
#include "tracestore/event_scan.h"

namespace tracestore::cli {

namespace {

// Memory of each sorter: runs beyond it go to a temporary file.
constexpr size_t kRowSortBytes = 8 << 20;
constexpr size_t kIndexSortBytes = 4 << 20;  // and as much to sort in

// An entry of a one-column index, in SQLite's order: NULL first, then the
// integers, ties by rowid. Packed into 128 bits that compare as unsigned:
// the value (sign bit flipped), then the rowid (below 2^63) with the top
// bit set for a value, clear for a NULL, whose value bits are 0.
struct IndexEntry {
  unsigned __int128 bits;
  bool operator<(const IndexEntry& o) const { return bits < o.bits; }
  bool null() const { return !(static_cast<uint64_t>(bits) >> 63); }
  int64_t key() const {
    return static_cast<int64_t>(static_cast<uint64_t>(bits >> 64) ^ kSign);
  }
  uint64_t rowid() const { return static_cast<uint64_t>(bits) & ~kSign; }
  static constexpr uint64_t kSign = uint64_t{1} << 63;
};
// Entries arrive in rowid order: radix sorting by value keeps it.
using IndexSorter = ExternalSorter<IndexEntry, RadixSortByHigh>;

IndexEntry Entry(uint64_t rowid, uint64_t value, bool null = false) {
  if (null) return {rowid};
  return {(static_cast<unsigned __int128>(value ^ IndexEntry::kSign) << 64) |
          rowid | IndexEntry::kSign};
}

// A call as it closes: the calls table's row but for the function's
// strings (added when written).
struct CallRow {
  uint64_t id, parent, ts, dur, self_dur;
  uint32_t thread, depth, function, call_line;
  uint8_t open_kind, flags;
  bool operator<(const CallRow& o) const { return id < o.id; }
};
constexpr uint8_t kHasParent = 1, kStillOpen = 2, kBeforeWindow = 4,
                  kRecursive = 8;

void IntOrNull(SqliteRecord& r, uint64_t v, bool null) {
  if (null) {
    r.Null();
  } else {
    r.Int(static_cast<int64_t>(v));
  }
}

void TextOrNull(SqliteRecord& r, std::string_view s) {
  if (s.empty()) {
    r.Null();
  } else {
    r.Text(s);
  }
}

// What one thread writes: its b-trees into the shared file, their schema
// rows kept for the end (the schema is written from one thread, in a fixed
// order), its progress reported.
class Writer {
 public:
  Writer(SqliteFileWriter& file, std::string temp_dir,
         std::function<void(uint64_t events)> progress)
      : file_(file),
        temp_dir_(std::move(temp_dir)),
        progress_(std::move(progress)) {}

  void AddSchema(SqliteFileWriter::SchemaRow row) {
    schema_.push_back(std::move(row));
  }
  const std::vector<SqliteFileWriter::SchemaRow>& schema() const {
    return schema_;
  }
  void Progress(uint64_t events) const {
    if (progress_) progress_(events);
  }

  IndexSorter NewSorter() const { return IndexSorter(temp_dir_, kIndexSortBytes); }

  absl::Status Index(IndexSorter& sorter, const BulkIndex& index) {
    auto btree = file_.NewIndex();
    SqliteRecord r;
    absl::Status added;
    absl::Status s = sorter.Drain([&](const IndexEntry& e) {
      r.Clear();
      IntOrNull(r, static_cast<uint64_t>(e.key()), e.null());
      r.Int(static_cast<int64_t>(e.rowid()));
      added = btree->Add(r);
      return added.ok();
    });
    if (!s.ok()) return s;
    if (!added.ok()) return added;
    uint32_t root;
    if (absl::Status f = btree->Finish(&root); !f.ok()) return f;
    AddSchema({"index", index.name, index.table, root,
               absl::StrCat("CREATE INDEX ", index.name, " ON ", index.table,
                            "(", index.column, ")")});
    return absl::OkStatus();
  }

  SqliteFileWriter& file() { return file_; }
  const std::string& temp_dir() const { return temp_dir_; }

 private:
  SqliteFileWriter& file_;
  std::string temp_dir_;
  std::function<void(uint64_t)> progress_;
  std::vector<SqliteFileWriter::SchemaRow> schema_;
};

absl::Status WriteEvents(Writer& w, const TraceReader& reader,
                         std::string* count) {
  auto table = w.file().NewTable();
  IndexSorter by_ts = w.NewSorter(), by_function = w.NewSorter();
  const TimeScale time(reader.header().ticks_per_second);
  SqliteRecord r;
  uint64_t rows = 0;
  const uint32_t threads = static_cast<uint32_t>(
      std::min<size_t>(reader.threads().size(), kMaxRowIdThreads));
  for (uint32_t t = 0; t < threads; ++t) {
    const auto events = reader.events(t);
    for (uint64_t i = 0; i < events.size(); ++i) {
      const format::EventRecord& e = events[i];
      const format::EventKind kind = format::GetEventKind(e);
      const uint64_t id = MakeRowId(t, i);
      const uint64_t ts = time.ToNs(format::EventTicks(e));
      const bool mark = kind == format::EventKind::kMark;
      r.Clear();
      r.Null();  // id: the rowid
      r.Int(t);
      r.Int(static_cast<int64_t>(ts));
      TextOrNull(r, EventKindName(kind));
      IntOrNull(r, e.function, e.function == 0);
      IntOrNull(r, e.value, mark);
      IntOrNull(r, e.value, !mark);
      if (absl::Status s = table->Add(static_cast<int64_t>(id), r); !s.ok())
        return s;
      if (absl::Status s = by_ts.Add(Entry(id, ts)); !s.ok()) return s;
      if (absl::Status s =
              by_function.Add(Entry(id, e.function, e.function == 0));
          !s.ok())
        return s;
      if (++rows % CallStream::kProgressEvents == 0) w.Progress(rows);
    }
  }
  uint32_t root;
  if (absl::Status s = table->Finish(&root); !s.ok()) return s;
  w.AddSchema({"table", "events", "events", root,
               absl::StrCat("CREATE TABLE events(", kEventsColumns, ")")});
  if (absl::Status s = w.Index(by_ts, kBulkIndexes[0]); !s.ok()) return s;
  if (absl::Status s = w.Index(by_function, kBulkIndexes[1]); !s.ok())
    return s;
  w.Progress(rows);
  *count = absl::StrCat(rows, " events");
  return absl::OkStatus();
}

// Collects each call as it closes (after --min-dur): its row, whether it
// is nested in a call of the same function, and the profile's sums.
class CallRows : public CallVisitor {
 public:
  CallRows(const TraceReader& reader, const std::string& temp_dir,
           absl::btree_map<uint32_t, ProfileRow>* profile)
      : time_(reader.header().ticks_per_second),
        sorter_(temp_dir, kRowSortBytes),
        profile_(profile) {}

  void OnOpen(uint32_t thread, std::span<const OpenCall> stack) override {
    Thread& t = Get(thread);
    const uint32_t f = stack.back().function;
    if (t.active.size() <= f && f < kDense) t.active.resize(size_t{f} + 1);
    bool recursive = false;
    if (f < kDense) {
      recursive = t.active[f]++ != 0;
    } else {
      for (size_t i = 0; i + 1 < stack.size(); ++i)
        recursive |= stack[i].function == f;
    }
    t.recursive.push_back(recursive);
  }

  void OnClose(uint32_t thread, std::span<const OpenCall> stack,
               uint64_t end_ticks) override {
    Thread& t = Get(thread);
    const OpenCall& c = stack.back();
    const bool recursive = !t.recursive.empty() && t.recursive.back();
    if (!t.recursive.empty()) t.recursive.pop_back();
    if (c.function < kDense && c.function < t.active.size() &&
        t.active[c.function] > 0)
      --t.active[c.function];
    if (!error_.ok()) return;
    const uint64_t start = time_.ToNs(c.start_ticks);
    const uint64_t dur = time_.ToNs(end_ticks) - start;
    const uint64_t ticks = end_ticks - c.start_ticks;
    const uint64_t self =
        time_.ToNs(ticks > c.child_ticks ? ticks - c.child_ticks : 0);
    CallRow row{};
    row.id = MakeRowId(thread, c.open_index);
    row.thread = thread;
    row.depth = static_cast<uint32_t>(stack.size() - 1);
    if (stack.size() > 1) {
      row.parent = MakeRowId(thread, stack[stack.size() - 2].open_index);
      row.flags |= kHasParent;
    }
    row.function = c.function;
    row.call_line = c.call_line;
    row.ts = start;
    row.dur = dur;
    row.self_dur = self;
    row.open_kind = c.open_kind;
    if (t.finishing) row.flags |= kStillOpen;  // no end yet
    if ((c.flags & kSliceStartsBeforeWindow) != 0) row.flags |= kBeforeWindow;
    if (recursive) row.flags |= kRecursive;
    error_ = sorter_.Add(row);
    ProfileRow& p = (*profile_)[c.function];
    ++(c.open_kind == static_cast<uint8_t>(format::EventKind::kResume)
           ? p.resumes
           : p.calls);
    if (t.finishing) {
      ++p.open;
    } else {
      p.self_ns += self;
      if (!recursive) p.total_ns += dur;
    }
  }

  // The calls of `thread` that close from now on are still open.
  void Finishing(uint32_t thread) { Get(thread).finishing = true; }
  const absl::Status& error() const { return error_; }
  ExternalSorter<CallRow>& sorter() { return sorter_; }

 private:
  static constexpr uint32_t kDense = 1u << 22;
  struct Thread {
    std::vector<uint32_t> active;    // open calls per function id
    std::vector<uint8_t> recursive;  // per open call
    bool finishing = false;
  };
  Thread& Get(uint32_t thread) {
    if (threads_.size() <= thread) threads_.resize(size_t{thread} + 1);
    return threads_[thread];
  }

  TimeScale time_;
  ExternalSorter<CallRow> sorter_;
  absl::btree_map<uint32_t, ProfileRow>* profile_;
  std::vector<Thread> threads_;
  absl::Status error_;
};

absl::Status WriteCalls(Writer& w, const TraceReader& reader,
                        std::span<const uint64_t> thread_ended,
                        const ExportOptions& options, BulkTables* out) {
  CallRows rows(reader, w.temp_dir(), &out->profile);
  ExportOptions walk = options;
  walk.progress = [&w](uint64_t done, uint64_t) { w.Progress(done); };
  walk.before_finish = [&rows](uint32_t thread) { rows.Finishing(thread); };
  out->stats = StreamCalls(reader, thread_ended, walk, rows);
  if (!rows.error().ok()) return rows.error();

  auto table = w.file().NewTable();
  IndexSorter by_ts = w.NewSorter(), by_function = w.NewSorter(),
              by_parent = w.NewSorter();
  const auto functions = reader.functions();
  SqliteRecord r;
  absl::Status added;
  absl::Status s = rows.sorter().Drain([&](const CallRow& c) {
    r.Clear();
    r.Null();  // id: the rowid
    r.Int(c.thread);
    r.Int(c.depth);
    IntOrNull(r, c.parent, !(c.flags & kHasParent));
    IntOrNull(r, c.function, c.function == 0);
    if (c.function != 0 && c.function <= functions.size()) {
      const format::FunctionRecord& f = functions[c.function - 1];
      TextOrNull(r, reader.String(f.qualname));
      TextOrNull(r, reader.String(f.module));
      TextOrNull(r, reader.String(f.file));
      r.Int(f.first_line);
    } else {
      for (int i = 0; i < 4; ++i) r.Null();
    }
    r.Int(c.call_line);
    r.Int(static_cast<int64_t>(c.ts));
    const bool open = (c.flags & kStillOpen) != 0;
    IntOrNull(r, c.dur, open);
    IntOrNull(r, c.self_dur, open);
    r.Int((c.flags & kBeforeWindow) != 0 ? 1 : 0);
    r.Text(EventKindName(static_cast<format::EventKind>(c.open_kind)));
    r.Int((c.flags & kRecursive) != 0 ? 1 : 0);
    added = table->Add(static_cast<int64_t>(c.id), r);
    if (added.ok()) added = by_ts.Add(Entry(c.id, c.ts));
    if (added.ok())
      added = by_function.Add(Entry(c.id, c.function, c.function == 0));
    if (added.ok())
      added = by_parent.Add(
          Entry(c.id, c.parent, !(c.flags & kHasParent)));
    return added.ok();
  });
  if (!s.ok()) return s;
  if (!added.ok())
    return absl::InternalError(
        absl::StrCat("calls: ", added.message()));
  uint32_t root;
  if (absl::Status f = table->Finish(&root); !f.ok()) return f;
  w.AddSchema({"table", "calls", "calls", root,
               absl::StrCat("CREATE TABLE calls(", kCallsColumns, ")")});
  for (auto [sorter, index] : {std::pair{&by_ts, &kBulkIndexes[2]},
                               std::pair{&by_function, &kBulkIndexes[3]},
                               std::pair{&by_parent, &kBulkIndexes[4]}})
    if (absl::Status i = w.Index(*sorter, *index); !i.ok()) return i;
  // Rows: the calls and, apart, the resumes (kind 'resume').
  out->counts.push_back(absl::StrCat(out->stats.calls, " calls"));
  if (out->stats.resumes != 0)
    out->counts.push_back(absl::StrCat(out->stats.resumes, " resumes"));
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteBulkTables(const std::string& path, const TraceReader& reader,
                             std::span<const uint64_t> thread_ended,
                             const ExportOptions& options, BulkTables* out) {
  auto file = SqliteFileWriter::Create(path);
  if (!file.ok()) return file.status();
  const size_t slash = path.rfind('/');
  const std::string dir =
      slash == std::string::npos ? "." : path.substr(0, slash + 1);
  // Events and calls are written at once, on two threads (the reader's
  // const methods only read its mappings); progress counts the events each
  // has gone through, of twice the trace's.
  std::mutex progress_mutex;
  uint64_t done[2] = {0, 0};
  auto progress = [&](int phase) {
    return [&, phase](uint64_t events) {
      if (!options.progress) return;
      std::lock_guard<std::mutex> lock(progress_mutex);
      done[phase] = events;
      options.progress(done[0] + done[1], 2 * reader.total_events());
    };
  };
  Writer events(**file, dir, progress(0)), calls(**file, dir, progress(1));
  std::string events_count;
  absl::Status events_status;
  auto write_events = [&] {
    events_status = WriteEvents(events, reader, &events_count);
  };
  std::thread events_thread;
  try {
    events_thread = std::thread(write_events);
  } catch (const std::system_error&) {
    // No thread to be had: one after the other.
  }
  absl::Status calls_status =
      WriteCalls(calls, reader, thread_ended, options, out);
  if (events_thread.joinable()) {
    events_thread.join();
  } else {
    write_events();
  }
  if (!events_status.ok()) return events_status;
  if (!calls_status.ok()) return calls_status;
  out->counts.insert(out->counts.begin(), events_count);
  for (const Writer* w : {&events, &calls})
    for (const SqliteFileWriter::SchemaRow& row : w->schema())
      (*file)->AddSchema(row);
  return (*file)->Close();
}

}  // namespace tracestore::cli
