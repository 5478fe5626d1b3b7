// Qualnames: the qualified name of a code object on CPython 3.9 and 3.10,
// whose code objects carry only co_name (`__getitem__`, not
// `Box.__getitem__`), so that the same query gives the same names on every
// interpreter. (3.11+ code objects have co_qualname; this is not used
// there.)
//
// The function objects do carry __qualname__. On first need for a module
// (its globals dict), the recorder walks the module's functions and the
// functions, static and class methods and property accessors of its
// classes (nested classes too), and, as the compiler names them, the code
// objects nested in those: `outer.<locals>.inner`, `f.<locals>.<lambda>`,
// as 3.11+ names them at compile time (a function renamed later, by
// functools.wraps for one, does not rename its code).
// The walk runs no Python code. A code object the walk cannot reach (one
// made by exec() or compile() and never bound in the module) keeps its
// co_name.
//
//   Qualnames names;                             // one per session, GIL held
//   std::string q = names.Find(code, globals);   // "" when unknown

#ifndef TRACESTORE_PYHOOK_QUALNAME_H_
#define TRACESTORE_PYHOOK_QUALNAME_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "compat.h"

namespace tracestore::pyhook {

class Qualnames {
 public:
  Qualnames() = default;
  Qualnames(const Qualnames&) = delete;
  Qualnames& operator=(const Qualnames&) = delete;
  ~Qualnames();

  // The qualified name of `code`, run with `globals` (may be nullptr), or
  // "" when it cannot be known.
  std::string Find(PyCodeObject* code, PyObject* globals);
  // Drops every reference held (at the end of a session).
  void Clear();

 private:
  struct Module {
    Py_ssize_t walked_size = -1;  // the globals' size when last walked
  };
  void Walk(PyObject* globals);
  void AddFunction(PyObject* function);
  void AddCode(PyCodeObject* code, std::string qualname);
  void AddClass(PyObject* type, int depth);

  absl::flat_hash_map<PyObject*, Module> modules_;
  absl::flat_hash_set<PyObject*> classes_seen_;  // during one Walk
  // Strong references to the code objects named, released at the end: a
  // freed code object's address must not name another.
  absl::flat_hash_map<PyCodeObject*, std::string> names_;
};

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_QUALNAME_H_
