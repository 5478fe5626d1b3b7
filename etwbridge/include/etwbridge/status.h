// A small Status / StatusOr for etwbridge.
//
// etwbridge is built for Windows with mingw-w64 as well as for Linux, and
// Debian's Abseil exists only for the host, so the bridge carries its own
// two-class error type instead of absl::Status. The codes use Abseil's
// numbering; etwbridge/absl_status.h converts at the edge for code that has
// Abseil (the recorder):
//
//   etwbridge::StatusOr<std::unique_ptr<etwbridge::Sink>> sink =
//       etwbridge::OpenPlatformSink("Python", etwbridge::kPythonProviderId);
//   if (!sink.ok()) return etwbridge::ToAbslStatus(sink.status());
//
// Thread-safety: plain values; const methods may be called concurrently.

#ifndef ETWBRIDGE_STATUS_H_
#define ETWBRIDGE_STATUS_H_

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace etwbridge {

// The same numbers as absl::StatusCode.
enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument = 3,
  kNotFound = 5,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
};

class Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string_view message)
      : code_(code), message_(code == StatusCode::kOk ? "" : message) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "OK", or "<CODE NAME>: <message>".
  std::string ToString() const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgumentError(std::string_view m) {
  return Status(StatusCode::kInvalidArgument, m);
}
inline Status UnavailableError(std::string_view m) {
  return Status(StatusCode::kUnavailable, m);
}
inline Status InternalError(std::string_view m) {
  return Status(StatusCode::kInternal, m);
}
inline Status ResourceExhaustedError(std::string_view m) {
  return Status(StatusCode::kResourceExhausted, m);
}
inline Status PermissionDeniedError(std::string_view m) {
  return Status(StatusCode::kPermissionDenied, m);
}
inline Status FailedPreconditionError(std::string_view m) {
  return Status(StatusCode::kFailedPrecondition, m);
}
inline Status UnimplementedError(std::string_view m) {
  return Status(StatusCode::kUnimplemented, m);
}

// A value or the error that prevented it. value() on an error aborts.
template <typename T>
class StatusOr {
 public:
  StatusOr(Status status) : rep_(std::move(status)) {  // NOLINT: implicit
    if (std::get<0>(rep_).ok()) {
      rep_ = Status(StatusCode::kInternal, "StatusOr made from an OK status");
    }
  }
  StatusOr(T value) : rep_(std::move(value)) {}  // NOLINT: implicit

  bool ok() const { return rep_.index() == 1; }
  Status status() const { return ok() ? Status() : std::get<0>(rep_); }
  T& value() & { return std::get<1>(rep_); }
  const T& value() const& { return std::get<1>(rep_); }
  T&& value() && { return std::get<1>(std::move(rep_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> rep_;
};

}  // namespace etwbridge

// Returns early from a function returning Status (or StatusOr) on error.
#define ETWBRIDGE_RETURN_IF_ERROR(expr)                 \
  do {                                                  \
    if (::etwbridge::Status etwbridge_status_ = (expr); \
        !etwbridge_status_.ok())                        \
      return etwbridge_status_;                         \
  } while (0)

#endif  // ETWBRIDGE_STATUS_H_
