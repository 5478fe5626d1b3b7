// Recording how the process that wrote a trace ended (process_end.h).

#include "tracestore/process_end.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

#include "tracestore/env.h"
#include "tracestore/store_paths.h"

namespace tracestore {

namespace {

// The trace the hooks write into, as plain bytes: the exit hook runs while
// the process ends, after static destructors may have run.
constexpr size_t kMaxPath = 4096;
char g_trace[kMaxPath];
std::atomic<pid_t> g_pid{0};  // the process that named g_trace
std::atomic<bool> g_hooked{false};

// pwrite of both fields, end_value first; no allocation (the exit hook).
bool WriteFields(const char* trace, uint32_t kind, uint32_t value) {
  char path[kMaxPath + sizeof("/trace.header")];
  const size_t n = std::strlen(trace);
  if (n + std::strlen(kTraceHeaderFile) + 2 > sizeof(path)) return false;
  std::memcpy(path, trace, n);
  path[n] = '/';
  std::strcpy(path + n + 1, kTraceHeaderFile);
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  const bool ok =
      ::pwrite(fd, &value, 4, offsetof(format::TraceHeader, end_value)) == 4 &&
      ::pwrite(fd, &kind, 4, offsetof(format::TraceHeader, end_kind)) == 4;
  ::close(fd);
  return ok;
}

#if defined(__GLIBC__)
void AtExit(int status, void*) {
  if (g_pid.load() != ::getpid()) return;  // a forked child of the writer
  WriteFields(g_trace, static_cast<uint32_t>(format::EndKind::kExited),
              static_cast<uint32_t>(status) & 0xff);
}
#endif

}  // namespace

absl::Status WriteProcessEnd(const std::string& trace, format::EndKind kind,
                             uint32_t value) {
  if (!WriteFields(trace.c_str(), static_cast<uint32_t>(kind), value))
    return ErrnoStatus(errno, "cannot record the process end in",
                       trace + "/" + kTraceHeaderFile);
  return absl::OkStatus();
}

void RecordExitStatusAtExit(const std::string& trace) {
  // Absolute: the program may change its directory before it exits.
  char* real = ::realpath(trace.c_str(), nullptr);
  const std::string path = real != nullptr ? real : trace;
  std::free(real);
  if (path.size() >= kMaxPath) return;
  g_pid.store(0);
  std::memcpy(g_trace, path.c_str(), path.size() + 1);
  g_pid.store(::getpid());
#if defined(__GLIBC__)
  if (!g_hooked.exchange(true)) ::on_exit(AtExit, nullptr);
#endif
}

void RecordSignalEnd(int signal) {
  if (g_pid.load() != ::getpid()) return;
  WriteFields(g_trace, static_cast<uint32_t>(format::EndKind::kSignaled),
              static_cast<uint32_t>(signal));
}

}  // namespace tracestore
