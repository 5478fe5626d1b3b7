// Recorder: one recording session of the Python hook: the trace writer, the
// filters, the code-object registry and the per-thread state every hook
// backend shares.
//
//   Recorder::Config config;
//   config.path = "run.trace";
//   config.include = {"myapp"};
//   absl::Status s = Recorder::Start(config);   // GIL held
//   ...                                         // hooks record
//   Recorder::Stop();                           // GIL held
//
// Thread-safety: Start/Stop/Mark run with the GIL held. The hot path of a
// backend reads the thread's ThreadState (thread_local) and the code
// object's co_extra word; everything slow takes the GIL-protected slow
// paths below. A session's TraceWriter is never freed while the process
// runs (frames entered during a session may still append their exit events
// after it stopped: those appends land in closed stores and are dropped).

#ifndef TRACESTORE_PYHOOK_RECORDER_H_
#define TRACESTORE_PYHOOK_RECORDER_H_

#include <atomic>
#include <vector>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "compat.h"
#include "etw.h"
#include "qualname.h"
#include "stack_mode.h"
#include "tracestore/module_filter.h"
#include "tracestore/trace_writer.h"

namespace tracestore::pyhook {

// kStack is stack-sampling mode (stack_mode.h): the eval-frame hook calls
// traced frames through per-function trampolines and records no calls.
// kFloor is the benchmark's reference, not a recorder: an eval-frame hook
// that only reads the clock twice per frame (the brief's "empty eval-frame
// hook + 2 timestamps"), so overhead can be compared with it in one run.
enum class Backend { kEvalFrame, kMonitoring, kSetprofile, kStack, kFloor };

// The word cached in a code object's co_extra slot:
//   bits 0-1   kCodeTraced or kCodeExcluded
//   bits 2-14  byte offset of the body's first RESUME (generators, 3.11+)
//   bit  15    kCodeInit: an __init__ (see compat::KeepInitCallsVisible)
//   bits 16-47 function id
//   bits 48-63 session (the low 16 bits of the session number)
// 0 means "not seen in this process".
inline constexpr uint64_t kCodeTraced = 1;
inline constexpr uint64_t kCodeExcluded = 2;
inline constexpr uint64_t kCodeInit = uint64_t{1} << 15;
inline constexpr int kCodeBodyStartMax = 0x1fff;
inline uint32_t CodeFunctionId(uint64_t v) {
  return static_cast<uint32_t>(v >> 16);
}
inline int CodeBodyStart(uint64_t v) {
  return static_cast<int>((v >> 2) & kCodeBodyStartMax);
}
inline uint16_t CodeSession(uint64_t v) { return static_cast<uint16_t>(v >> 48); }
// The bits of a word ThreadState::traced_word is compared with.
inline constexpr uint64_t kCodeSessionAndState = 0xffff000000000003ull;

// Per-thread state. One per OS thread for the thread's whole life (freed by a
// pthread key destructor), reset when a new session starts.
//
// `gate` is the hot path's one test: it equals the session number exactly
// when the thread records in that session with nothing else to look at (set
// up, has a writer, not busy, its name known, no ETW sink to feed).
// Everything that changes one of those calls Recorder::Regate.
inline constexpr uint32_t kGateClosed = 0xffffffffu;
struct ThreadState {
  uint32_t gate = kGateClosed;
  uint32_t session = 0;           // session this state was set up for
  EventWriter* events = nullptr;  // nullptr: this thread is not recorded
  // The co_extra word bits a traced code object of this session has
  // (session << 48 | kCodeTraced), for a one-compare test of a word.
  uint64_t traced_word = 0;
  uint32_t thread_index = 0;
  int32_t os_tid = 0;
  std::vector<uint32_t> etw_open;  // calls pushed to ETW, not yet popped
  uint16_t name_tries = 0;        // > 0: name unknown yet; tries left
  bool busy = false;              // inside a slow path (recursion guard)
  // Instruction address -> line, direct-mapped (compat::InstrKey).
  struct LineSlot {
    const void* key;
    int line;
  };
  LineSlot lines[256] = {};
};

// The calling thread's state; nullptr until a hook first ran on it.
// initial-exec: one load from the thread pointer, no __tls_get_addr call.
// constinit: no dynamic initialisation, so other files read it directly
// (without it every access calls a TLS wrapper function).
extern constinit thread_local ThreadState* tls_state
    __attribute__((tls_model("initial-exec")));

class Recorder {
 public:
  struct Config {
    std::string path;
    std::vector<std::string> include, exclude;
    // Directories whose files are not traced (--exclude-stdlib), and
    // directories inside them that are (site-packages).
    std::vector<std::string> exclude_dirs, keep_dirs;
    // --include-path / --exclude-path: source files (directories or files,
    // '/' boundary) traced or not, whatever their module (code without one:
    // exec'd code, Jinja templates). Code is included when its module or
    // its file matches an include (or neither list has any); excluded when
    // either matches an exclude.
    std::vector<std::string> include_paths, exclude_paths;
    // The recorder's own code (the tracestore package, its bootstrap):
    // never traced, whatever the filters say.
    std::vector<std::string> tool_dirs;
    std::vector<std::pair<std::string, std::string>> properties;
    Backend backend = Backend::kEvalFrame;
    bool with_threads = true;
    bool lines = false;
    bool c_calls = false;
    bool quiet = false;
    bool perf_files = true;  // stack mode: /tmp/perf-<pid>.map and jitdump
    // Flight recorder (TraceOptions::max_event_bytes); 0: unbounded.
    uint64_t max_event_bytes = 0;
    enum class Etw { kOff, kPlatform, kCapture, kCaptureDisabled } etw = Etw::kOff;
  };

  // Starts a session (fails if one is active). GIL held.
  static absl::Status Start(const Config& config);
  // Stops the active session, if any, and closes its trace. GIL held.
  static absl::Status Stop();
  // In a forked child: forgets the parent's session without touching its
  // trace (the parent still writes it) and removes the hooks.
  static void AbandonAfterFork();
  // Async-signal-safe part of the above, run by a pthread_atfork handler.
  static void ForgetForFork();
  // Quiet: the calling thread records nothing (it runs the tool's own
  // code, or the interpreter's start-up before the program). Returns the
  // previous setting. Any time, session or not; GIL held.
  static bool SetQuiet(bool quiet);
  static bool active() { return current_.load(std::memory_order_acquire) != nullptr; }
  static Recorder* current() { return current_.load(std::memory_order_acquire); }

  // The current session number (0 when none). The hot path compares a
  // thread's or a code object's session with it.
  static uint32_t session() { return session_.load(std::memory_order_relaxed); }
  static Py_ssize_t code_extra_index() { return code_extra_index_; }
  // The ETW sink of the active session, or nullptr (one load on the hot
  // path when --etw is off).
  static EtwEmitter* etw() { return etw_.load(std::memory_order_relaxed); }
  // The ETW sink of the last session that had one (tests read its capture).
  static EtwEmitter* last_etw() { return last_etw_; }
  // The function id a frame runs, if it is traced in this session (0 if
  // not): the Caller of a PythonFunctionPush.
  static uint32_t FrameFunctionId(compat::Frame* f, uint32_t session) {
    if (f == nullptr) return 0;
    PyCodeObject* code = compat::FrameCode(f);
    if (code == nullptr) return 0;
    const uint64_t w = compat::GetCodeExtra(code, code_extra_index_);
    return CodeSession(w) == static_cast<uint16_t>(session) && (w & kCodeTraced)
               ? CodeFunctionId(w)
               : 0;
  }

  // This thread's state for the active session: set up on first use. Returns
  // nullptr when no session is active or the thread is not recorded (a
  // busy thread's state is returned: callers check `busy`).
  static ThreadState* ThisThread() {
    ThreadState* t = tls_state;
    if (t != nullptr && t->gate == session_.load(std::memory_order_relaxed))
        [[likely]]
      return t;
    return ThisThreadSlow();
  }
  static ThreadState* ThisThreadSlow();
  // Recomputes t->gate after a change to what it summarises.
  static void Regate(ThreadState* t) {
    const bool open = t->events != nullptr && !t->busy && t->name_tries == 0 &&
                      etw() == nullptr;
    t->gate = open ? t->session : kGateClosed;
    t->traced_word = (uint64_t{static_cast<uint16_t>(t->session)} << 48) | kCodeTraced;
  }
  // A thread whose name was unknown when it was first seen (threading
  // registers it a few calls later): looks again, a bounded number of times.
  static void TryName(ThreadState* t);

  // The co_extra word for `code`, registering the function on first sight in
  // this session. `globals` gives the module name (may be nullptr).
  uint64_t CodeWord(PyCodeObject* code, PyObject* globals);
  // The same from a hook, for thread `t`: the cached word when it is of t's
  // session, else registers the code (`globals()` is called only then).
  // 0 when no session is active.
  template <class GetGlobals>
  static uint64_t Word(ThreadState* t, PyCodeObject* code, GetGlobals globals) {
    const uint64_t w = compat::GetCodeExtra(code, code_extra_index_);
    if (CodeSession(w) == static_cast<uint16_t>(t->session)) [[likely]]
      return w;
    Recorder* r = current();
    return r != nullptr ? r->CodeWord(code, globals()) : 0;
  }
  // The line `frame` is at, through the thread's cache (0 for no frame).
  static int FrameLine(ThreadState* t, compat::Frame* frame) {
    if (frame == nullptr) return 0;
    const void* key = compat::InstrKey(frame);
    ThreadState::LineSlot& slot = Slot(t, key);
    if (slot.key == key) [[likely]]
      return slot.line;
    PyCodeObject* code = compat::FrameCode(frame);
    return code != nullptr ? LineSlow(slot, key, code, compat::FrameLastiBytes(frame))
                           : 0;
  }
  // A function id for a C function object (PyCFunction), 0 if not traced.
  uint32_t CFunctionId(PyObject* callable);

  // The line of `code` at byte offset `lasti`, through the thread's cache.
  static int Line(ThreadState* t, PyCodeObject* code, int lasti) {
    const void* key = compat::InstrKey(code, lasti);
    ThreadState::LineSlot& slot = Slot(t, key);
    if (slot.key == key) [[likely]]
      return slot.line;
    return LineSlow(slot, key, code, lasti);
  }
  static ThreadState::LineSlot& Slot(ThreadState* t, const void* key) {
    return t->lines[(reinterpret_cast<uintptr_t>(key) >> 1) & 255];
  }
  static int LineSlow(ThreadState::LineSlot& slot, const void* key,
                      PyCodeObject* code, int lasti);

  // Records a mark on the current thread (stack_sample: also a
  // PythonStackSample event). GIL held.
  void Mark(std::string_view name, format::MarkKind kind,
            bool stack_sample = false);
  TraceWriter& writer() { return *writer_; }
  const Config& config() const { return config_; }
  // With include lists: the modules and files of the code the filter was
  // asked about (the recorder's own code aside), so that the end of the
  // recording can say which include matched nothing. GIL held.
  const absl::flat_hash_set<std::string>& seen_modules() const {
    return seen_modules_;
  }
  const absl::flat_hash_set<std::string>& seen_files() const {
    return seen_files_;
  }
  Backend backend() const { return config_.backend; }

 private:
  explicit Recorder(Config config) : config_(std::move(config)) {}
  ThreadState* SetUpThread(ThreadState* t);
  void NameThreads();

  static std::atomic<Recorder*> current_;
  static std::atomic<uint32_t> session_;
  static std::atomic<EtwEmitter*> etw_;
  static EtwEmitter* last_etw_;
  static Py_ssize_t code_extra_index_;

  Config config_;
  std::unique_ptr<TraceWriter> writer_;
  std::unique_ptr<EtwEmitter> etw_sink_;
  std::unique_ptr<StackMode> stack_;  // stack mode only
  bool Included(std::string_view module, std::string_view file) const;

  ModuleFilter modules_;
  PrefixSet include_paths_, exclude_paths_;
  bool collect_seen_ = false;
  absl::flat_hash_set<std::string> seen_modules_, seen_files_;
  Qualnames qualnames_;  // 3.9/3.10: qualified names (qualname.h)
  PrefixSet excluded_dirs_, kept_dirs_, tool_dirs_;
  unsigned long starter_ident_ = 0;  // with_threads=False: the only thread
  absl::flat_hash_map<const void*, uint32_t> c_functions_;
  // Threads set up before their name was known: (os tid, index).
  std::vector<std::pair<uint64_t, uint32_t>> unnamed_;
};

// Backends: install on Start, remove on Stop (GIL held). RemoveEvalFrame
// removes the stack-mode and floor hooks too.
absl::Status InstallEvalFrame(Recorder& r);
absl::Status InstallStack(const StackMode& stack);
absl::Status InstallFloor();
void RemoveEvalFrame();
absl::Status InstallProfile(Recorder& r, bool python_calls, bool c_calls);
void RemoveProfile();
absl::Status InstallMonitoring(Recorder& r);
void RemoveMonitoring();
bool MonitoringAvailable();
absl::Status InstallLines(Recorder& r);
void EnableLinesFor(PyCodeObject* code);  // a traced code object (3.12+)
void RemoveLines();
void TraceThisThread();  // new threads, before 3.12 (threading.settrace)

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_RECORDER_H_
