// The SQLite side of every tracestore table: xConnect ... xRowid. It turns
// SQLite's calls into TableCursor calls, absl::Status into an rc and
// zErrMsg, and keeps exceptions (std::bad_alloc) from crossing into C.

#include <new>
#include <string>

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
  TraceView& view = *cursor->session->view;
  // Only when no other scan of this trace is under way (session.h).
  if (cursor->session->active == 0) {
    if (absl::Status s = view.Refresh(); !s.ok())
      return SetError(&vtab->base,
                      std::string(name) + ": " + std::string(s.message()));
  }
  if (absl::Status s = view.CheckStores(table.needs); !s.ok())
    return SetError(&vtab->base,
                    std::string(name) + ": " + std::string(s.message()));
  // Strict mode: no partial answers. tracestore_problems (needs nothing)
  // still lists them.
  if (vtab->aux->cache->strict && table.needs != 0) {
    const Problems problems = view.reader().AllProblems();
    if (!problems.empty()) {
      std::string message = std::string(name) + ": the trace is damaged";
      for (const std::string& line : problems.Summary())
        message += "; " + line;
      message += " (tracestore_strict(0) reads what it can)";
      return SetError(&vtab->base, message);
    }
  }
  if (absl::Status s = cursor->impl->Start(view, c); !s.ok())
    return SetError(&vtab->base,
                    std::string(name) + ": " + std::string(s.message()));
  cursor->started = true;
  if (!cursor->impl->Eof()) cursor->Activate();
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
  if (cursor->impl->Eof()) cursor->Deactivate();
  return SQLITE_OK;
}

int Eof(sqlite3_vtab_cursor* cur) {
  Cursor* cursor = CursorOf(cur);
  return !cursor->started || cursor->impl->Eof();
}

int ColumnGlue(sqlite3_vtab_cursor* cur, sqlite3_context* ctx, int column) {
  Cursor* cursor = CursorOf(cur);
  if (column == VtabOf(cur)->aux->table->spec.path_col) {
    ResultText(ctx, cursor->session->path);
  } else {
    cursor->impl->Column(ctx, column);
  }
  return SQLITE_OK;
}

int Rowid(sqlite3_vtab_cursor* cur, sqlite3_int64* rowid) {
  *rowid = CursorOf(cur)->impl->Rowid();
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
