// SqliteFileWriter: writes a SQLite 3 database file directly, b-tree by
// b-tree, from records handed over in key order, at the speed of writing
// the bytes (the sqlite export's big tables; SQLite's own INSERT costs
// about half a microsecond a row and CREATE INDEX sorts again).
//
// The format is SQLite's documented one (https://www.sqlite.org/fileformat.html):
// a 100-byte header and the schema table on page 1, then each b-tree's
// pages. Leaves are filled in order and written as they fill; the interior
// levels are built from the leaves' first keys at Finish (an 8 KiB page
// holds hundreds of children, so what is kept is a few bytes per leaf).
// Table rows longer than a page spill into overflow pages as SQLite's
// would; index records must fit a page (the writer's are a few integers).
// The result is a regular database: SQLite opens it, checks it
// (PRAGMA integrity_check) and adds to it.
//
//   auto w = SqliteFileWriter::Create(path);
//   SqliteRecord r;
//   auto t = (*w)->NewTable();            // rows in rowid order
//   r.Clear(); r.Null(); r.Int(7); r.Text("x"); t->Add(rowid, r);
//   uint32_t root; t->Finish(&root);
//   (*w)->AddSchema({"table", "t", "t", root, "CREATE TABLE t(id INTEGER PRIMARY KEY, a, b)"});
//   auto i = (*w)->NewIndex();            // records (key..., rowid) in index order
//   ...
//   (*w)->Close();
//
// Thread-safety: b-trees may be built concurrently, one thread each (pages
// are allocated atomically and written with pwrite); AddSchema and Close
// from one thread, after every b-tree is finished.

#ifndef TRACESTORE_TOOLS_CLI_SQLITE_FILE_WRITER_H_
#define TRACESTORE_TOOLS_CLI_SQLITE_FILE_WRITER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tracestore::cli {

// One record in SQLite's record format: the serial types, then the values.
class SqliteRecord {
 public:
  void Clear() { header_.n = body_.n = 0; }
  void Null() { *header_.Take(1) = 0; }
  inline void Int(int64_t v);
  void Text(std::string_view s);
  // Header and body, as stored.
  size_t size() const;
  void Encode(std::string* out) const;
  // The same into `out`, which has room for size() bytes.
  void EncodeTo(char* out) const;

 private:
  // Bytes written at the end of a buffer that only grows.
  struct Bytes {
    char* Take(size_t more) {
      if (n + more > bytes.size()) bytes.resize(2 * (n + more));
      char* p = bytes.data() + n;
      n += more;
      return p;
    }
    std::string bytes;
    size_t n = 0;
  };
  Bytes header_;  // the serial types, each a varint
  Bytes body_;
};

void SqliteRecord::Int(int64_t v) {
  // Serial types 8 and 9 (schema format 4) hold 0 and 1 without a byte;
  // else types 1-6: the smallest of 1, 2, 3, 4, 6, 8 big-endian bytes.
  const uint64_t u =
      v < 0 ? ~static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  if (v >= 0 && u <= 1) {
    *header_.Take(1) = static_cast<char>(8 + v);
    return;
  }
  int type, bytes;
  if (u < 0x80) {
    type = 1, bytes = 1;
  } else if (u < 0x8000) {
    type = 2, bytes = 2;
  } else if (u < 0x800000) {
    type = 3, bytes = 3;
  } else if (u < 0x80000000) {
    type = 4, bytes = 4;
  } else if (u < 0x800000000000) {
    type = 5, bytes = 6;
  } else {
    type = 6, bytes = 8;
  }
  *header_.Take(1) = static_cast<char>(type);
  char* p = body_.Take(bytes);
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
}

class SqliteFileWriter {
 public:
  static constexpr uint32_t kPageSize = 8192;

 private:
  // A b-tree page being filled: cells from the end down, their pointers
  // after the header (at `base`: 100 on page 1).
  struct Page {
    explicit Page(uint32_t header, uint32_t base = 0);
    bool Fits(size_t cell) const;
    void Put(std::string_view cell);
    // Room for a cell of `size` bytes, to write in place.
    char* Reserve(size_t size);
    // Takes the last cell put (of `size` bytes) back out.
    void PopLast(size_t size);
    // Writes the header; `right`: an interior page's right-most child.
    std::string_view Seal(uint8_t type, uint32_t right = 0);
    void Reset();
    std::string bytes;
    uint32_t header, base, cells = 0, content = kPageSize;
  };

 public:
  static absl::StatusOr<std::unique_ptr<SqliteFileWriter>> Create(
      const std::string& path);
  ~SqliteFileWriter();
  SqliteFileWriter(const SqliteFileWriter&) = delete;
  SqliteFileWriter& operator=(const SqliteFileWriter&) = delete;

  // Builds one b-tree. Add in key order (rowids strictly increasing in a
  // table; records in SQLite's index order, distinct, in an index); the
  // writer does not check the order of index records.
  class Btree {
   public:
    // A table row.
    absl::Status Add(int64_t rowid, const SqliteRecord& record);
    // An index record.
    absl::Status Add(const SqliteRecord& record);
    // Writes what is pending and the interior levels; *root is the page
    // to name in the schema.
    absl::Status Finish(uint32_t* root);

   private:
    friend class SqliteFileWriter;
    Btree(SqliteFileWriter* file, bool index);
    absl::Status WriteLeaf(Page& leaf);
    absl::Status BuildLevels(uint32_t* root);

    SqliteFileWriter* file_;
    const bool index_;
    Page leaf_;  // the leaf being filled
    bool have_rowid_ = false;
    int64_t last_rowid_ = 0;
    // Index: a full leaf and the record after it, which divides it from
    // the next leaf, kept until a record follows (else that leaf's last
    // record becomes the divider).
    Page closed_;
    std::string pending_divider_;
    bool have_divider_ = false;
    std::string scratch_;
    // One entry per written leaf: its page and, for a table, its largest
    // rowid; for an index, the divider after it (none after the last).
    std::vector<uint32_t> children_;
    std::vector<int64_t> keys_;
    std::vector<std::string> dividers_;
  };
  std::unique_ptr<Btree> NewTable();
  std::unique_ptr<Btree> NewIndex();

  // A row of sqlite_schema.
  struct SchemaRow {
    std::string type;  // "table" or "index"
    std::string name, table;
    uint32_t root;
    std::string sql;
  };
  void AddSchema(SchemaRow row) { schema_.push_back(std::move(row)); }

  // Writes the schema table and the header; the file is complete.
  absl::Status Close();

 private:
  explicit SqliteFileWriter(int fd) : fd_(fd) {}
  // `n` consecutive pages; the first one's number.
  uint32_t Allocate(uint32_t n = 1) { return next_page_.fetch_add(n); }
  absl::Status WritePage(uint32_t page, std::string_view bytes);

  int fd_;
  std::atomic<uint32_t> next_page_{2};  // page 1 is the schema's, written last
  std::vector<SchemaRow> schema_;
};

}  // namespace tracestore::cli

#endif  // TRACESTORE_TOOLS_CLI_SQLITE_FILE_WRITER_H_
