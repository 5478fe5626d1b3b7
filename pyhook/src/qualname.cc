// Qualnames (qualname.h).

#include "qualname.h"

namespace tracestore::pyhook {

namespace {

std::string Utf8(PyObject* s) { return std::string(compat::Utf8(s)); }

constexpr int kMaxClassDepth = 8;  // nested classes followed

}  // namespace

Qualnames::~Qualnames() { Clear(); }

void Qualnames::Clear() {
  for (auto& [code, name] : names_) Py_DECREF(code);
  for (auto& [globals, m] : modules_) Py_DECREF(globals);
  names_.clear();
  modules_.clear();
}

void Qualnames::AddCode(PyCodeObject* code, std::string qualname) {
  if (qualname.empty() || names_.contains(code)) return;
  Py_INCREF(code);
  // Code objects defined inside this one, named as the compiler names
  // them: inside a function `f`, `f.<locals>.g`; a class body `C` inside
  // a function is `f.<locals>.C`, its methods `f.<locals>.C.m`.
  // What a module defines is named bare: `f`, `C`, `C.m`.
  const std::string prefix =
      qualname == "<module>"                  ? std::string()
      : (code->co_flags & CO_OPTIMIZED) != 0  ? qualname + ".<locals>."
                                              : qualname + ".";
  names_.emplace(code, std::move(qualname));  // (rehashes: no reference kept)
  PyObject* consts = code->co_consts;
  if (consts == nullptr || !PyTuple_Check(consts)) return;
  for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); ++i) {
    PyObject* c = PyTuple_GET_ITEM(consts, i);
    if (!PyCode_Check(c)) continue;
    auto* inner = reinterpret_cast<PyCodeObject*>(c);
    const std::string name = Utf8(inner->co_name);
    if (!name.empty()) AddCode(inner, prefix + name);
  }
}

void Qualnames::AddFunction(PyObject* function) {
  if (!PyFunction_Check(function)) return;
  PyObject* code = PyFunction_GET_CODE(function);
  auto* f = reinterpret_cast<PyFunctionObject*>(function);
  if (code == nullptr || !PyCode_Check(code)) return;
  auto* c = reinterpret_cast<PyCodeObject*>(code);
  // A function renamed after it was made (functools.wraps, namedtuple's
  // __new__ made from a lambda) says nothing of its code's name: 3.11+
  // names the code as compiled, and so does this.
  if (PyUnicode_Compare(f->func_name, c->co_name) != 0) {
    PyErr_Clear();
    return;
  }
  AddCode(c, Utf8(f->func_qualname));
}

void Qualnames::AddClass(PyObject* type, int depth) {
  if (!PyType_Check(type) || depth > kMaxClassDepth ||
      !classes_seen_.insert(type).second)
    return;
  auto* t = reinterpret_cast<PyTypeObject*>(type);
  if (!(t->tp_flags & Py_TPFLAGS_HEAPTYPE) || t->tp_dict == nullptr) return;
  Py_ssize_t pos = 0;
  PyObject *key, *value;
  while (PyDict_Next(t->tp_dict, &pos, &key, &value)) {
    if (PyFunction_Check(value)) {
      AddFunction(value);
    } else if (PyObject_TypeCheck(value, &PyStaticMethod_Type) ||
               PyObject_TypeCheck(value, &PyClassMethod_Type)) {
      // Their function is the one attribute a C caller can read without
      // running code: __func__ is a member, not a property.
      PyObject* f = PyObject_GetAttrString(value, "__func__");
      if (f != nullptr) AddFunction(f);
      Py_XDECREF(f);
      PyErr_Clear();
    } else if (PyObject_TypeCheck(value, &PyProperty_Type)) {
      for (const char* accessor : {"fget", "fset", "fdel"}) {
        PyObject* f = PyObject_GetAttrString(value, accessor);
        if (f != nullptr) AddFunction(f);
        Py_XDECREF(f);
      }
      PyErr_Clear();
    } else if (PyType_Check(value)) {
      AddClass(value, depth + 1);
    }
  }
}

void Qualnames::Walk(PyObject* globals) {
  classes_seen_.clear();
  Py_ssize_t pos = 0;
  PyObject *key, *value;
  while (PyDict_Next(globals, &pos, &key, &value)) {
    if (PyFunction_Check(value)) {
      // Only the module's own functions: an imported one is named by its
      // own module's walk.
      if (reinterpret_cast<PyFunctionObject*>(value)->func_globals == globals)
        AddFunction(value);
    } else if (PyType_Check(value)) {
      AddClass(value, 0);
    }
  }
  classes_seen_.clear();
}

std::string Qualnames::Find(PyCodeObject* code, PyObject* globals) {
  if (auto it = names_.find(code); it != names_.end()) return it->second;
  if (Utf8(code->co_name) == "<module>") {
    // A module run while recording: everything it defines is named from
    // its code, class bodies included, before any function object exists.
    AddCode(code, "<module>");
    return "<module>";
  }
  if (globals == nullptr || !PyDict_Check(globals)) return {};
  auto [it, fresh] = modules_.try_emplace(globals);
  if (fresh) Py_INCREF(globals);
  // Walk again only when the module has gained names since (a walk is
  // linear in the module; a module that keeps growing is walked at most
  // once per new name).
  if (it->second.walked_size != PyDict_GET_SIZE(globals)) {
    it->second.walked_size = PyDict_GET_SIZE(globals);
    Walk(globals);
    if (auto n = names_.find(code); n != names_.end()) return n->second;
  }
  return {};
}

}  // namespace tracestore::pyhook
