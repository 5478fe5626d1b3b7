#include "fault_env.h"

#include <cerrno>

namespace tracestore::testing {

namespace {

class FaultyFile : public WritableFile {
 public:
  FaultyFile(std::unique_ptr<WritableFile> base, FaultInjectionEnv* env)
      : base_(std::move(base)), env_(env) {}

  absl::Status Allocate(uint64_t size) override {
    if (size > allocated_) {
      if (env_->fault() == FaultInjectionEnv::Fault::kAllocate &&
          !env_->Charge(size - allocated_))
        return ErrnoStatus(ENOSPC, "allocate", path());
      allocated_ = size;
    }
    return base_->Allocate(size);
  }
  absl::StatusOr<std::byte*> Map(uint64_t offset, uint64_t length) override {
    return base_->Map(offset, length);
  }
  absl::Status Populate(std::byte* addr, uint64_t length) override {
    if (env_->fault() == FaultInjectionEnv::Fault::kPopulate &&
        !env_->Charge(length))
      return ErrnoStatus(ENOSPC, "back pages of", path());
    return base_->Populate(addr, length);
  }
  void Unmap(std::byte* addr, uint64_t length) override {
    base_->Unmap(addr, length);
  }
  absl::Status Truncate(uint64_t size) override { return base_->Truncate(size); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<WritableFile> base_;
  FaultInjectionEnv* env_;
  uint64_t allocated_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<WritableFile>> FaultInjectionEnv::CreateWritable(
    const std::string& path) {
  auto file = base_->CreateWritable(path);
  if (!file.ok()) return file.status();
  return std::unique_ptr<WritableFile>(new FaultyFile(*std::move(file), this));
}

}  // namespace tracestore::testing
