// FaultInjectionEnv: wraps an Env and makes its disk "fill up" after a byte
// budget, through either of the two ways a real full disk shows: fallocate
// failing with ENOSPC, or pages of a mapping that cannot be backed.

#ifndef TRACESTORE_TESTS_FAULT_ENV_H_
#define TRACESTORE_TESTS_FAULT_ENV_H_

#include <atomic>
#include <memory>
#include <string>

#include "tracestore/env.h"

namespace tracestore::testing {

class FaultInjectionEnv : public Env {
 public:
  enum class Fault { kAllocate, kPopulate };
  FaultInjectionEnv(Env* base, uint64_t budget_bytes, Fault fault)
      : base_(base), budget_(budget_bytes), fault_(fault) {}

  absl::Status CreateDir(const std::string& p) override {
    return base_->CreateDir(p);
  }
  absl::StatusOr<std::unique_ptr<WritableFile>> CreateWritable(
      const std::string& path) override;
  absl::StatusOr<std::unique_ptr<ReadableFile>> OpenReadable(
      const std::string& p) override {
    return base_->OpenReadable(p);
  }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  absl::Status Rename(const std::string& a, const std::string& b) override {
    return base_->Rename(a, b);
  }
  absl::Status RemoveDir(const std::string& p) override {
    return base_->RemoveDir(p);
  }
  absl::StatusOr<std::vector<std::string>> ListDir(
      const std::string& p) override {
    return base_->ListDir(p);
  }

  // Charges `bytes` against the budget; false once it is spent.
  bool Charge(uint64_t bytes) {
    return used_.fetch_add(bytes) + bytes <= budget_;
  }
  Fault fault() const { return fault_; }

 private:
  Env* base_;
  const uint64_t budget_;
  const Fault fault_;
  std::atomic<uint64_t> used_{0};
};

}  // namespace tracestore::testing

#endif  // TRACESTORE_TESTS_FAULT_ENV_H_
