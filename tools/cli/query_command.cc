// `tracestore query TRACE [--csv|--json] "SQL"`: runs SQL over a trace, with
// the tables named plainly: calls, events, functions, threads, marks,
// profile, processes. In a trace of many processes
// (ProcessTree::MultiProcess) the first five show a last column, pid.
//
//   tracestore query run.trace "SELECT name, sum(dur) FROM calls GROUP BY 1"
//   tracestore query run.trace --json "SELECT * FROM threads"
//   echo "SELECT count(*) FROM events" | tracestore query run.trace -
//
// The tables are TEMP views over the table-valued functions of sqlite_ext
// with the path bound, in an in-memory database; several statements may be
// given, separated by ';'. Output: an aligned table (NULL shown as NULL),
// CSV (RFC 4180, NULL as an empty field), or one JSON array of objects per
// statement that returns columns. Exit 0; 2 on a usage error, a trace that
// cannot be opened, or an SQL error (message on stderr); 3 when the trace is
// damaged: the rows are what could be read, the problems are on stderr.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "commands.h"
#include "problem_report.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tracestore/process_tree.h"
#include "tracestore/trace_reader.h"

namespace tracestore::cli {

namespace {

constexpr char kUsage[] =
    "usage: tracestore query TRACE [--csv|--json] \"SQL\"   (SQL '-': stdin)\n"
    "tables: calls, events, functions, threads, marks, lines, profile,\n"
    "processes (a trace of many processes: calls, events, functions,\n"
    "threads and marks end with a pid column)\n";

// A value as text, the way the output formats spell it.
std::string NumberText(sqlite3_stmt* stmt, int i) {
  if (sqlite3_column_type(stmt, i) == SQLITE_INTEGER)
    return absl::StrCat(sqlite3_column_int64(stmt, i));
  const double d = sqlite3_column_double(stmt, i);
  std::string s = absl::StrFormat("%.15g", d);
  if (std::strtod(s.c_str(), nullptr) != d) s = absl::StrFormat("%.17g", d);
  return s;
}

std::string BlobHex(sqlite3_stmt* stmt, int i) {
  const auto* p =
      static_cast<const unsigned char*>(sqlite3_column_blob(stmt, i));
  const int n = sqlite3_column_bytes(stmt, i);
  std::string out;
  for (int k = 0; k < n; ++k) absl::StrAppendFormat(&out, "%02x", p[k]);
  return out;
}

std::string Text(sqlite3_stmt* stmt, int i) {
  const auto* p = sqlite3_column_text(stmt, i);
  return p == nullptr ? std::string()
                      : std::string(reinterpret_cast<const char*>(p),
                                    sqlite3_column_bytes(stmt, i));
}

// Output for one statement's rows.
class Printer {
 public:
  virtual ~Printer() = default;
  virtual void Begin(sqlite3_stmt* stmt) = 0;
  virtual void Row(sqlite3_stmt* stmt) = 0;
  virtual void End() = 0;
};

// ---------------------------------------------------------------------------

class CsvPrinter : public Printer {
 public:
  void Begin(sqlite3_stmt* stmt) override {
    const int n = sqlite3_column_count(stmt);
    for (int i = 0; i < n; ++i) {
      if (i) std::fputc(',', stdout);
      Field(sqlite3_column_name(stmt, i));
    }
    std::fputs("\r\n", stdout);
  }
  void Row(sqlite3_stmt* stmt) override {
    const int n = sqlite3_column_count(stmt);
    for (int i = 0; i < n; ++i) {
      if (i) std::fputc(',', stdout);
      switch (sqlite3_column_type(stmt, i)) {
        case SQLITE_NULL:
          break;
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
          std::fputs(NumberText(stmt, i).c_str(), stdout);
          break;
        case SQLITE_BLOB:
          std::fputs(BlobHex(stmt, i).c_str(), stdout);
          break;
        default:
          Field(Text(stmt, i));
          break;
      }
    }
    std::fputs("\r\n", stdout);
  }
  void End() override {}

 private:
  static void Field(const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
      std::fputs(s.c_str(), stdout);
      return;
    }
    std::string quoted = "\"";
    for (char c : s) {
      if (c == '"') quoted += '"';
      quoted += c;
    }
    quoted += '"';
    std::fwrite(quoted.data(), 1, quoted.size(), stdout);
  }
};

// ---------------------------------------------------------------------------

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
}

class JsonPrinter : public Printer {
 public:
  void Begin(sqlite3_stmt* stmt) override {
    names_.clear();
    for (int i = 0; i < sqlite3_column_count(stmt); ++i)
      names_.push_back(JsonString(sqlite3_column_name(stmt, i)));
    rows_ = 0;
    std::fputs("[", stdout);
  }
  void Row(sqlite3_stmt* stmt) override {
    std::string line = rows_++ ? ",\n{" : "\n{";
    for (size_t i = 0; i < names_.size(); ++i) {
      const int c = static_cast<int>(i);
      if (i) line += ", ";
      line += names_[i];
      line += ": ";
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          line += "null";
          break;
        case SQLITE_INTEGER:
          line += NumberText(stmt, c);
          break;
        case SQLITE_FLOAT:
          line += std::isfinite(sqlite3_column_double(stmt, c))
                      ? NumberText(stmt, c)
                      : "null";
          break;
        case SQLITE_BLOB:
          line += JsonString(BlobHex(stmt, c));
          break;
        default:
          line += JsonString(Text(stmt, c));
          break;
      }
    }
    line += '}';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }
  void End() override { std::fputs(rows_ ? "\n]\n" : "]\n", stdout); }

 private:
  std::vector<std::string> names_;
  uint64_t rows_ = 0;
};

// ---------------------------------------------------------------------------

// Columns as wide as their widest value among the first kSample rows; later
// rows stream out with those widths (a wider value just pushes its line).
class TablePrinter : public Printer {
 public:
  static constexpr size_t kSample = 1000;

  void Begin(sqlite3_stmt* stmt) override {
    names_.clear();
    for (int i = 0; i < sqlite3_column_count(stmt); ++i)
      names_.push_back(sqlite3_column_name(stmt, i));
    sample_.clear();
    numeric_.assign(names_.size(), true);
    widths_.clear();
    rows_ = 0;
  }
  void Row(sqlite3_stmt* stmt) override {
    ++rows_;
    std::vector<Cell> row;
    for (size_t i = 0; i < names_.size(); ++i) {
      const int c = static_cast<int>(i);
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL:
          row.push_back({"NULL", true});
          break;
        case SQLITE_INTEGER:
        case SQLITE_FLOAT:
          row.push_back({NumberText(stmt, c), true});
          break;
        case SQLITE_BLOB:
          row.push_back({"x'" + BlobHex(stmt, c) + "'", false});
          break;
        default:
          row.push_back({Text(stmt, c), false});
          break;
      }
    }
    if (widths_.empty()) {
      for (size_t i = 0; i < row.size(); ++i)
        if (!row[i].numeric) numeric_[i] = false;
      sample_.push_back(std::move(row));
      if (sample_.size() == kSample) Flush();
      return;
    }
    Print(row);
  }
  void End() override {
    if (widths_.empty()) Flush();
    std::printf("(%llu row%s)\n", static_cast<unsigned long long>(rows_),
                rows_ == 1 ? "" : "s");
  }

 private:
  struct Cell {
    std::string text;
    bool numeric;
  };
  // Display width: UTF-8 code points.
  static size_t Width(const std::string& s) {
    size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
  }
  void Flush() {
    widths_.assign(names_.size(), 0);
    for (size_t i = 0; i < names_.size(); ++i) widths_[i] = Width(names_[i]);
    for (const auto& row : sample_)
      for (size_t i = 0; i < row.size(); ++i)
        widths_[i] = std::max(widths_[i], Width(row[i].text));
    std::vector<Cell> header, rule;
    for (size_t i = 0; i < names_.size(); ++i) {
      header.push_back({names_[i], numeric_[i]});
      rule.push_back({std::string(widths_[i], '-'), false});
    }
    Print(header);
    Print(rule);
    for (const auto& row : sample_) Print(row);
    sample_.clear();
  }
  void Print(const std::vector<Cell>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      const size_t pad =
          widths_[i] > Width(row[i].text) ? widths_[i] - Width(row[i].text) : 0;
      if (i) line += "  ";
      if (row[i].numeric) line.append(pad, ' ');
      line += row[i].text;
      if (!row[i].numeric && i + 1 < row.size()) line.append(pad, ' ');
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
  }

  std::vector<std::string> names_;
  std::vector<std::vector<Cell>> sample_;
  std::vector<bool> numeric_;
  std::vector<size_t> widths_;
  uint64_t rows_ = 0;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

int Fail(const std::string& message) {
  std::fprintf(stderr, "tracestore query: %s\n", message.c_str());
  return kExitUsage;
}

// The problems of the trace the SQL tables read (tracestore_problems).
bool ReadSqlProblems(sqlite3* db, const std::string& path, Problems* out) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT kind, message FROM tracestore_problems(?1)",
                         -1, &stmt, nullptr) != SQLITE_OK)
    return false;
  sqlite3_bind_text(stmt, 1, path.data(), static_cast<int>(path.size()),
                    SQLITE_TRANSIENT);
  int step;
  while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
    ProblemKind kind = ProblemKind::kUnreadable;
    ParseProblemKind(Text(stmt, 0), &kind);
    out->Add(kind, Text(stmt, 1));
  }
  sqlite3_finalize(stmt);
  return step == SQLITE_DONE;
}

}  // namespace

int RunQuery(const std::vector<std::string>& args) {
  enum class Format { kTable, kCsv, kJson } format = Format::kTable;
  std::vector<std::string> positional;
  for (const std::string& a : args) {
    if (a == "--csv") {
      format = Format::kCsv;
    } else if (a == "--json") {
      format = Format::kJson;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return kExitOk;
    } else if (a.size() > 1 && a[0] == '-' && a != "-") {
      std::fprintf(stderr, "tracestore query: unknown option '%s'\n%s",
                   a.c_str(), kUsage);
      return kExitUsage;
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  const std::string& path = positional[0];
  std::string sql = positional[1];
  if (sql == "-")
    sql.assign(std::istreambuf_iterator<char>(std::cin),
               std::istreambuf_iterator<char>());

  // Open the trace once here for a plain message before any SQL runs; a
  // trace of many processes shows the process of each row (pid).
  auto tree = ProcessTree::Open(path);
  if (!tree.ok()) return Fail(std::string(tree.status().message()));
  const bool multi_process = (*tree)->MultiProcess();
  tree->reset();

  sqlite3* raw = nullptr;
  const int rc = sqlite3_open(":memory:", &raw);
  std::unique_ptr<sqlite3, DbCloser> db(raw);
  if (rc != SQLITE_OK) return Fail("cannot open an in-memory SQLite database");
  if (sql::RegisterTables(db.get()) != SQLITE_OK)
    return Fail(sqlite3_errmsg(db.get()));
  for (size_t i = 0; i <= std::size(sql::kPlainNames); ++i) {
    const bool processes = i == std::size(sql::kPlainNames);
    char* create = sqlite3_mprintf(
        "CREATE TEMP VIEW %s AS SELECT *%s FROM %s(%Q)",
        processes ? sql::kProcessesPlainName : sql::kPlainNames[i],
        multi_process && !processes ? ", pid" : "",
        processes ? sql::kProcessesTableFunction : sql::kTableFunctions[i],
        path.c_str());
    char* error = nullptr;
    sqlite3_exec(db.get(), create, nullptr, nullptr, &error);
    sqlite3_free(create);
    if (error != nullptr) {
      std::string message = error;
      sqlite3_free(error);
      return Fail(message);
    }
  }

  std::unique_ptr<Printer> printer;
  switch (format) {
    case Format::kTable:
      printer = std::make_unique<TablePrinter>();
      break;
    case Format::kCsv:
      printer = std::make_unique<CsvPrinter>();
      break;
    case Format::kJson:
      printer = std::make_unique<JsonPrinter>();
      break;
  }
  const char* tail = sql.c_str();
  int statements = 0;
  while (*tail != '\0') {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db.get(), tail, -1, &stmt, &tail) != SQLITE_OK)
      return Fail(sqlite3_errmsg(db.get()));
    if (stmt == nullptr) continue;  // whitespace or a comment
    ++statements;
    // The header waits for the first row, and the end for success: a
    // statement that fails prints only its error (rows it already
    // streamed aside).
    const bool has_columns = sqlite3_column_count(stmt) > 0;
    bool begun = false;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!begun) printer->Begin(stmt);
      begun = true;
      printer->Row(stmt);
    }
    const bool failed = step != SQLITE_DONE;
    if (has_columns && !failed) {
      if (!begun) printer->Begin(stmt);
      printer->End();
    }
    std::fflush(stdout);
    const std::string message = sqlite3_errmsg(db.get());
    sqlite3_finalize(stmt);
    if (failed) return Fail(message);
  }
  if (statements == 0) return Fail("no SQL statement given");
  // The problems of the reader the tables read through, as the statements
  // left it (tracestore_problems).
  Problems problems;
  if (!ReadSqlProblems(db.get(), path, &problems))
    return Fail(sqlite3_errmsg(db.get()));
  return ReportProblems("query", problems);
}

}  // namespace tracestore::cli
