// The SQLite side of every tracestore table: xConnect ... xRowid. It turns
// SQLite's calls into TableCursor calls, absl::Status into an rc and
// zErrMsg, and keeps exceptions (std::bad_alloc) from crossing into C.

#include <algorithm>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "session.h"
#include "tables.h"

namespace tracestore::sql::internal {

namespace {

struct ModuleAux {
  const Table* table;
  std::shared_ptr<SessionCache> cache;  // shared by the connection's tables
};

struct Vtab {
  sqlite3_vtab base;  // first: SQLite sees a sqlite3_vtab*
  ModuleAux* aux;
};

struct Cursor {
  sqlite3_vtab_cursor base;  // first
  std::unique_ptr<TableCursor> impl;
  std::shared_ptr<Session> session;
  bool active = false;  // counted in session->active
  bool started = false;

  // A per-process table reads the processes of the tree one after the
  // other (root first, then the children in the order found: ids ascend,
  // process_tree.h). A scan grouped by function over several processes
  // goes function by function, each over every process, so that the groups
  // stay whole.
  const Table* table = nullptr;
  Constraints constraints;
  std::vector<ProcessTree::Process*> targets;
  size_t target = 0;
  bool by_function = false;
  uint64_t function = 0, function_end = 0;  // [function, function_end]
  const ProcessTree::Process* current = nullptr;

  void Activate() {
    if (!active && session) {
      active = true;
      ++session->active;
    }
  }
  void Deactivate() {
    if (active && session) {
      active = false;
      --session->active;
    }
  }
};

bool AtEnd(const Cursor* cursor) {
  return cursor->current == nullptr || cursor->impl->Eof();
}

Vtab* VtabOf(sqlite3_vtab_cursor* cur) {
  return reinterpret_cast<Vtab*>(cur->pVtab);
}
Cursor* CursorOf(sqlite3_vtab_cursor* cur) {
  return reinterpret_cast<Cursor*>(cur);
}

int SetError(sqlite3_vtab* vtab, const std::string& message) {
  sqlite3_free(vtab->zErrMsg);
  vtab->zErrMsg = sqlite3_mprintf("%s", message.c_str());
  return SQLITE_ERROR;
}

int Connect(sqlite3* db, void* aux_ptr, int /*argc*/,
            const char* const* /*argv*/, sqlite3_vtab** out, char** /*err*/) {
  auto* aux = static_cast<ModuleAux*>(aux_ptr);
  int rc = sqlite3_declare_vtab(db, aux->table->spec.schema);
  if (rc != SQLITE_OK) return rc;
  // The tables read files named by their argument: keep them out of
  // schema objects (views, triggers) that an untrusted database could hold.
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  auto* vtab = new (std::nothrow) Vtab{};
  if (vtab == nullptr) return SQLITE_NOMEM;
  vtab->aux = aux;
  *out = &vtab->base;
  return SQLITE_OK;
}

int Disconnect(sqlite3_vtab* vtab) {
  delete reinterpret_cast<Vtab*>(vtab);
  return SQLITE_OK;
}

// xBestIndex: the plan contract (idxNum bits, argv order) is the table in
// plan.h, next to BestIndex.
int BestIndexGlue(sqlite3_vtab* vtab, sqlite3_index_info* info) {
  return BestIndex(reinterpret_cast<Vtab*>(vtab)->aux->table->spec, info);
}

int Open(sqlite3_vtab* vtab, sqlite3_vtab_cursor** out) {
  auto* cursor = new (std::nothrow) Cursor{};
  if (cursor == nullptr) return SQLITE_NOMEM;
  try {
    cursor->impl = reinterpret_cast<Vtab*>(vtab)->aux->table->make_cursor();
  } catch (const std::bad_alloc&) {
    delete cursor;
    return SQLITE_NOMEM;
  }
  *out = &cursor->base;
  return SQLITE_OK;
}

int Close(sqlite3_vtab_cursor* cur) {
  Cursor* cursor = CursorOf(cur);
  cursor->Deactivate();
  delete cursor;
  return SQLITE_OK;
}

// `c` as it applies to one process: ids unique over the tree become the
// process's own, times move from the root's time line to its own. False
// when no row of the process can match.
bool Localize(const Table& table, const ProcessTree::Process& p,
              const Constraints& c, Constraints* out) {
  *out = c;
  if (c.filter.empty) return false;
  if (c.has_pid && c.pid != p.pid) return false;
  CallFilter& f = out->filter;
  if (table.tree_ids) {
    // A process's ids start at its id_base. They end below the next one's
    // unless it has more threads than ProcessTree::kMaxThreads (a problem
    // the tree reports): then its later ids repeat the next process's, and
    // its rows are still all read.
    const uint64_t lo = p.id_base;
    if (f.id_max < lo) return false;
    f.id_min = std::max(f.id_min, lo) - lo;
    f.id_max -= lo;
  }
  if (p.offset_ns != 0) {
    if (f.ts_max < p.offset_ns) return false;
    f.ts_min = std::max(f.ts_min, p.offset_ns) - p.offset_ns;
    if (f.ts_max != std::numeric_limits<uint64_t>::max())
      f.ts_max -= p.offset_ns;
  }
  return true;
}

// Starts the next (process, function) of the scan that has a row, or
// leaves it at its end.
absl::Status Advance(Cursor* cursor) {
  TableCursor& impl = *cursor->impl;
  while (true) {
    if (cursor->current != nullptr && !impl.Eof()) return absl::OkStatus();
    if (cursor->target >= cursor->targets.size()) {
      if (!cursor->by_function || cursor->function >= cursor->function_end) {
        cursor->current = nullptr;
        return absl::OkStatus();
      }
      ++cursor->function;
      cursor->target = 0;
    }
    ProcessTree::Process* p = cursor->targets[cursor->target++];
    Constraints local;
    if (!Localize(*cursor->table, *p, cursor->constraints, &local)) continue;
    if (cursor->by_function) {
      const auto count = p->view->reader().functions().size();
      if (cursor->function > count) continue;
      local.filter.OnlyFunction(static_cast<uint32_t>(cursor->function));
    }
    impl.scope.pid = p->pid;
    impl.scope.id_base = cursor->table->tree_ids ? p->id_base : 0;
    impl.scope.ts_offset = p->offset_ns;
    cursor->current = p;
    TS_RETURN_IF_ERROR(impl.Start(*p->view, local));
  }
}

int FilterImpl(Cursor* cursor, Vtab* vtab, int idx_num, int argc,
               sqlite3_value** argv) {
  const Table& table = *vtab->aux->table;
  const char* name = table.spec.name;
  cursor->Deactivate();
  cursor->started = false;
  Constraints c;
  if (!DecodeArgs(idx_num, argc, argv, &c))
    return SetError(&vtab->base, std::string(name) +
                                     ": internal error: arguments do not "
                                     "match the query plan");
  if (!c.has_path)
    return SetError(&vtab->base,
                    std::string(name) +
                        "() needs the trace directory as its argument, as in "
                        "SELECT * FROM " +
                        name + "('run.trace')");
  auto session = vtab->aux->cache->Get(c.path);
  if (!session.ok())
    return SetError(&vtab->base, std::string(name) + ": " +
                                     std::string(session.status().message()));
  cursor->session = *std::move(session);
  ProcessTree& tree = *cursor->session->tree;
  TraceView& view = *tree.root().view;
  // Only when no other scan of this trace is under way (session.h).
  if (cursor->session->active == 0) {
    if (absl::Status s = tree.Refresh(); !s.ok())
      return SetError(&vtab->base,
                      std::string(name) + ": " + std::string(s.message()));
  }
  if (absl::Status s = view.CheckStores(table.needs); !s.ok())
    return SetError(&vtab->base,
                    std::string(name) + ": " + std::string(s.message()));
  // Strict mode: no partial answers. tracestore_problems (needs nothing)
  // still lists them.
  if (vtab->aux->cache->strict && table.needs != 0) {
    const Problems problems = tree.AllProblems();
    if (!problems.empty()) {
      std::string message = std::string(name) + ": the trace is damaged";
      for (const std::string& line : problems.Summary())
        message += "; " + line;
      message += " (tracestore_strict(0) reads what it can)";
      return SetError(&vtab->base, message);
    }
  }
  cursor->table = &table;
  cursor->current = nullptr;
  cursor->targets.clear();
  cursor->target = 0;
  cursor->by_function = false;
  absl::Status started;
  if (table.whole_tree) {
    cursor->impl->scope = ProcessScope{tree.root().pid, 0, 0};
    cursor->current = &tree.root();
    started = cursor->impl->StartTree(tree, c);
  } else {
    for (size_t i = 0; i < tree.size(); ++i) {
      ProcessTree::Process& p = tree.process(i);
      if (c.has_pid && p.pid != c.pid) continue;
      // A child whose stores cannot be read is left out; the problems
      // (tracestore_problems, exit status 3) say so.
      if (i != 0 && !p.view->CheckStores(table.needs).ok()) continue;
      cursor->targets.push_back(&p);
    }
    cursor->constraints = c;
    if (c.filter.by_function && cursor->targets.size() > 1) {
      cursor->by_function = true;
      cursor->function = c.filter.function_min == 0 ? 1 : c.filter.function_min;
      uint64_t most = 0;
      for (const auto* p : cursor->targets)
        most = std::max<uint64_t>(most, p->view->reader().functions().size());
      cursor->function_end = std::min<uint64_t>(c.filter.function_max, most);
      if (cursor->function > cursor->function_end) cursor->targets.clear();
    }
    started = Advance(cursor);
  }
  if (!started.ok())
    return SetError(&vtab->base,
                    std::string(name) + ": " + std::string(started.message()));
  cursor->started = true;
  if (!AtEnd(cursor)) cursor->Activate();
  return SQLITE_OK;
}

int Filter(sqlite3_vtab_cursor* cur, int idx_num, const char* /*idx_str*/,
           int argc, sqlite3_value** argv) {
  try {
    return FilterImpl(CursorOf(cur), VtabOf(cur), idx_num, argc, argv);
  } catch (const std::bad_alloc&) {
    CursorOf(cur)->started = false;
    return SQLITE_NOMEM;
  }
}

int Next(sqlite3_vtab_cursor* cur) {
  Cursor* cursor = CursorOf(cur);
  cursor->impl->Next();
  if (cursor->impl->Eof() && !cursor->table->whole_tree) {
    try {
      if (absl::Status s = Advance(cursor); !s.ok()) {
        cursor->current = nullptr;
        cursor->Deactivate();
        return SetError(cur->pVtab, std::string(cursor->table->spec.name) +
                                        ": " + std::string(s.message()));
      }
    } catch (const std::bad_alloc&) {
      cursor->current = nullptr;
      cursor->Deactivate();
      return SQLITE_NOMEM;
    }
  }
  if (AtEnd(cursor)) cursor->Deactivate();
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  Cursor* cursor = CursorOf(cur);
  return !cursor->started || AtEnd(cursor);
}

int ColumnGlue(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int column) {
  Cursor* cursor = CursorOf(cur);
  const TableSpec& spec = VtabOf(cur)->aux->table->spec;
  if (column == spec.path_col) {
    ResultText(ctx, cursor->session->path);
  } else if (column == spec.pid_col) {
    ResultInt(ctx, cursor->impl->scope.pid);
  } else {
    cursor->impl->Column(ctx, column);
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  // Unique over the tree (SQLite's OR-by-union relies on it): a child's
  // rowids are its id_base (ordinal << 53) plus its own.
  const Cursor* cursor = CursorOf(cur);
  const TableCursor& impl = *cursor->impl;
  *rowid = impl.Rowid();
  if (!cursor->table->whole_tree && !cursor->table->tree_ids &&
      cursor->current != nullptr)
    *rowid += static_cast<sqlite3_int64>(cursor->current->id_base);
  return SQLITE_OK;
}

sqlite3_module MakeModule() {
  sqlite3_module m{};
  m.iVersion = 0;
  m.xCreate = nullptr;  // eponymous only: no CREATE VIRTUAL TABLE
  m.xConnect = Connect;
  m.xBestIndex = BestIndexGlue;
  m.xDisconnect = Disconnect;
  m.xDestroy = nullptr;
  m.xOpen = Open;
  m.xClose = Close;
  m.xFilter = Filter;
  m.xNext = Next;
  m.xEof = Eof;
  m.xColumn = ColumnGlue;
  m.xRowid = Rowid;
  // No xUpdate: the tables are read-only.
  return m;
}

void DestroyAux(void* aux) { delete static_cast<ModuleAux*>(aux); }

}  // namespace

const sqlite3_module* TableModule() {
  static const sqlite3_module module = MakeModule();
  return &module;
}

int RegisterTable(sqlite3* db, const Table& table,
                  const std::shared_ptr<SessionCache>& cache) {
  auto* aux = new (std::nothrow) ModuleAux{&table, cache};
  if (aux == nullptr) return SQLITE_NOMEM;
  // SQLite calls DestroyAux when the connection closes, or at once if
  // registering fails.
  return sqlite3_create_module_v2(db, table.spec.name, TableModule(), aux,
                                  DestroyAux);
}

}  // namespace tracestore::sql::internal
