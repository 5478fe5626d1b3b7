// The one place the SQLite API is included from, so every source compiles
// both ways: as a loadable extension (calls go through the routine table
// sqlite3_api that SQLite hands to sqlite3_tracestore_init) and, with
// -DSQLITE_CORE, linked against libsqlite3 for our own CLI and tests.

#ifndef TRACESTORE_SQLITE_EXT_SQLITE_API_H_
#define TRACESTORE_SQLITE_EXT_SQLITE_API_H_

// With SQLITE_CORE defined, sqlite3ext.h leaves the API names alone and its
// SQLITE_EXTENSION_INIT* macros expand to nothing.
#include <sqlite3ext.h>
SQLITE_EXTENSION_INIT3

#endif  // TRACESTORE_SQLITE_EXT_SQLITE_API_H_
