// SqliteFileWriter: SQLite's file format, written sequentially.

#include "sqlite_file_writer.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "file_io.h"

namespace tracestore::cli {

namespace {

constexpr uint32_t kUsable = SqliteFileWriter::kPageSize;  // no reserved bytes
// Page types.
constexpr uint8_t kIndexInterior = 0x02, kTableInterior = 0x05,
                  kIndexLeaf = 0x0a, kTableLeaf = 0x0d;
// The most payload a cell keeps on its page before overflowing.
constexpr uint32_t kTableLeafMaxLocal = kUsable - 35;
constexpr uint32_t kIndexMaxLocal = (kUsable - 12) * 64 / 255 - 23;
constexpr uint32_t kMinLocal = (kUsable - 12) * 32 / 255 - 23;

int VarintLength(uint64_t v) {
  if (v & (uint64_t{0xff000000} << 32)) return 9;
  int n = 1;
  while (v >>= 7) ++n;
  return n;
}

// SQLite's varint at p (room for 9 bytes): big-endian groups of 7 bits,
// the ninth byte whole. Returns its length.
size_t PutVarint(char* p, uint64_t v) {
  if (v < 0x80) {
    *p = static_cast<char>(v);
    return 1;
  }
  if (v & (uint64_t{0xff000000} << 32)) {
    p[8] = static_cast<char>(v);
    v >>= 8;
    for (int i = 7; i >= 0; --i, v >>= 7)
      p[i] = static_cast<char>((v & 0x7f) | 0x80);
    return 9;
  }
  const int n = VarintLength(v);
  for (int i = n - 1; i >= 0; --i, v >>= 7)
    p[i] = static_cast<char>((v & 0x7f) | (i == n - 1 ? 0 : 0x80));
  return static_cast<size_t>(n);
}

void PutVarint(std::string* out, uint64_t v) {
  char b[9];
  out->append(b, PutVarint(b, v));
}

// A varint's value and length, read at p.
uint64_t GetVarint(const char* p, size_t* length) {
  uint64_t v = 0;
  for (size_t i = 0; i < 9; ++i) {
    const uint8_t b = static_cast<uint8_t>(p[i]);
    if (i == 8) {
      *length = 9;
      return (v << 8) | b;
    }
    v = (v << 7) | (b & 0x7f);
    if (!(b & 0x80)) {
      *length = i + 1;
      return v;
    }
  }
  return v;  // not reached
}

void PutBig(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v);
}

void AppendBig(std::string* out, uint64_t v, int bytes) {
  char b[8];
  PutBig(b, v, bytes);
  out->append(b, bytes);
}

}  // namespace

// --- SqliteRecord -----------------------------------------------------------

void SqliteRecord::Text(std::string_view s) {
  char varint[9];
  const size_t n = PutVarint(varint, 13 + 2 * uint64_t{s.size()});
  std::memcpy(header_.Take(n), varint, n);
  std::memcpy(body_.Take(s.size()), s.data(), s.size());
}

namespace {
// The header's length counts its own varint.
size_t HeaderLength(size_t types) {
  if (types < 127) return types + 1;
  size_t total = types + 1;
  while (static_cast<size_t>(VarintLength(total)) + types != total)
    total = types + VarintLength(total);
  return total;
}
}  // namespace

size_t SqliteRecord::size() const {
  return HeaderLength(header_.n) + body_.n;
}

void SqliteRecord::EncodeTo(char* out) const {
  out += PutVarint(out, HeaderLength(header_.n));
  std::memcpy(out, header_.bytes.data(), header_.n);
  std::memcpy(out + header_.n, body_.bytes.data(), body_.n);
}

void SqliteRecord::Encode(std::string* out) const {
  const size_t at = out->size();
  out->resize(at + size());
  EncodeTo(out->data() + at);
}

// --- Page ---------------------------------------------------------------

SqliteFileWriter::Page::Page(uint32_t header_size, uint32_t base_offset)
    : bytes(kPageSize, '\0'), header(header_size), base(base_offset) {}

bool SqliteFileWriter::Page::Fits(size_t cell) const {
  return base + header + 2 * (size_t{cells} + 1) + (kPageSize - content) +
             cell <=
         kUsable;
}

char* SqliteFileWriter::Page::Reserve(size_t size) {
  content -= static_cast<uint32_t>(size);
  PutBig(bytes.data() + base + header + 2 * cells, content, 2);
  ++cells;
  return bytes.data() + content;
}

void SqliteFileWriter::Page::Put(std::string_view cell) {
  std::memcpy(Reserve(cell.size()), cell.data(), cell.size());
}

void SqliteFileWriter::Page::PopLast(size_t size) {
  --cells;
  std::memset(bytes.data() + content, 0, size);
  std::memset(bytes.data() + base + header + 2 * cells, 0, 2);
  content += static_cast<uint32_t>(size);
}

std::string_view SqliteFileWriter::Page::Seal(uint8_t type, uint32_t right) {
  char* h = bytes.data() + base;
  h[0] = static_cast<char>(type);
  PutBig(h + 1, 0, 2);  // no freeblock
  PutBig(h + 3, cells, 2);
  PutBig(h + 5, content == 65536 ? 0 : content, 2);
  h[7] = 0;  // no fragmented bytes
  if (header == 12) PutBig(h + 8, right, 4);
  return bytes;
}

void SqliteFileWriter::Page::Reset() {
  std::memset(bytes.data(), 0, bytes.size());
  cells = 0;
  content = kPageSize;
}

// --- SqliteFileWriter ----------------------------------------------------------

absl::StatusOr<std::unique_ptr<SqliteFileWriter>> SqliteFileWriter::Create(
    const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
                        0644);
  if (fd < 0)
    return absl::InternalError(
        absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  return std::unique_ptr<SqliteFileWriter>(new SqliteFileWriter(fd));
}

SqliteFileWriter::~SqliteFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

absl::Status SqliteFileWriter::WritePage(uint32_t page,
                                         std::string_view bytes) {
  return WriteAt(fd_, uint64_t{page - 1} * kPageSize, bytes, "the database");
}

std::unique_ptr<SqliteFileWriter::Btree> SqliteFileWriter::NewTable() {
  return std::unique_ptr<Btree>(new Btree(this, false));
}

std::unique_ptr<SqliteFileWriter::Btree> SqliteFileWriter::NewIndex() {
  return std::unique_ptr<Btree>(new Btree(this, true));
}

absl::Status SqliteFileWriter::Close() {
  // Page 1: the header, then the schema table as one leaf.
  Page page(8, 100);
  std::string cell;
  SqliteRecord r;
  int64_t rowid = 0;
  for (const SchemaRow& row : schema_) {
    r.Clear();
    r.Text(row.type);
    r.Text(row.name);
    r.Text(row.table);
    r.Int(row.root);
    r.Text(row.sql);
    cell.clear();
    PutVarint(&cell, r.size());
    PutVarint(&cell, static_cast<uint64_t>(++rowid));
    r.Encode(&cell);
    if (!page.Fits(cell.size()))
      return absl::InternalError("the schema does not fit page 1");
    page.Put(cell);
  }
  page.Seal(kTableLeaf);
  char* h = page.bytes.data();
  std::memcpy(h, "SQLite format 3", 16);
  PutBig(h + 16, kPageSize, 2);
  h[18] = h[19] = 1;  // legacy (rollback journal) file format
  h[20] = 0;          // no reserved bytes per page
  h[21] = 64, h[22] = 32, h[23] = 32;  // payload fractions, fixed
  PutBig(h + 24, 1, 4);                // file change counter
  PutBig(h + 28, next_page_.load() - 1, 4);   // pages in the file
  PutBig(h + 40, 1, 4);                // schema cookie
  PutBig(h + 44, 4, 4);                // schema format
  PutBig(h + 56, 1, 4);                // UTF-8
  PutBig(h + 92, 1, 4);                // the page count is valid for change 1
  PutBig(h + 96, SQLITE_VERSION_NUMBER, 4);
  if (absl::Status s = WritePage(1, page.bytes); !s.ok()) return s;
  const int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0)
    return absl::InternalError(
        absl::StrCat("closing the database: ", std::strerror(errno)));
  return absl::OkStatus();
}

// --- Btree ----------------------------------------------------------------

SqliteFileWriter::Btree::Btree(SqliteFileWriter* file, bool index)
    : file_(file), index_(index), leaf_(8), closed_(8) {}

absl::Status SqliteFileWriter::Btree::Add(int64_t rowid,
                                          const SqliteRecord& record) {
  if (have_rowid_ && rowid <= last_rowid_)
    return absl::InternalError(
        absl::StrCat("row ", rowid, " is out of order or repeated"));
  // The cell: payload length, rowid, what stays on the page, and the first
  // overflow page when the rest does not fit.
  const size_t payload = record.size();
  char head[18];
  size_t h = PutVarint(head, payload);
  h += PutVarint(head + h, static_cast<uint64_t>(rowid));
  if (payload <= kTableLeafMaxLocal) {
    // The usual row: written in place.
    if (!leaf_.Fits(h + payload))
      if (absl::Status s = WriteLeaf(leaf_); !s.ok()) return s;
    char* cell = leaf_.Reserve(h + payload);
    std::memcpy(cell, head, h);
    record.EncodeTo(cell + h);
  } else {
    std::string& cell = scratch_;
    cell.assign(head, h);
    record.Encode(&cell);
    const size_t k = kMinLocal + (payload - kMinLocal) % (kUsable - 4);
    const size_t local = k <= kTableLeafMaxLocal ? k : kMinLocal;
    std::string rest = cell.substr(h + local);
    cell.resize(h + local);
    const size_t pages = (rest.size() + kUsable - 5) / (kUsable - 4);
    const uint32_t first = file_->Allocate(static_cast<uint32_t>(pages));
    AppendBig(&cell, first, 4);
    std::string page(kPageSize, '\0');
    for (size_t i = 0; i < pages; ++i) {
      std::memset(page.data(), 0, page.size());
      PutBig(page.data(), i + 1 < pages ? first + i + 1 : 0, 4);
      rest.copy(page.data() + 4, kUsable - 4, i * (kUsable - 4));
      if (absl::Status s = file_->WritePage(static_cast<uint32_t>(first + i),
                                            page);
          !s.ok())
        return s;
    }
    if (!leaf_.Fits(cell.size()))
      if (absl::Status s = WriteLeaf(leaf_); !s.ok()) return s;
    leaf_.Put(cell);
  }
  have_rowid_ = true;
  last_rowid_ = rowid;
  return absl::OkStatus();
}

absl::Status SqliteFileWriter::Btree::Add(const SqliteRecord& record) {
  const size_t payload = record.size();
  if (payload > kIndexMaxLocal)
    return absl::InternalError("an index record longer than a page");
  char head[9];
  const size_t h = PutVarint(head, payload);
  if (have_divider_) {
    // A record follows the divider: the full leaf is final, and this
    // record starts the next one.
    if (absl::Status s = WriteLeaf(closed_); !s.ok()) return s;
    dividers_.push_back(std::move(pending_divider_));
    pending_divider_.clear();
    have_divider_ = false;
  } else if (!leaf_.Fits(h + payload)) {
    // The leaf is full; this record divides it from the next (an index
    // keeps each record once: this one in the level above).
    std::swap(leaf_, closed_);
    leaf_.Reset();
    pending_divider_.clear();
    record.Encode(&pending_divider_);
    have_divider_ = true;
    return absl::OkStatus();
  }
  char* cell = leaf_.Reserve(h + payload);
  std::memcpy(cell, head, h);
  record.EncodeTo(cell + h);
  return absl::OkStatus();
}

absl::Status SqliteFileWriter::Btree::WriteLeaf(Page& leaf) {
  const uint32_t page = file_->Allocate();
  if (absl::Status s = file_->WritePage(
          page, leaf.Seal(index_ ? kIndexLeaf : kTableLeaf));
      !s.ok())
    return s;
  children_.push_back(page);
  if (!index_) keys_.push_back(last_rowid_);
  leaf.Reset();
  return absl::OkStatus();
}

absl::Status SqliteFileWriter::Btree::Finish(uint32_t* root) {
  if (have_divider_) {
    // Nothing follows the divider: it starts the last leaf, and the full
    // leaf's last record (its last cell, lowest on the page) divides the
    // two.
    if (closed_.cells < 2)
      return absl::InternalError("index records too large for a page");
    const char* last = closed_.bytes.data() + closed_.content;
    size_t h;
    const uint64_t payload = GetVarint(last, &h);
    std::string divider(last + h, payload);
    closed_.PopLast(h + payload);
    if (absl::Status s = WriteLeaf(closed_); !s.ok()) return s;
    dividers_.push_back(std::move(divider));
    std::string cell;
    PutVarint(&cell, pending_divider_.size());
    cell += pending_divider_;
    leaf_.Put(cell);
    have_divider_ = false;
  }
  if (leaf_.cells > 0 || children_.empty())
    if (absl::Status s = WriteLeaf(leaf_); !s.ok()) return s;
  return BuildLevels(root);
}

// Interior levels, bottom up, until one page is left: the root. A page with
// children a..b has a cell for each of a..b-1 (the child and, in a table,
// its largest rowid; in an index, the record after it) and b as its
// right-most child; in an index the record after b moves up a level.
absl::Status SqliteFileWriter::Btree::BuildLevels(uint32_t* root) {
  std::vector<uint32_t> children = std::move(children_);
  std::vector<int64_t> keys = std::move(keys_);
  std::vector<std::string> dividers = std::move(dividers_);
  std::string cell;
  auto cell_of = [&](size_t i) -> std::string& {
    cell.clear();
    AppendBig(&cell, children[i], 4);
    if (index_) {
      PutVarint(&cell, dividers[i].size());
      cell += dividers[i];
    } else {
      PutVarint(&cell, static_cast<uint64_t>(keys[i]));
    }
    return cell;
  };
  while (children.size() > 1) {
    // Pack greedily, then give the last page a cell if it has none.
    std::vector<std::pair<size_t, size_t>> groups;
    Page page(12);
    size_t a = 0;
    for (size_t k = 1; k < children.size(); ++k) {
      if (page.Fits(cell_of(k - 1).size())) {
        page.Put(cell);
        continue;
      }
      groups.emplace_back(a, k - 1);
      a = k;
      page.Reset();
    }
    groups.emplace_back(a, children.size() - 1);
    if (groups.size() > 1 && groups.back().first == groups.back().second) {
      auto& before = groups[groups.size() - 2];
      if (before.second - before.first < 2)
        return absl::InternalError("b-tree cells too large to balance");
      --before.second;
      --groups.back().first;
    }
    std::vector<uint32_t> up_children;
    std::vector<int64_t> up_keys;
    std::vector<std::string> up_dividers;
    for (const auto& [first, last] : groups) {
      page.Reset();
      for (size_t i = first; i < last; ++i) page.Put(cell_of(i));
      const uint32_t number = file_->Allocate();
      if (absl::Status s = file_->WritePage(
              number,
              page.Seal(index_ ? kIndexInterior : kTableInterior,
                        children[last]));
          !s.ok())
        return s;
      up_children.push_back(number);
      if (index_) {
        if (last + 1 < children.size())
          up_dividers.push_back(std::move(dividers[last]));
      } else {
        up_keys.push_back(keys[last]);
      }
    }
    children = std::move(up_children);
    keys = std::move(up_keys);
    dividers = std::move(up_dividers);
  }
  *root = children[0];
  return absl::OkStatus();
}

}  // namespace tracestore::cli
