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

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(int fd, std::string path)
      : fd_(fd), path_(std::move(path)) {}
  ~PosixReadableFile() override { ::close(fd_); }

  absl::StatusOr<uint64_t> Size() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return ErrnoStatus(errno, "fstat", path_);
    return static_cast<uint64_t>(st.st_size);
  }

  absl::StatusOr<const std::byte*> Map(uint64_t length) override {
    void* p = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return ErrnoStatus(errno, "mmap", path_);
    return static_cast<const std::byte*>(p);
  }

  void Unmap(const std::byte* addr, uint64_t length) override {
    ::munmap(const_cast<std::byte*>(addr), length);
  }

  const std::string& path() const override { return path_; }

 private:
  int fd_;
  std::string path_;
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
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, "open", path);
    struct stat st;
    if (::fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
      ::close(fd);
      return absl::InvalidArgumentError(
          absl::StrCat(path, " is not a regular file"));
    }
    return std::make_unique<PosixReadableFile>(fd, path);
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
