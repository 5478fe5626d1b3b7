// Output: the buffered byte stream the exporters write into, with the few
// formatting helpers they share (integers, microseconds from ns, JSON
// strings). The bytes go to a ByteSink: a file descriptor for the CLI, a
// string for tests, or anything that can fail on purpose.
//
//   FdSink sink(fd, "out.json");
//   Output out(&sink);
//   out.Append("{\"name\":");
//   out.JsonString(label);
//   out.Char('}');
//   absl::Status s = out.Finish();   // flushes; the first write error
//
// Memory: one buffer (1 MiB by default), whatever the export's size. After
// a write error every later write is dropped and Finish() returns it;
// writers check ok() now and then to stop early.
//
// Thread-safety: none.

#ifndef TRACESTORE_EXPORT_OUTPUT_H_
#define TRACESTORE_EXPORT_OUTPUT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace tracestore {

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual absl::Status Write(std::string_view bytes) = 0;
};

// Writes to a file descriptor it does not own (retries short writes).
class FdSink : public ByteSink {
 public:
  FdSink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  absl::Status Write(std::string_view bytes) override;

 private:
  int fd_;
  std::string name_;  // for error messages
};

// Appends to a string (tests, small outputs).
class StringSink : public ByteSink {
 public:
  absl::Status Write(std::string_view bytes) override {
    text_.append(bytes);
    return absl::OkStatus();
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class Output {
 public:
  explicit Output(ByteSink* sink, size_t buffer_bytes = size_t{1} << 20);
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  void Append(std::string_view s) {
    if (s.size() <= buffer_.size() - used_) {
      s.copy(buffer_.data() + used_, s.size());
      used_ += s.size();
    } else {
      AppendSlow(s);
    }
  }
  void Char(char c) {
    if (used_ == buffer_.size()) Flush();
    buffer_[used_++] = c;
  }
  // Decimal digits of v.
  void Uint(uint64_t v);
  // ns as microseconds with three decimals ("12.345"), exactly.
  void MicrosFromNs(uint64_t ns);
  // s as a JSON string literal, quotes included. Invalid UTF-8 bytes become
  // U+FFFD; '<', '>' and '&' are escaped too so the text is safe inside an
  // HTML <script> element.
  void JsonString(std::string_view s);
  // The same, as a string.
  static std::string JsonQuote(std::string_view s);

  // Hands the buffered bytes to the sink.
  void Flush();
  // Flush() and the first error seen, if any.
  absl::Status Finish();
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }
  // Bytes written so far (buffered or not).
  uint64_t bytes() const { return flushed_ + used_; }

 private:
  void AppendSlow(std::string_view s);

  ByteSink* sink_;
  std::string buffer_;
  size_t used_ = 0;
  uint64_t flushed_ = 0;
  absl::Status status_;
};

}  // namespace tracestore

#endif  // TRACESTORE_EXPORT_OUTPUT_H_
