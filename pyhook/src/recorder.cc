// Recorder: session lifecycle, thread set-up, code registration.

#include "recorder.h"

#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "tracestore/process_end.h"

namespace tracestore::pyhook {

std::atomic<Recorder*> Recorder::current_{nullptr};
std::atomic<uint32_t> Recorder::session_{0};
Py_ssize_t Recorder::code_extra_index_ = -1;
std::atomic<EtwEmitter*> Recorder::etw_{nullptr};
EtwEmitter* Recorder::last_etw_ = nullptr;

constinit thread_local ThreadState* tls_state __attribute__((tls_model("initial-exec"))) =
    nullptr;

namespace {

pthread_key_t g_thread_key;
std::once_flag g_once;

// Sessions are never freed: frames entered during one may append their exit
// events after it stopped (into closed stores, where they are dropped).
std::vector<Recorder*>* g_finished = new std::vector<Recorder*>();

// The session of the parent process, in a child just forked from it.
Recorder* g_forked_from = nullptr;

// In a forked child, before any Python code runs (threading's own at-fork
// hooks run Python code, which the hooks would record): forget the parent's
// session at once. Its trace and its locks belong to the parent; a lock held
// by another parent thread at fork time would never be released here.
void OnForkChild() {
  Recorder* r = Recorder::current();
  if (r == nullptr) return;
  g_forked_from = r;
  Recorder::ForgetForFork();
}

void OnThreadExit(void* p);

void InitOnce(Py_ssize_t* code_extra_index) {
  std::call_once(g_once, [code_extra_index] {
    pthread_key_create(&g_thread_key, OnThreadExit);
    pthread_atfork(nullptr, nullptr, OnForkChild);
    *code_extra_index = compat::RequestCodeExtraIndex();
  });
}

// Runs when a thread that was seen by a hook exits (no GIL, no Python).
void OnThreadExit(void* p) {
  auto* t = static_cast<ThreadState*>(p);
  Recorder* r = Recorder::current();
  if (r != nullptr && t->session == Recorder::session() && t->events != nullptr) {
    r->writer().EndThread(t->events);
    if (EtwEmitter* etw = Recorder::etw()) etw->OnThreadStop(t->os_tid);
  }
  if (tls_state == t) tls_state = nullptr;
  delete t;
}

// Saves and restores the error indicator around slow paths that call the C
// API, so a hook never loses or raises an exception.
class SavedError {
 public:
  SavedError() { PyErr_Fetch(&type_, &value_, &tb_); }
  ~SavedError() {
    PyErr_Clear();
    PyErr_Restore(type_, value_, tb_);
  }

 private:
  PyObject *type_, *value_, *tb_;
};

using compat::Utf8;

// The module if it has been imported (new reference), without importing it
// and without running any Python code (PyImport_GetModule may take the
// import lock through importlib, which runs Python frames).
PyObject* ImportedModule(const char* name) {
  PyObject* modules = PyImport_GetModuleDict();
  PyObject* module = modules ? PyDict_GetItemString(modules, name) : nullptr;
  Py_XINCREF(module);
  return module;
}

// The name of the running thread from threading._active, without running
// any Python code (no property getters, no _DummyThread creation).
std::string CurrentThreadName() {
  PyObject* threading = ImportedModule("threading");
  std::string name;
  if (threading == nullptr) return name;
  PyObject* active = PyObject_GetAttrString(threading, "_active");
  if (active != nullptr && PyDict_Check(active)) {
    PyObject* ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    PyObject* thread = ident ? PyDict_GetItem(active, ident) : nullptr;
    if (thread != nullptr) {
      PyObject* dict = PyObject_GenericGetDict(thread, nullptr);
      if (dict != nullptr) {
        name = std::string(Utf8(PyDict_GetItemString(dict, "_name")));
        Py_DECREF(dict);
      }
    }
    Py_XDECREF(ident);
  }
  Py_XDECREF(active);
  Py_DECREF(threading);
  PyErr_Clear();
  return name;
}

// Marks a thread as inside a slow path for the scope's life, with its error
// indicator saved: the hooks record nothing for it meanwhile, so a slow path
// that ever runs Python code cannot recurse into itself. (Restores the
// flag as it was: a quiet thread, Recorder::SetQuiet, stays quiet.)
class SlowPath {
 public:
  explicit SlowPath(ThreadState* t) : t_(t) {
    if (t_ != nullptr) {
      was_ = t_->busy;
      t_->busy = true;
      Recorder::Regate(t_);
    }
  }
  ~SlowPath() {
    if (t_ != nullptr) {
      t_->busy = was_;
      Recorder::Regate(t_);
    }
  }

 private:
  SavedError saved_;
  ThreadState* t_;
  bool was_ = false;
};

}  // namespace

void Recorder::TryName(ThreadState* t) {
  Recorder* r = current();
  if (r == nullptr || t->events == nullptr || t->busy) {
    t->name_tries = 0;
    Regate(t);
    return;
  }
  std::string name;
  {
    SlowPath slow(t);
    name = CurrentThreadName();
  }
  if (!name.empty()) {
    r->writer_->SetThreadName(t->thread_index, name);
    t->name_tries = 0;
  } else {
    --t->name_tries;  // at 0: named at Stop if still alive
  }
  Regate(t);
}

bool Recorder::SetQuiet(bool quiet) {
  InitOnce(&code_extra_index_);
  ThreadState* t = tls_state;
  if (t == nullptr) {
    t = new ThreadState();  // set up for a session when next unquiet
    tls_state = t;
    pthread_setspecific(g_thread_key, t);
  }
  const bool was = t->busy;
  t->busy = quiet;
  Regate(t);
  return was;
}

ThreadState* Recorder::ThisThreadSlow() {
  ThreadState* t = tls_state;
  const uint32_t s = session();
  if (t != nullptr && t->session == s) {
    if (t->name_tries != 0) TryName(t);
    return t->events ? t : nullptr;
  }
  Recorder* r = current();
  if (r == nullptr) return nullptr;
  if (t == nullptr) {
    t = new ThreadState();
    tls_state = t;
    pthread_setspecific(g_thread_key, t);
  }
  if (t->busy) return nullptr;
  return r->SetUpThread(t);
}

ThreadState* Recorder::SetUpThread(ThreadState* t) {
  SlowPath slow(t);
  t->session = session();
  t->events = nullptr;
  t->etw_open.clear();
  for (auto& slot : t->lines) slot = {};
  if (!config_.with_threads && PyThread_get_thread_ident() != starter_ident_)
    return nullptr;
  std::string name = CurrentThreadName();
  const auto tid = static_cast<uint64_t>(::syscall(SYS_gettid));
  // A program that never imports threading (the recorder does not import
  // it for the program) has no thread table: its first thread is what
  // threading would call MainThread (after a fork too, the forking thread).
  if (name.empty() && tid == static_cast<uint64_t>(::getpid()))
    name = "MainThread";
  t->name_tries = name.empty() ? 1000 : 0;
  t->events = writer_->StartThread(
      tid, name.empty() ? absl::StrCat("thread-", tid) : name);
  if (t->events != nullptr) {
    t->thread_index = t->events->thread_index();
    t->os_tid = static_cast<int32_t>(tid);
    if (EtwEmitter* etw = Recorder::etw()) etw->OnThreadStart(t->os_tid);
    if (t->name_tries != 0) unnamed_.emplace_back(tid, t->thread_index);
  }
  return t->events ? t : nullptr;
}

uint64_t Recorder::CodeWord(PyCodeObject* code, PyObject* globals) {
  SlowPath slow(tls_state);
  std::string_view module;
  if (globals != nullptr && PyDict_Check(globals))
    module = Utf8(PyDict_GetItemString(globals, "__name__"));
  const std::string_view file = Utf8(code->co_filename);
  const bool tool = tool_dirs_.Matches(file);
  if (collect_seen_ && !tool) {
    seen_modules_.emplace(module);
    seen_files_.emplace(file);
  }
  bool traced = !tool && Included(module, file);
  if (traced && !excluded_dirs_.empty() && excluded_dirs_.Matches(file) &&
      !kept_dirs_.Matches(file))
    traced = false;
  if (traced && !excluded_dirs_.empty() && file.substr(0, 8) == "<frozen ")
    traced = false;
  uint32_t id = 0;
  if (traced) {
    FunctionInfo info;
    info.module = module;
#if PY_VERSION_HEX < 0x030B0000
    const std::string qualname = qualnames_.Find(code, globals);
    info.qualname = qualname.empty() ? Utf8(code->co_name) : qualname;
#else
    info.qualname = Utf8(compat::CodeQualname(code));
#endif
    info.file = file;
    info.first_line = static_cast<uint32_t>(code->co_firstlineno);
    info.code_addr = reinterpret_cast<uintptr_t>(code);
    id = writer_->AddFunction(info);
    traced = id != 0;
    uintptr_t slot = 0;
    if (traced && stack_) {
      slot = stack_->AddFunction(id, info.qualname, file);
      traced = slot != 0;
      if (traced) writer_->AddCodeRange(id, slot, thunk::kSlotBytes);
    }
    if (traced && config_.lines) EnableLinesFor(code);
    if (traced && etw_sink_)
      etw_sink_->OnFunction(
          id, {std::string(file), std::string(info.qualname),
               static_cast<int32_t>(info.first_line), true, slot,
               slot != 0 ? slot + thunk::kSlotBytes : 0});
  }
  uint64_t body = 0;
  if (traced && compat::IsGeneratorCode(code))
    body = std::min(compat::BodyStartBytes(code), kCodeBodyStartMax);
  const uint64_t init =
      traced && compat::IsInitCode(code) ? kCodeInit : 0;
  const uint64_t word = (uint64_t{static_cast<uint16_t>(session())} << 48) |
                        (uint64_t{id} << 16) | (body << 2) | init |
                        (traced ? kCodeTraced : kCodeExcluded);
  compat::SetCodeExtra(code, code_extra_index_, word);
  return word;
}

// The module and path filters together (a C function has no file: "").
bool Recorder::Included(std::string_view module, std::string_view file) const {
  const PrefixSet& include = modules_.include();
  const bool included =
      (include.empty() && include_paths_.empty()) ||
      (!include.empty() && include.Matches(module)) ||
      (!file.empty() && include_paths_.Matches(file));
  return included && !modules_.exclude().Matches(module) &&
         (file.empty() || !exclude_paths_.Matches(file));
}

uint32_t Recorder::CFunctionId(PyObject* callable) {
  if (!PyCFunction_Check(callable)) return 0;
  auto* f = reinterpret_cast<PyCFunctionObject*>(callable);
  const void* key = f->m_ml;
  if (auto it = c_functions_.find(key); it != c_functions_.end())
    return it->second;
  SlowPath slow(tls_state);
  std::string module, qualname = f->m_ml->ml_name;
  PyObject* self = f->m_self;
  if (self != nullptr && !PyModule_Check(self)) {
    // A method of a builtin type: qualify it with the type's name.
    qualname = absl::StrCat(Py_TYPE(self)->tp_name, ".", qualname);
  }
  if (f->m_module != nullptr && PyUnicode_Check(f->m_module))
    module = std::string(Utf8(f->m_module));
  else if (self != nullptr && PyModule_Check(self))
    module = PyModule_GetName(self) ? PyModule_GetName(self) : "";
  else
    module = "builtins";
  // The recorder's own builtins (tracestore._tracestore) are not the program.
  const bool tool = module.rfind("tracestore.", 0) == 0 ||
                    module.rfind("etwtrace.", 0) == 0;
  uint32_t id = 0;
  if (collect_seen_ && !tool) seen_modules_.emplace(module);
  if (!tool && Included(module, {})) {
    FunctionInfo info;
    info.module = module;
    info.qualname = qualname;
    info.flags = format::kFunctionTraced;  // not Python code
    info.code_addr = reinterpret_cast<uintptr_t>(key);
    id = writer_->AddFunction(info);
    // For a builtin, PythonFunction's SourceFile is its module, line 0.
    if (id != 0 && etw_sink_) etw_sink_->OnFunction(id, {module, qualname, 0, false});
  }
  c_functions_.emplace(key, id);
  return id;
}

int Recorder::LineSlow(ThreadState::LineSlot& slot, const void* key,
                       PyCodeObject* code, int lasti) {
  const int line =
      lasti < 0 ? code->co_firstlineno : PyCode_Addr2Line(code, lasti);
  slot = {key, line};
  return line;
}

void Recorder::Mark(std::string_view name, format::MarkKind kind,
                    bool stack_sample) {
  ThreadState* t = ThisThread();
  if (t == nullptr) return;
  writer_->AddMark(t->thread_index, name, kind);
  if (etw_sink_ == nullptr) return;
  if (stack_sample) {
    etw_sink_->OnStackSample(name);
  } else {
    etw_sink_->OnMark(name, kind == format::MarkKind::kStart ? etwbridge::kOpcodeStart
                            : kind == format::MarkKind::kStop ? etwbridge::kOpcodeStop
                                                              : etwbridge::kOpcodeInfo);
  }
}

void Recorder::NameThreads() {
  // Threads whose name was unknown when they started: name them from
  // threading's table of live threads (by native id).
  PyObject* threading = ImportedModule("threading");
  if (threading == nullptr) return;
  PyObject* active = PyObject_GetAttrString(threading, "_active");
  if (active != nullptr && PyDict_Check(active)) {
    absl::flat_hash_map<uint64_t, std::string> by_tid;
    Py_ssize_t pos = 0;
    PyObject *key, *thread;
    while (PyDict_Next(active, &pos, &key, &thread)) {
      PyObject* dict = PyObject_GenericGetDict(thread, nullptr);
      if (dict == nullptr) continue;
      PyObject* native = PyDict_GetItemString(dict, "_native_id");
      std::string_view name = Utf8(PyDict_GetItemString(dict, "_name"));
      if (native != nullptr && PyLong_Check(native) && !name.empty())
        by_tid[PyLong_AsUnsignedLongLong(native)] = std::string(name);
      Py_DECREF(dict);
    }
    for (const auto& [tid, index] : unnamed_)
      if (auto it = by_tid.find(tid); it != by_tid.end())
        writer_->SetThreadName(index, it->second);
  }
  Py_XDECREF(active);
  Py_DECREF(threading);
  PyErr_Clear();
}

absl::Status Recorder::Start(const Config& config) {
  if (current() != nullptr)
    return absl::FailedPreconditionError("tracing is already active");
  InitOnce(&code_extra_index_);
  if (code_extra_index_ < 0)
    return absl::ResourceExhaustedError(
        "no free code-object extra slot (too many tools use co_extra)");
  std::unique_ptr<Recorder> r(new Recorder(config));
  std::vector<std::string_view> inc(config.include.begin(), config.include.end());
  std::vector<std::string_view> exc(config.exclude.begin(), config.exclude.end());
  auto modules = ModuleFilter::Create(inc, exc);
  if (!modules.ok()) return modules.status();
  r->modules_ = *std::move(modules);
  std::vector<std::string_view> dirs(config.exclude_dirs.begin(),
                                     config.exclude_dirs.end());
  std::vector<std::string_view> keep(config.keep_dirs.begin(),
                                     config.keep_dirs.end());
  if (!dirs.empty()) {
    auto d = PrefixSet::Build(dirs, '/');
    if (!d.ok()) return d.status();
    r->excluded_dirs_ = *std::move(d);
  }
  if (!keep.empty()) {
    auto k = PrefixSet::Build(keep, '/');
    if (!k.ok()) return k.status();
    r->kept_dirs_ = *std::move(k);
  }
  for (auto [list, set, what] :
       {std::tuple(&config.include_paths, &r->include_paths_, "include path"),
        std::tuple(&config.exclude_paths, &r->exclude_paths_,
                   "exclude path")}) {
    if (list->empty()) continue;
    std::vector<std::string_view> v(list->begin(), list->end());
    auto built = PrefixSet::Build(v, '/');
    if (!built.ok())
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", built.status().message()));
    *set = *std::move(built);
  }
  r->collect_seen_ = !config.include.empty() || !config.include_paths.empty();
  if (!config.tool_dirs.empty()) {
    std::vector<std::string_view> tools(config.tool_dirs.begin(),
                                        config.tool_dirs.end());
    auto t = PrefixSet::Build(tools, '/');
    if (!t.ok()) return t.status();
    r->tool_dirs_ = *std::move(t);
  }
  TraceOptions options;
  options.path = config.path;
  options.properties = config.properties;
  options.quiet = config.quiet;
  options.max_event_bytes = config.max_event_bytes;
  auto writer = TraceWriter::Create(options);
  if (!writer.ok()) return writer.status();
  r->writer_ = *std::move(writer);
  // How this process ends goes into the trace's header (process trees).
  RecordExitStatusAtExit(config.path);
  r->starter_ident_ = PyThread_get_thread_ident();
  if (config.backend == Backend::kStack) {
    std::string why;
    r->stack_ = StackMode::Start(config.perf_files, &why);
    if (r->stack_ == nullptr) {
      (void)r->writer_->Close();
      return absl::FailedPreconditionError(why);
    }
  }
  if (config.etw != Config::Etw::kOff) {
    std::string why;
    using Mode = EtwEmitter::Mode;
    r->etw_sink_ = EtwEmitter::Open(
        config.etw == Config::Etw::kCapture           ? Mode::kCapture
        : config.etw == Config::Etw::kCaptureDisabled ? Mode::kCaptureDisabled
                                                      : Mode::kPlatform,
        &why);
    if (r->etw_sink_ == nullptr)
      std::fprintf(stderr,
                   "tracestore: --etw: %s; recording into the trace only\n",
                   why.c_str());
  }

  uint32_t next = session() + 1;
  if (static_cast<uint16_t>(next) == 0) ++next;  // 0 marks "unseen" words
  session_.store(next, std::memory_order_relaxed);
  Recorder* raw = r.release();
  etw_.store(raw->etw_sink_.get(), std::memory_order_relaxed);
  if (raw->etw_sink_) last_etw_ = raw->etw_sink_.get();
  current_.store(raw, std::memory_order_release);

  absl::Status installed;
  switch (config.backend) {
    case Backend::kEvalFrame:
      installed = InstallEvalFrame(*raw);
      if (installed.ok() && config.c_calls)
        installed = InstallProfile(*raw, /*python_calls=*/false, true);
      break;
    case Backend::kSetprofile:
      installed = InstallProfile(*raw, true, config.c_calls);
      break;
    case Backend::kMonitoring:
      installed = InstallMonitoring(*raw);
      break;
    case Backend::kStack:
      installed = InstallStack(*raw->stack_);
      break;
    case Backend::kFloor:
      installed = InstallFloor();
      break;
  }
  if (installed.ok() && config.lines) installed = InstallLines(*raw);
  if (!installed.ok()) {
    (void)Stop();
    return installed;
  }
  return absl::OkStatus();
}

void Recorder::ForgetForFork() {
  etw_.store(nullptr, std::memory_order_relaxed);
  current_.store(nullptr, std::memory_order_release);
  session_.store(session() + 1, std::memory_order_relaxed);
}

void Recorder::AbandonAfterFork() {
  Recorder* r = current() != nullptr ? current() : g_forked_from;
  g_forked_from = nullptr;
  if (r == nullptr) return;
  ForgetForFork();
  RemoveLines();
  RemoveEvalFrame();
  RemoveProfile();
  RemoveMonitoring();
  // Never closed or freed here: its stores belong to the parent, and its
  // page filler thread did not survive the fork.
  g_finished->push_back(r);
}

absl::Status Recorder::Stop() {
  Recorder* r = current();
  if (r == nullptr) return absl::OkStatus();
  RemoveLines();
  RemoveEvalFrame();
  RemoveProfile();
  RemoveMonitoring();
  r->NameThreads();
  if (r->etw_sink_) {
    ThreadState* self = tls_state;
    r->etw_sink_->StopAll(self != nullptr && self->session == session()
                              ? &self->etw_open
                              : nullptr);
  }
  etw_.store(nullptr, std::memory_order_relaxed);
  current_.store(nullptr, std::memory_order_release);
  session_.store(session() + 1, std::memory_order_relaxed);
  r->qualnames_.Clear();
  absl::Status s = r->writer_->Close();
  g_finished->push_back(r);
  return s;
}

}  // namespace tracestore::pyhook
