// DecodeTrace / EncodeTrace: see fuzz_trace.h for the format.

#include "fuzz_trace.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tracestore/format.h"
#include "tracestore/store_paths.h"

namespace tracestore::fuzz {

namespace {

constexpr uint32_t kMaxEventStores = 16;
constexpr uint32_t kFileIds = 7 + kMaxEventStores;
constexpr uint32_t kStoreFieldBytes = 176;
constexpr uint32_t kHeaderFieldBytes = 96;
constexpr uint64_t kMaxSize = uint64_t{1} << 20;

std::string FileName(uint32_t id) {
  switch (id) {
    case 0: return kTraceHeaderFile;
    case 1: return kFunctionsFile;
    case 2: return kStringsFile;
    case 3: return kStringBytesFile;
    case 4: return kThreadsFile;
    case 5: return kMarksFile;
    case 6: return kCodeRangesFile;
    default: return EventsFileName(id - 7);
  }
}

void WriteWhole(const std::string& path, const std::string& bytes) {
  ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void EmptyDir(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, ".."))
      names.push_back(e->d_name);
  ::closedir(d);
  for (const auto& n : names) ::unlink((dir + "/" + n).c_str());
}

void PutEntry(std::string& out, uint32_t file, uint8_t mode,
              const std::string& bytes) {
  out.push_back(static_cast<char>(file));
  out.push_back(static_cast<char>(mode));
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  out += bytes;
}

}  // namespace

const std::string& ScratchTrace() {
  static const std::string* path = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string base = absl::StrCat(tmp && *tmp ? tmp : "/tmp",
                                    "/tsfuzz.", ::getpid());
    ::mkdir(base.c_str(), 0755);
    auto* p = new std::string(base + "/t.trace");
    ::mkdir(p->c_str(), 0755);
    // Removed at exit (a fuzzer run ends with exit()).
    std::atexit([] {
      EmptyDir(ScratchTrace());
      ::rmdir(ScratchTrace().c_str());
      const std::string& t = ScratchTrace();
      ::rmdir(t.substr(0, t.rfind('/')).c_str());
    });
    return p;
  }();
  return *path;
}

void DecodeTrace(const uint8_t* data, size_t size) {
  const std::string& dir = ScratchTrace();
  EmptyDir(dir);
  size_t at = 0;
  while (size - at >= 6) {
    const uint32_t file = data[at] % kFileIds;
    const uint8_t mode = data[at + 1] % 5;
    uint32_t length;
    std::memcpy(&length, data + at + 2, 4);
    at += 6;
    if (length > size - at) length = static_cast<uint32_t>(size - at);
    const std::string bytes(reinterpret_cast<const char*>(data + at), length);
    at += length;
    const std::string path = dir + "/" + FileName(file);
    switch (mode) {
      case 0:
        WriteWhole(path, bytes);
        break;
      case 1: {
        std::string f(format::kStoreHeaderBytes, '\0');
        std::memcpy(f.data(), bytes.data(),
                    std::min<size_t>(bytes.size(), kStoreFieldBytes));
        size_t rest = std::min<size_t>(bytes.size(), kStoreFieldBytes);
        uint16_t n = 0;
        if (bytes.size() >= rest + 2) {
          std::memcpy(&n, bytes.data() + rest, 2);
          rest += 2;
        }
        const size_t sums = std::min<size_t>(
            {size_t{n} * 8, bytes.size() - rest,
             size_t{format::kMaxSealedChunks} * 8});
        std::memcpy(f.data() + format::kStoreFieldsBytes, bytes.data() + rest,
                    sums);
        rest += sums;
        f.append(bytes, rest, std::string::npos);
        WriteWhole(path, f);
        break;
      }
      case 2: {
        std::string f(format::kTraceFileBytes, '\0');
        std::memcpy(f.data(), bytes.data(),
                    std::min<size_t>(bytes.size(), kHeaderFieldBytes));
        if (bytes.size() > kHeaderFieldBytes)
          std::memcpy(f.data() + format::kTraceHeaderBytes,
                      bytes.data() + kHeaderFieldBytes,
                      std::min<size_t>(bytes.size() - kHeaderFieldBytes,
                                       format::kMaxPropertiesBytes));
        WriteWhole(path, f);
        break;
      }
      case 3: {
        uint32_t to = 0;
        std::memcpy(&to, bytes.data(), std::min<size_t>(bytes.size(), 4));
        struct stat st;
        if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode))
          (void)::truncate(path.c_str(), std::min<uint64_t>(to, kMaxSize));
        break;
      }
      case 4:
        ::unlink(path.c_str());
        ::mkfifo(path.c_str(), 0644);
        break;
    }
  }
}

std::string EncodeTrace(const std::string& dir) {
  std::string out;
  for (uint32_t id = 0; id < kFileIds; ++id) {
    const std::string path = dir + "/" + FileName(id);
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) continue;
    const std::string f = ReadWhole(path);
    if (id == 0) {
      if (f.size() != format::kTraceFileBytes) {
        PutEntry(out, id, 0, f);
        continue;
      }
      format::TraceHeader h;
      std::memcpy(&h, f.data(), sizeof(h));
      std::string bytes = f.substr(0, kHeaderFieldBytes);
      bytes += f.substr(format::kTraceHeaderBytes,
                        std::min<size_t>(h.properties_bytes,
                                         format::kMaxPropertiesBytes));
      PutEntry(out, id, 2, bytes);
      continue;
    }
    if (f.size() < format::kStoreHeaderBytes) {
      PutEntry(out, id, 0, f);
      continue;
    }
    std::string bytes = f.substr(0, kStoreFieldBytes);
    uint16_t n = 0;  // checksums up to the last non-zero one
    for (uint32_t c = 0; c < format::kMaxSealedChunks && c < 65535; ++c) {
      uint64_t v;
      std::memcpy(&v, f.data() + format::kStoreFieldsBytes + c * 8, 8);
      if (v != 0) n = static_cast<uint16_t>(c + 1);
    }
    bytes.append(reinterpret_cast<const char*>(&n), 2);
    bytes += f.substr(format::kStoreFieldsBytes, size_t{n} * 8);
    // Records up to the committed count: a live store's file runs on into
    // space allocated ahead, which readers never look at.
    format::StoreHeader h;
    std::memcpy(&h, f.data(), kStoreFieldBytes);
    const uint64_t records = f.size() - format::kStoreHeaderBytes;
    const uint64_t committed =
        h.record_bytes == 0 || h.committed > records / h.record_bytes
            ? records
            : h.committed * h.record_bytes;
    bytes += f.substr(format::kStoreHeaderBytes, committed);
    PutEntry(out, id, 1, bytes);
  }
  return out;
}

}  // namespace tracestore::fuzz
