// Registration and the loadable extension's entry point.
//
//   sqlite> .load build/lib/libtracestore_sqlite
//   sqlite> SELECT count(*) FROM tracestore_events('run.trace');

#include <memory>
#include <new>

#include "session.h"
#include "sqlite_api.h"
#include "sqlite_ext/tracestore_sqlite.h"
#include "tables.h"

SQLITE_EXTENSION_INIT1

namespace tracestore::sql {

namespace internal {
int RegisterTable(sqlite3* db, const Table& table,
                  const std::shared_ptr<SessionCache>& cache);
}  // namespace internal

int RegisterTables(sqlite3* db) {
  using namespace internal;
  std::shared_ptr<SessionCache> cache;
  try {
    cache = std::make_shared<SessionCache>();
  } catch (const std::bad_alloc&) {
    return SQLITE_NOMEM;
  }
  for (const Table* table :
       {&kCallsTable, &kEventsTable, &kFunctionsTable, &kThreadsTable,
        &kMarksTable, &kProblemsTable, &kLinesTable, &kProfileTable,
        &kProcessesTable}) {
    if (int rc = RegisterTable(db, *table, cache); rc != SQLITE_OK) return rc;
  }
  // tracestore_strict(on): turns strict mode on (1) or off (0) for the
  // connection and returns the previous setting; no argument just returns
  // it.
  auto* holder = new (std::nothrow) std::shared_ptr<SessionCache>(cache);
  if (holder == nullptr) return SQLITE_NOMEM;
  auto strict = [](sqlite3_context* ctx, int argc, sqlite3_value** argv) {
    auto& c = *static_cast<std::shared_ptr<SessionCache>*>(sqlite3_user_data(ctx));
    const bool before = c->strict;
    if (argc == 1) c->strict = sqlite3_value_int(argv[0]) != 0;
    sqlite3_result_int(ctx, before ? 1 : 0);
  };
  auto destroy = [](void* p) {
    delete static_cast<std::shared_ptr<SessionCache>*>(p);
  };
  for (int argc : {0, 1}) {
    // Each registration owns a copy (SQLite destroys each one's data).
    auto* data = argc == 0 ? holder
                           : new (std::nothrow) std::shared_ptr<SessionCache>(cache);
    if (data == nullptr) return SQLITE_NOMEM;
    if (int rc = sqlite3_create_function_v2(
            db, "tracestore_strict", argc, SQLITE_UTF8 | SQLITE_DIRECTONLY,
            data, strict, nullptr, nullptr, destroy);
        rc != SQLITE_OK)
      return rc;
  }
  return SQLITE_OK;
}

}  // namespace tracestore::sql

#define TRACESTORE_EXPORT extern "C" __attribute__((visibility("default")))

// The entry point named in the docs: `.load LIB sqlite3_tracestore_init`.
TRACESTORE_EXPORT int sqlite3_tracestore_init(sqlite3* db, char** /*err*/,
                                              const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  return tracestore::sql::RegisterTables(db);
}

// The entry point SQLite derives from the file name libtracestore_sqlite.so
// (letters after "lib" up to the first dot), so that a plain
// `.load build/lib/libtracestore_sqlite` finds it.
TRACESTORE_EXPORT int sqlite3_tracestoresqlite_init(
    sqlite3* db, char** err, const sqlite3_api_routines* api) {
  return sqlite3_tracestore_init(db, err, api);
}
