// StackGuard (stack_guard.h): per-thread stack limits and the switch onto a
// fresh stack segment.

#include "stack_guard.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <mutex>
#include <vector>

// ts_call_on_segment(ts, frame, throwflag, eval, top): calls
// eval(ts, frame, throwflag) with the stack pointer at `top` (16-byte
// aligned), then returns on the caller's stack. rbp keeps the caller's
// stack pointer, so the frame-pointer chain and the CFI (CFA = rbp + 16)
// both lead back to the old segment.
#if defined(__x86_64__)
extern "C" PyObject* ts_call_on_segment(PyThreadState*, void*, int,
                                        void* eval, uintptr_t top);
asm(R"(
  .text
  .p2align 4
  .globl ts_call_on_segment
  .hidden ts_call_on_segment
  .type ts_call_on_segment, @function
ts_call_on_segment:
  .cfi_startproc
  pushq %rbp
  .cfi_def_cfa_offset 16
  .cfi_offset %rbp, -16
  movq %rsp, %rbp
  .cfi_def_cfa_register %rbp
  movq %r8, %rsp
  callq *%rcx
  movq %rbp, %rsp
  popq %rbp
  .cfi_def_cfa %rsp, 8
  retq
  .cfi_endproc
  .size ts_call_on_segment, .-ts_call_on_segment
)");
#endif

namespace tracestore::pyhook {

constinit thread_local uintptr_t StackGuard::tls_limit_
    __attribute__((tls_model("initial-exec"))) = UINTPTR_MAX;

namespace {

constexpr size_t kSegmentBytes = size_t{64} << 20;
constexpr size_t kMaxReserve = size_t{4} << 20;

struct Segment {
  char* base;  // lowest address (a guard page)
  size_t bytes;
};

// A thread's segments: mapped on first need, reused, unmapped when the
// thread exits.
struct ThreadSegments {
  size_t reserve = 0;
  std::vector<Segment> mapped;
  size_t in_use = 0;
};

thread_local ThreadSegments* tls_segments
    __attribute__((tls_model("initial-exec"))) = nullptr;
pthread_key_t g_key;
std::once_flag g_once;

void FreeSegments(void* p) {
  auto* s = static_cast<ThreadSegments*>(p);
  for (const Segment& seg : s->mapped) munmap(seg.base, seg.bytes);
  delete s;
}

// Measures the calling thread's stack; sets its limit. nullptr if the
// stack cannot be measured (then the guard stays out of the way).
ThreadSegments* Measure(uintptr_t* limit) {
  std::call_once(g_once, [] { pthread_key_create(&g_key, FreeSegments); });
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return nullptr;
  void* addr = nullptr;
  size_t bytes = 0;
  const int rc = pthread_attr_getstack(&attr, &addr, &bytes);
  pthread_attr_destroy(&attr);
  if (rc != 0 || addr == nullptr || bytes == 0) return nullptr;
  auto* s = new ThreadSegments();
  s->reserve = std::min(bytes / 2, kMaxReserve);
  tls_segments = s;
  pthread_setspecific(g_key, s);
  *limit = reinterpret_cast<uintptr_t>(addr) + s->reserve;
  return s;
}

// 3.14+: CPython checks the machine stack pointer itself against the
// thread's stack bounds (RecursionError "Stack overflow", or a fatal error
// below the hard limit). While a call runs on a segment, those bounds are
// the segment's, with CPython's own margins; then the thread's again.
class CStackLimits {
 public:
#if PY_VERSION_HEX >= 0x030E0000
  CStackLimits(PyThreadState* ts, uintptr_t low, uintptr_t top)
      : ts_(reinterpret_cast<_PyThreadStateImpl*>(ts)) {
    if (ts_->c_stack_hard_limit == 0) _Py_InitializeRecursionLimits(ts);
    saved_top_ = ts_->c_stack_top;
    saved_soft_ = ts_->c_stack_soft_limit;
    saved_hard_ = ts_->c_stack_hard_limit;
    const uintptr_t margin = saved_soft_ - saved_hard_;
    ts_->c_stack_top = top;
    ts_->c_stack_hard_limit = low + margin;
    ts_->c_stack_soft_limit = low + 2 * margin;
  }
  void Restore() {
    ts_->c_stack_top = saved_top_;
    ts_->c_stack_soft_limit = saved_soft_;
    ts_->c_stack_hard_limit = saved_hard_;
  }

 private:
  _PyThreadStateImpl* ts_;
  uintptr_t saved_top_, saved_soft_, saved_hard_;
#else
  CStackLimits(PyThreadState*, uintptr_t, uintptr_t) {}
  void Restore() {}
#endif
};

}  // namespace

PyObject* StackGuard::OnFreshSegment(compat::EvalFrameFunc eval,
                                     PyThreadState* ts, compat::Frame* f,
                                     int throwflag) {
#if defined(__x86_64__)
  ThreadSegments* s = tls_segments;
  if (s == nullptr) {
    uintptr_t limit = 0;
    s = Measure(&limit);
    tls_limit_ = limit;  // 0 if unmeasurable: never low again
    if (s == nullptr) return eval(ts, f, throwflag);
  }
  if (!Low()) return eval(ts, f, throwflag);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (s->in_use == s->mapped.size()) {
    void* p = mmap(nullptr, kSegmentBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1,
                   0);
    if (p == MAP_FAILED) return eval(ts, f, throwflag);  // as untraced would
    mprotect(p, page, PROT_NONE);  // overflow faults instead of corrupting
    s->mapped.push_back({static_cast<char*>(p), kSegmentBytes});
  }
  const Segment seg = s->mapped[s->in_use++];
  const uintptr_t saved = tls_limit_;
  const uintptr_t low = reinterpret_cast<uintptr_t>(seg.base) + page;
  tls_limit_ = low + s->reserve;
  const uintptr_t top =
      (reinterpret_cast<uintptr_t>(seg.base) + seg.bytes) & ~uintptr_t{15};
  CStackLimits limits(ts, low, top);
  PyObject* result = ts_call_on_segment(ts, f, throwflag,
                                        reinterpret_cast<void*>(eval), top);
  limits.Restore();
  tls_limit_ = saved;
  --s->in_use;
  return result;
#else
  return eval(ts, f, throwflag);
#endif
}

}  // namespace tracestore::pyhook
