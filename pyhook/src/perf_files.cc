// PerfFiles: /tmp/perf-<pid>.map and the jitdump (see the specification in
// the Linux sources, tools/perf/Documentation/jitdump-specification.txt).

#include "perf_files.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "thunk.h"

namespace tracestore::pyhook {

namespace {

constexpr uint32_t kJitdumpMagic = 0x4A695444;  // "JiTD"
constexpr uint32_t kJitCodeLoad = 0, kJitCodeUnwindingInfo = 4;

struct JitHeader {
  uint32_t magic, version, total_size, elf_mach, pad1, pid;
  uint64_t timestamp, flags;
};
struct JitRecordPrefix {
  uint32_t id, total_size;
  uint64_t timestamp;
};
struct JitCodeLoad {
  JitRecordPrefix prefix;
  uint32_t pid, tid;
  uint64_t vma, code_addr, code_size, code_index;
  // then the NUL-terminated name and the code bytes
};
struct JitUnwindingInfo {
  JitRecordPrefix prefix;
  uint64_t unwinding_size, eh_frame_hdr_size, mapped_size;
  // then .eh_frame + .eh_frame_hdr, padded to 8 bytes
};

// perf record -k 1 stamps samples with CLOCK_MONOTONIC: so must we.
uint64_t MonotonicNs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u +
         static_cast<uint64_t>(ts.tv_nsec);
}

bool WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void Complain(const std::string& path, const char* what) {
  std::fprintf(stderr, "tracestore: cannot %s %s: %s; perf will not name "
               "Python functions from it\n", what, path.c_str(),
               std::strerror(errno));
}

using Range = std::pair<uintptr_t, uintptr_t>;

// "start-end start-end ..." (hex); malformed parts are skipped.
std::vector<Range> ParseRanges(std::string_view text) {
  std::vector<Range> out;
  const std::string s(text);
  const char* p = s.c_str();
  while (*p != '\0') {
    char* end;
    const uintptr_t a = std::strtoull(p, &end, 16);
    if (*end != '-') break;
    const uintptr_t b = std::strtoull(end + 1, &end, 16);
    if (a < b) out.emplace_back(a, b);
    p = end;
    while (*p == ' ') ++p;
  }
  return out;
}

// This process's mappings now, sorted.
std::vector<Range> CurrentMappings() {
  std::vector<Range> out;
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    auto r = ParseRanges(line.substr(0, line.find(' ')));
    if (!r.empty()) out.push_back(r[0]);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

size_t CoverStaleMappings(std::string_view ranges) {
  const std::vector<Range> now = CurrentMappings();
  size_t covered = 0;
  for (auto [a, b] : ParseRanges(ranges)) {
    // The free parts of [a, b): between the mappings that overlap it.
    uintptr_t at = a;
    auto cover = [&](uintptr_t to) {
      if (at >= to) return;
      void* want = reinterpret_cast<void*>(at);
      void* got = ::mmap(want, to - at, PROT_READ | PROT_EXEC,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
                         -1, 0);
      if (got != MAP_FAILED) {
        ::munmap(got, to - at);  // a mere hint on kernels before 4.17
        if (got == want) covered += to - at;
      }
    };
    for (const auto& [c, d] : now) {
      if (d <= at || c >= b) continue;
      cover(c);
      at = std::max(at, d);
    }
    cover(b);
  }
  return covered;
}

PerfFiles* PerfFiles::ForThisProcess() {
  static PerfFiles* files = nullptr;
  const pid_t pid = ::getpid();
  if (files == nullptr || files->pid_ != pid) files = new PerfFiles(pid);
  return files;  // a forked child's parent files stay open: they are tiny
}

PerfFiles::PerfFiles(pid_t pid)
    : pid_(pid),
      map_path_(absl::StrCat("/tmp/perf-", pid, ".map")),
      jitdump_path_(absl::StrCat("/tmp/jit-", pid, ".dump")) {
  map_fd_ = ::open(map_path_.c_str(),
                   O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (map_fd_ < 0) Complain(map_path_, "write");
  OpenJitdump();
}

void PerfFiles::OpenJitdump() {
  jitdump_fd_ = ::open(jitdump_path_.c_str(),
                       O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (jitdump_fd_ < 0) {
    Complain(jitdump_path_, "write");
    return;
  }
  const JitHeader header = {kJitdumpMagic, 1, sizeof(JitHeader), EM_X86_64,
                            0, static_cast<uint32_t>(pid_), MonotonicNs(), 0};
  // perf inject finds the jitdump through a mapping of it in the recorded
  // mmap events: the mapping is the marker, never read through. Read-only,
  // not executable as the specification suggests: perf 6.1 then fails to
  // unwind any sample of a process that exec()ed before mapping it (as
  // `record` does), and --call-graph dwarf records data mappings anyway.
  const long page = ::sysconf(_SC_PAGESIZE);
  if (!WriteAll(jitdump_fd_, &header, sizeof(header)) ||
      ::mmap(nullptr, static_cast<size_t>(page), PROT_READ, MAP_PRIVATE,
             jitdump_fd_, 0) == MAP_FAILED) {
    Complain(jitdump_path_, "set up");
    ::close(jitdump_fd_);
    jitdump_fd_ = -1;
  }
}

void PerfFiles::Add(uintptr_t address, size_t size, std::string_view name) {
  if (map_fd_ >= 0) {
    char head[48];
    const int n = std::snprintf(head, sizeof(head), "%lx %zx ",
                                static_cast<unsigned long>(address), size);
    std::string line(head, static_cast<size_t>(n));
    line.append(name);
    line.push_back('\n');
    if (!WriteAll(map_fd_, line.data(), line.size())) {
      Complain(map_path_, "write");
      ::close(map_fd_);
      map_fd_ = -1;
    }
  }
  if (jitdump_fd_ >= 0) AddToJitdump(address, size, name);
}

void PerfFiles::AddToJitdump(uintptr_t address, size_t size,
                             std::string_view name) {
  // Every slot has the same code and unwind tables; perf inject turns each
  // load into a small ELF file with them, so each load carries its own.
  static const thunk::JitUnwindInfo unwind = thunk::JitdumpUnwindInfo();
  const uint64_t now = MonotonicNs();
  std::string record;
  JitUnwindingInfo u{};
  const size_t padded = (unwind.data.size() + 7) & ~size_t{7};
  u.prefix = {kJitCodeUnwindingInfo,
              static_cast<uint32_t>(sizeof(u) + padded), now};
  u.unwinding_size = unwind.data.size();
  u.eh_frame_hdr_size = unwind.eh_frame_hdr_bytes;
  u.mapped_size = padded;
  record.append(reinterpret_cast<const char*>(&u), sizeof(u));
  record.append(unwind.data);
  record.resize(sizeof(u) + padded, '\0');

  JitCodeLoad load{};
  load.prefix = {kJitCodeLoad,
                 static_cast<uint32_t>(sizeof(load) + name.size() + 1 + size),
                 now};
  load.pid = static_cast<uint32_t>(pid_);
  load.tid = static_cast<uint32_t>(::syscall(SYS_gettid));
  load.vma = load.code_addr = address;
  load.code_size = size;
  load.code_index = code_index_++;
  record.append(reinterpret_cast<const char*>(&load), sizeof(load));
  record.append(name);
  record.push_back('\0');
  record.append(reinterpret_cast<const char*>(address), size);
  if (!WriteAll(jitdump_fd_, record.data(), record.size())) {
    Complain(jitdump_path_, "write");
    ::close(jitdump_fd_);
    jitdump_fd_ = -1;
  }
}

}  // namespace tracestore::pyhook
