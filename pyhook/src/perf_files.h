// PerfFiles: names the stack-mode slots for Linux perf, in the two files
// perf reads for code it cannot find in an ELF file:
//
//   /tmp/perf-<pid>.map   "<start> <size> <name>" lines; enough for
//                         perf report/script to name a slot, and for
//                         frame-pointer call graphs (perf record -g) where
//                         the interpreter keeps frame pointers.
//   /tmp/jit-<pid>.dump   the jitdump format: each slot's code and its
//                         unwind tables, so that `perf record -k 1
//                         --call-graph dwarf` + `perf inject --jit` unwind
//                         through the slots even when the interpreter was
//                         built without frame pointers.
//
//   PerfFiles* perf = PerfFiles::ForThisProcess();
//   perf->Add(slot_address, thunk::kSlotBytes, "py::main:app.py");
//
// Names follow CPython's -X perf: "py::<qualname>:<file>".
//
// Thread-safety: call with the GIL held. A forked child gets files of its
// own on first use.

#ifndef TRACESTORE_PYHOOK_PERF_FILES_H_
#define TRACESTORE_PYHOOK_PERF_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tracestore::pyhook {

class PerfFiles {
 public:
  // The files of the calling process, opened on first use. Never nullptr;
  // a file that cannot be written is reported once on stderr and skipped.
  static PerfFiles* ForThisProcess();

  void Add(uintptr_t address, size_t size, std::string_view name);

  const std::string& map_path() const { return map_path_; }
  const std::string& jitdump_path() const { return jitdump_path_; }

 private:
  explicit PerfFiles(pid_t pid);
  void OpenJitdump();
  void AddToJitdump(uintptr_t address, size_t size, std::string_view name);

  pid_t pid_;
  std::string map_path_, jitdump_path_;
  int map_fd_ = -1;
  int jitdump_fd_ = -1;
  uint64_t code_index_ = 0;
};

// Works around perf (6.1, at least) keeping a process's mappings from
// before an exec(): unwinding with --call-graph dwarf takes the lowest
// mapping of a library as its load address, so when the program that
// `record` exec()s maps libpython (or any library the recording process
// had) higher than before, no sample of it unwinds. `ranges` are the
// pre-exec file mappings, "start-end" in hex separated by spaces; each part
// of them that is free now is mapped anonymously (perf sees the mapping and
// drops the stale one) and unmapped at once. Returns the number of bytes
// so covered.
size_t CoverStaleMappings(std::string_view ranges);

}  // namespace tracestore::pyhook

#endif  // TRACESTORE_PYHOOK_PERF_FILES_H_
