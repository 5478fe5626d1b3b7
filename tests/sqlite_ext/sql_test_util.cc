// Helpers for the SQL tests (sql_test_util.h): the call-tree generator, SQL
// shortcuts over the SQLITE_CORE build, and running external commands.

#include "sql_test_util.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "sqlite_ext/tracestore_sqlite.h"

namespace tracestore::testing {

using format::EventKind;

TreeWriter::TreeWriter(const std::string& path, const TreeOptions& options)
    : options_(options), rng_(options.seed) {
  TraceOptions o;
  o.path = path;
  o.event_chunk_shift = options.event_chunk_shift;
  o.metadata_chunk_shift = 12;
  o.use_tsc = options.use_tsc;
  o.properties = {{"command_line", "tree.py"}, {"created_by", "sql tests"}};
  auto w = TraceWriter::Create(o);
  if (!w.ok()) throw std::runtime_error(w.status().ToString());
  writer_ = *std::move(w);
  for (uint32_t i = 0; i < options.functions; ++i) {
    FunctionInfo f;
    const std::string module = absl::StrCat("pkg.mod", i % 5);
    const std::string name = absl::StrCat("Class", i % 7, ".f", i);
    const std::string file = absl::StrCat("/src/pkg/mod", i % 5, ".py");
    f.module = module;
    f.qualname = name;
    f.file = file;
    f.first_line = i * 10 + 1;
    if (i % 9 == 8) f.flags = format::kFunctionTraced;  // a C function
    functions_.push_back(writer_->AddFunction(f));
  }
  for (uint32_t t = 0; t < options.threads; ++t)
    threads_.push_back(
        writer_->StartThread(1000 + t, absl::StrCat("thread-", t)));
}

void TreeWriter::Append(uint32_t thread, EventKind kind, uint32_t function,
                        uint32_t value) {
  threads_[thread]->AppendAt(Tick(), kind, function, value);
}

void TreeWriter::Tree(uint32_t thread, uint32_t depth, int64_t parent,
                      uint64_t* budget) {
  if (*budget == 0) return;
  --*budget;
  EventWriter* w = threads_[thread];
  const uint32_t fn = functions_[rng_() % functions_.size()];
  const uint64_t r = rng_() % 100;
  EventKind open = EventKind::kCall, close = EventKind::kReturn;
  if (r < 8) {
    open = EventKind::kCCall;
    close = EventKind::kCReturn;
  } else if (r < 14) {
    open = EventKind::kResume;
    close = EventKind::kYield;
  } else if (r < 24) {
    close = EventKind::kUnwind;
  }
  const uint64_t start = Tick();
  const uint32_t line = static_cast<uint32_t>(rng_() % 500 + 1);
  const uint64_t index = w->count();
  w->AppendAt(start, open, fn, line);
  slices_.push_back({thread, index, fn, depth, parent, start, 0, line});
  const size_t me = slices_.size() - 1;
  if (open != EventKind::kCCall) {
    for (uint64_t k = rng_() % 3; k > 0; --k)
      w->AppendAt(Tick(), EventKind::kLine, fn,
                  static_cast<uint32_t>(rng_() % 500));
    if (depth < options_.max_depth) {
      for (uint64_t k = rng_() % 4; k > 0; --k)
        Tree(thread, depth + 1, static_cast<int64_t>(index), budget);
    }
    if (rng_() % 20 == 0) w->AppendAt(Tick(), EventKind::kMark, 0, 3);
  }
  const uint64_t end = Tick();
  w->AppendAt(end, close, fn, line + 1);
  slices_[me].end_ticks = end;
}

void TreeWriter::WriteSlices(uint32_t thread, uint64_t slices) {
  uint64_t budget = slices;
  while (budget > 0) Tree(thread, 0, -1, &budget);
}

void TreeWriter::WriteAllAndClose() {
  for (uint32_t t = 0; t < threads_.size(); ++t) {
    writer_->AddMark(t, "phase", format::MarkKind::kStart, t);
    WriteSlices(t, options_.slices_per_thread);
    writer_->AddMark(t, "phase", format::MarkKind::kStop, t);
  }
  writer_->AddMark(0, "done", format::MarkKind::kPoint, 42);
  if (auto s = writer_->Close(); !s.ok())
    throw std::runtime_error(s.ToString());
}

uint64_t TreeWriter::total_events() const {
  uint64_t n = 0;
  for (const EventWriter* t : threads_) n += t->count();
  return n;
}

Db OpenDb() {
  sqlite3* db = nullptr;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK)
    throw std::runtime_error("sqlite3_open");
  if (sql::RegisterTables(db) != SQLITE_OK)
    throw std::runtime_error(sqlite3_errmsg(db));
  return Db(db);
}

std::vector<std::string> Rows(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return {absl::StrCat("ERROR: ", sqlite3_errmsg(db))};
  std::vector<std::string> rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> values;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      values.push_back(text == nullptr ? "NULL"
                                       : reinterpret_cast<const char*>(text));
    }
    rows.push_back(absl::StrJoin(values, "|"));
  }
  if (rc != SQLITE_DONE) rows = {absl::StrCat("ERROR: ", sqlite3_errmsg(db))};
  sqlite3_finalize(stmt);
  return rows;
}

int64_t Int(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    return -1;
  int64_t v = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

std::string Error(sqlite3* db, const std::string& sql) {
  auto rows = Rows(db, sql);
  if (rows.size() == 1 && rows[0].rfind("ERROR: ", 0) == 0)
    return rows[0].substr(7);
  return "";
}

std::string Plan(sqlite3* db, const std::string& sql) {
  std::vector<std::string> lines;
  for (const auto& row : Rows(db, "EXPLAIN QUERY PLAN " + sql)) {
    // id|parent|notused|detail
    size_t bar = 0;
    for (int k = 0; k < 3 && bar != std::string::npos; ++k)
      bar = row.find('|', bar == 0 ? 0 : bar + 1);
    lines.push_back(bar == std::string::npos ? row : row.substr(bar + 1));
  }
  return absl::StrJoin(lines, "\n");
}

int Run(const std::string& command, std::string* out, std::string* err) {
  char err_path[] = "/tmp/tsruntest.XXXXXX";
  const int fd = ::mkstemp(err_path);
  if (fd < 0) throw std::runtime_error("mkstemp");
  ::close(fd);
  const std::string full = absl::StrCat(command, " 2>", err_path);
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) throw std::runtime_error("popen");
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
  const int status = ::pclose(p);
  if (out) *out = text;
  std::ifstream in(err_path);
  std::stringstream ss;
  ss << in.rdbuf();
  if (err) *err = ss.str();
  ::unlink(err_path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += "'";
  return out;
}

}  // namespace tracestore::testing
