// Output: buffered writes and the formatting the exporters share.

#include "tracestore/export/output.h"

#include <unistd.h>

#include <cerrno>

#include "tracestore/env.h"

namespace tracestore {

absl::Status FdSink::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", name_);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

Output::Output(ByteSink* sink, size_t buffer_bytes)
    : sink_(sink), buffer_(buffer_bytes < 64 ? 64 : buffer_bytes, '\0') {}

void Output::AppendSlow(std::string_view s) {
  while (!s.empty()) {
    if (used_ == buffer_.size()) Flush();
    const size_t n = std::min(s.size(), buffer_.size() - used_);
    s.copy(buffer_.data() + used_, n);
    used_ += n;
    s.remove_prefix(n);
  }
}

void Output::Flush() {
  if (used_ == 0) return;
  if (status_.ok())
    status_ = sink_->Write(std::string_view(buffer_.data(), used_));
  flushed_ += used_;
  used_ = 0;
}

absl::Status Output::Finish() {
  Flush();
  return status_;
}

void Output::Uint(uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  if (buffer_.size() - used_ < 20) Flush();
  while (n > 0) buffer_[used_++] = digits[--n];
}

void Output::MicrosFromNs(uint64_t ns) {
  Uint(ns / 1000);
  const auto frac = static_cast<unsigned>(ns % 1000);
  const char text[4] = {'.', static_cast<char>('0' + frac / 100),
                        static_cast<char>('0' + frac / 10 % 10),
                        static_cast<char>('0' + frac % 10)};
  Append(std::string_view(text, 4));
}

namespace {

// Length of the valid UTF-8 sequence at s[i], 0 if invalid.
size_t Utf8Length(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    n = 2;
    min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3;
    min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4;
    min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7f >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

}  // namespace

void Output::JsonString(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  Char('"');
  size_t plain = 0;  // start of the run of bytes copied as they are
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool special = c < 0x20 || c == '"' || c == '\\' || c == '<' ||
                         c == '>' || c == '&' || c >= 0x80;
    if (!special) {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      const size_t n = Utf8Length(s, i);
      if (n != 0) {
        i += n;
        continue;
      }
    }
    Append(s.substr(plain, i - plain));
    switch (c) {
      case '"':
        Append("\\\"");
        break;
      case '\\':
        Append("\\\\");
        break;
      case '\n':
        Append("\\n");
        break;
      case '\t':
        Append("\\t");
        break;
      case '\r':
        Append("\\r");
        break;
      default:
        if (c >= 0x80) {
          Append("\\ufffd");
        } else {
          const char esc[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
          Append(std::string_view(esc, 6));
        }
        break;
    }
    plain = ++i;
  }
  Append(s.substr(plain));
  Char('"');
}

std::string Output::JsonQuote(std::string_view s) {
  StringSink sink;
  Output out(&sink, 256);
  out.JsonString(s);
  out.Flush();
  return sink.text();
}

}  // namespace tracestore
