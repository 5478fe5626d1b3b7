// POSIX implementation of Env: open/fallocate/mmap/madvise.

#include "tracestore/env.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/str_cat.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

namespace tracestore {

absl::Status ErrnoStatus(int err, const std::string& what,
                         const std::string& path) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(msg);
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
    case ENOTEMPTY:
      return absl::AlreadyExistsError(msg);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(msg);
    default:
      return absl::InternalError(msg);
  }
}

namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(int fd, std::string path)
      : fd_(fd), path_(std::move(path)) {}
  ~PosixWritableFile() override { ::close(fd_); }

  absl::Status Allocate(uint64_t size) override {
    int rc = ::posix_fallocate(fd_, 0, static_cast<off_t>(size));
    if (rc == EOPNOTSUPP || rc == EINVAL) {
      // No fallocate here: extend the file; Populate() reports pages that
      // cannot be backed.
      struct stat st;
      if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path_);
      if (static_cast<uint64_t>(st.st_size) >= size) return absl::OkStatus();
      if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
        return ErrnoStatus(errno, "extend", path_);
      return absl::OkStatus();
    }
    if (rc != 0) return ErrnoStatus(rc, "allocate", path_);
    return absl::OkStatus();
  }

  absl::StatusOr<std::byte*> Map(uint64_t offset, uint64_t length) override {
    void* p = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd_,
                     static_cast<off_t>(offset));
    if (p == MAP_FAILED) return ErrnoStatus(errno, "mmap", path_);
    return static_cast<std::byte*>(p);
  }

  absl::Status Populate(std::byte* addr, uint64_t length) override {
    if (::madvise(addr, length, MADV_POPULATE_WRITE) == 0)
      return absl::OkStatus();
    int err = errno;
    if (err == EINVAL) {
      // Kernel older than 5.14: touch each page. Space was reserved by
      // Allocate(), so this cannot raise SIGBUS on file systems that
      // implement fallocate.
      const long page = ::sysconf(_SC_PAGESIZE);
      for (uint64_t off = 0; off < length; off += page) {
        volatile std::byte* b = addr + off;
        *b = *b;
      }
      return absl::OkStatus();
    }
    if (err == EFAULT || err == ENOMEM)
      return ErrnoStatus(ENOSPC, "back pages of", path_);
    return ErrnoStatus(err, "populate", path_);
  }

  void Unmap(std::byte* addr, uint64_t length) override {
    ::munmap(addr, length);
  }

  absl::Status Truncate(uint64_t size) override {
    if (::ftruncate(fd_, static_cast<off_t>(size)) != 0)
      return ErrnoStatus(errno, "truncate", path_);
    return absl::OkStatus();
  }

  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
};

// Opens `path` for reading only if it is a regular file, without ever
// opening anything else: a FIFO would block open() forever, a device node
// may have side effects on open. So: lstat first (a symlink, FIFO, device
// or directory is refused before any open), then open with O_NONBLOCK and
// O_NOFOLLOW (a FIFO swapped in meanwhile does not block, a symlink fails),
// then fstat and compare with the lstat (the same regular file, or refuse).
// Returns the descriptor; *st holds its stat.
absl::StatusOr<int> OpenRegularFile(const std::string& path,
                                    struct stat* st) {
  if (path.find('\0') != std::string::npos)
    return absl::InvalidArgumentError(
        absl::StrCat("the path contains a NUL byte: ", path));
  struct stat before;
  if (::lstat(path.c_str(), &before) != 0)
    return ErrnoStatus(errno, "open", path);
  if (!S_ISREG(before.st_mode))
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file"));
  int fd = ::open(path.c_str(),
                  O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY);
  if (fd < 0) {
    if (errno == ELOOP)
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is not a regular file"));
    return ErrnoStatus(errno, "open", path);
  }
  if (::fstat(fd, st) != 0) {
    absl::Status s = ErrnoStatus(errno, "fstat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st->st_mode) || st->st_dev != before.st_dev ||
      st->st_ino != before.st_ino) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not a regular file (it changed while opened)"));
  }
  return fd;
}

// Holds no descriptor between calls: Map() opens the file (the same file:
// device and inode are checked), maps it and closes it again, and Size()
// stats the path. A reader's open descriptors therefore do not grow with the
// number of stores it maps (thousands, for a trace of thousands of threads).
class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, const struct stat& st)
      : path_(std::move(path)), dev_(st.st_dev), ino_(st.st_ino) {}

  absl::StatusOr<uint64_t> Size() override {
    struct stat st;
    if (::lstat(path_.c_str(), &st) != 0)
      return ErrnoStatus(errno, "stat", path_);
    TS_RETURN_IF_ERROR(Same(st));
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<const std::byte*> Map(uint64_t length) override {
    struct stat st;
    auto fd = OpenRegularFile(path_, &st);
    if (!fd.ok()) return fd.status();
    absl::Status same = Same(st);
    void* p = same.ok()
                  ? ::mmap(nullptr, length, PROT_READ, MAP_SHARED, *fd, 0)
                  : MAP_FAILED;
    const int err = errno;
    ::close(*fd);
    if (!same.ok()) return same;
    if (p == MAP_FAILED) return ErrnoStatus(err, "mmap", path_);
    return static_cast<const std::byte*>(p);
  }

  void Unmap(const std::byte* addr, uint64_t length) override {
    ::munmap(const_cast<std::byte*>(addr), length);
  }

  const std::string& path() const override { return path_; }

 private:
  absl::Status Same(const struct stat& st) const {
    if (S_ISREG(st.st_mode) && st.st_dev == dev_ && st.st_ino == ino_)
      return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " was replaced while being read"));
  }

  std::string path_;
  dev_t dev_;
  ino_t ino_;
};

class PosixEnv final : public Env {
 public:
  absl::Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0777) == 0) return absl::OkStatus();
    int err = errno;
    if (err != EEXIST) return ErrnoStatus(err, "create directory", path);
    auto entries = ListDir(path);
    if (!entries.ok()) return entries.status();
    if (!entries->empty())
      return absl::AlreadyExistsError(
          absl::StrCat(path, " already exists and is not empty"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<WritableFile>> CreateWritable(
      const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) return ErrnoStatus(errno, "create", path);
    return std::make_unique<PosixWritableFile>(fd, path);
  }

  absl::StatusOr<std::unique_ptr<ReadableFile>> OpenReadable(
      const std::string& path) override {
    struct stat st;
    auto fd = OpenRegularFile(path, &st);
    if (!fd.ok()) return fd.status();
    ::close(*fd);  // Map() opens it again; see PosixReadableFile
    return std::make_unique<PosixReadableFile>(path, st);
  }

  bool FileExists(const std::string& path) override {
    return ::access(path.c_str(), F_OK) == 0;
  }

  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0)
      return ErrnoStatus(errno, "rename to", to);
    return absl::OkStatus();
  }

  absl::Status RemoveDir(const std::string& path) override {
    auto names = ListDir(path);
    if (!names.ok()) return names.status();
    for (const auto& name : *names) ::unlink((path + "/" + name).c_str());
    if (::rmdir(path.c_str()) != 0) return ErrnoStatus(errno, "remove", path);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return ErrnoStatus(errno, "open directory", path);
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(dir)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
        continue;
      names.emplace_back(e->d_name);
    }
    ::closedir(dir);
    return names;
  }
};

}  // namespace

Env* Env::Default() {
  static Env* env = new PosixEnv();
  return env;
}

}  // namespace tracestore
