// StartSignalFreeThread: a std::thread that never takes the process's
// signals.
//
//   std::thread t = internal::StartSignalFreeThread([this] { Run(); });
//
// The kernel delivers a process-directed signal (kill(pid, SIGTERM), ^C) to
// any thread that does not block it. A library's background thread that
// takes one leaves the program's own threads waiting: CPython's C handler
// only trips a flag, and a main thread blocked in sem_wait or select is
// never interrupted to run the Python handler. So every thread the recorder
// starts blocks all signals for its whole life: the mask is set in the
// creating thread around the creation (a new thread inherits it) and
// restored at once, so no signal can arrive before the thread blocks it.

#ifndef TRACESTORE_SRC_SIGNAL_FREE_THREAD_H_
#define TRACESTORE_SRC_SIGNAL_FREE_THREAD_H_

#include <pthread.h>
#include <signal.h>

#include <thread>
#include <utility>

namespace tracestore::internal {

template <class F>
std::thread StartSignalFreeThread(F&& body) {
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  struct Restore {
    sigset_t* saved;
    ~Restore() { pthread_sigmask(SIG_SETMASK, saved, nullptr); }
  } restore{&saved};
  return std::thread(std::forward<F>(body));
}

}  // namespace tracestore::internal

#endif  // TRACESTORE_SRC_SIGNAL_FREE_THREAD_H_
