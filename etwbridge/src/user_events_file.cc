// The kernel side of the user_events sink: open user_events_data, register
// and unregister tracepoints with the DIAG_IOCSREG / DIAG_IOCSUNREG ioctls,
// write events with writev. The ioctl structures are the kernel's ABI
// (include/uapi/linux/user_events.h, Linux 6.4+), declared here because
// older kernel headers, like Debian 12's, lack them.

#include "etwbridge/user_events_sink.h"

#ifdef __linux__

#include <errno.h>
#include <fcntl.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace etwbridge {
namespace {

struct user_reg {
  __u32 size;         // in: sizeof(user_reg)
  __u8 enable_bit;    // in: bit to set in the enable word
  __u8 enable_size;   // in: size of the enable word (4 or 8)
  __u16 flags;        // in
  __u64 enable_addr;  // in: address of the enable word
  __u64 name_args;    // in: "<name> <fields>"
  __u32 write_index;  // out
} __attribute__((__packed__));

struct user_unreg {
  __u32 size;
  __u8 disable_bit;
  __u8 reserved;
  __u16 reserved2;
  __u64 disable_addr;
} __attribute__((__packed__));

#define ETWBRIDGE_DIAG_IOC_MAGIC '*'
#define ETWBRIDGE_DIAG_IOCSREG \
  _IOWR(ETWBRIDGE_DIAG_IOC_MAGIC, 0, struct user_reg*)
#define ETWBRIDGE_DIAG_IOCSUNREG \
  _IOW(ETWBRIDGE_DIAG_IOC_MAGIC, 2, struct user_unreg*)

constexpr const char* kDataPaths[] = {
    "/sys/kernel/tracing/user_events_data",
    "/sys/kernel/debug/tracing/user_events_data",
};

class KernelUserEventsFile final : public UserEventsFile {
 public:
  explicit KernelUserEventsFile(int fd) : fd_(fd) {}
  ~KernelUserEventsFile() override { close(fd_); }

  int Register(const std::string& command, std::atomic<uint32_t>* enable_word,
               uint32_t* write_index) override {
    user_reg reg;
    std::memset(&reg, 0, sizeof(reg));
    reg.size = sizeof(reg);
    reg.enable_bit = 0;
    reg.enable_size = sizeof(uint32_t);
    reg.enable_addr = reinterpret_cast<uintptr_t>(enable_word);
    reg.name_args = reinterpret_cast<uintptr_t>(command.c_str());
    if (ioctl(fd_, ETWBRIDGE_DIAG_IOCSREG, &reg) < 0) return errno;
    *write_index = reg.write_index;
    return 0;
  }

  int Unregister(std::atomic<uint32_t>* enable_word) override {
    user_unreg unreg;
    std::memset(&unreg, 0, sizeof(unreg));
    unreg.size = sizeof(unreg);
    unreg.disable_bit = 0;
    unreg.disable_addr = reinterpret_cast<uintptr_t>(enable_word);
    return ioctl(fd_, ETWBRIDGE_DIAG_IOCSUNREG, &unreg) < 0 ? errno : 0;
  }

  int Write(std::span<const IoSlice> slices) override {
    iovec iov[8];
    if (slices.size() > std::size(iov)) return EINVAL;
    for (size_t i = 0; i < slices.size(); ++i) {
      iov[i].iov_base = const_cast<void*>(slices[i].data);
      iov[i].iov_len = slices[i].size;
    }
    // The kernel returns EBADF while the tracepoint has no listener; the
    // caller checks the enable word first, so this is a race, not an error
    // worth more than a count.
    return writev(fd_, iov, static_cast<int>(slices.size())) < 0 ? errno : 0;
  }

 private:
  const int fd_;
};

}  // namespace

StatusOr<std::unique_ptr<UserEventsFile>> OpenUserEventsFile() {
  for (const char* path : kDataPaths) {
    struct stat st;
    if (stat(path, &st) != 0) continue;
    const int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      return Status(
          err == EACCES || err == EPERM ? StatusCode::kPermissionDenied
                                        : StatusCode::kUnavailable,
          std::string("cannot open ") + path + ": " + std::strerror(err));
    }
    return std::unique_ptr<UserEventsFile>(new KernelUserEventsFile(fd));
  }
  return UnavailableError(
      "user_events is not available on this kernel (no "
      "/sys/kernel/tracing/user_events_data)");
}

}  // namespace etwbridge

#else  // !__linux__

namespace etwbridge {

StatusOr<std::unique_ptr<UserEventsFile>> OpenUserEventsFile() {
  return UnimplementedError("user_events exists only on Linux");
}

}  // namespace etwbridge

#endif  // __linux__
