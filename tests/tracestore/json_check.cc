// A recursive-descent JSON parser for the export tests (json_check.h).

#include "json_check.h"

#include <cstdlib>
#include <stdexcept>

#include "absl/strings/str_cat.h"

namespace tracestore::testing {

namespace {

class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  void Document(Json* out) {
    Space();
    Value(out, 0);
    Space();
    if (i_ != s_.size()) Fail("text after the value");
  }

 private:
  [[noreturn]] void Fail(const std::string& what) {
    throw std::runtime_error(absl::StrCat(what, " at byte ", i_));
  }
  void Space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' ||
                              s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  char Peek() {
    if (i_ >= s_.size()) Fail("unexpected end");
    return s_[i_];
  }
  void Expect(std::string_view word) {
    if (s_.substr(i_, word.size()) != word)
      Fail("expected " + std::string(word));
    i_ += word.size();
  }
  void Value(Json* out, int depth) {
    if (depth > 512) Fail("nested too deep");
    const char c = Peek();
    if (c == '{') {
      out->type = Json::Type::kObject;
      ++i_;
      Space();
      if (Peek() == '}') {
        ++i_;
        return;
      }
      for (;;) {
        Space();
        if (Peek() != '"') Fail("expected a key");
        std::string key;
        String(&key);
        Space();
        Expect(":");
        Space();
        out->keys.push_back(std::move(key));
        out->items.emplace_back();
        Value(&out->items.back(), depth + 1);
        Space();
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Expect("}");
        return;
      }
    }
    if (c == '[') {
      out->type = Json::Type::kArray;
      ++i_;
      Space();
      if (Peek() == ']') {
        ++i_;
        return;
      }
      for (;;) {
        Space();
        out->items.emplace_back();
        Value(&out->items.back(), depth + 1);
        Space();
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        Expect("]");
        return;
      }
    }
    if (c == '"') {
      out->type = Json::Type::kString;
      String(&out->text);
      return;
    }
    if (c == 't') {
      Expect("true");
      out->type = Json::Type::kBool;
      out->boolean = true;
      return;
    }
    if (c == 'f') {
      Expect("false");
      out->type = Json::Type::kBool;
      return;
    }
    if (c == 'n') {
      Expect("null");
      return;
    }
    Number(out);
  }
  void Number(Json* out) {
    const size_t start = i_;
    if (Peek() == '-') ++i_;
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else {
      if (i_ >= s_.size() || s_[i_] < '1' || s_[i_] > '9') Fail("bad number");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_])))
        ++i_;
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_])))
        Fail("bad fraction");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_])))
        ++i_;
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (i_ >= s_.size() || !isdigit(static_cast<unsigned char>(s_[i_])))
        Fail("bad exponent");
      while (i_ < s_.size() && isdigit(static_cast<unsigned char>(s_[i_])))
        ++i_;
    }
    out->type = Json::Type::kNumber;
    out->text = std::string(s_.substr(start, i_ - start));
  }
  unsigned Hex4() {
    if (i_ + 4 > s_.size()) Fail("short \\u escape");
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9')
        v |= c - '0';
      else if (c >= 'a' && c <= 'f')
        v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F')
        v |= c - 'A' + 10;
      else
        Fail("bad \\u escape");
    }
    return v;
  }
  static void Utf8(unsigned cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xc0 | cp >> 6);
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xe0 | cp >> 12);
      *out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      *out += static_cast<char>(0xf0 | cp >> 18);
      *out += static_cast<char>(0x80 | (cp >> 12 & 0x3f));
      *out += static_cast<char>(0x80 | (cp >> 6 & 0x3f));
      *out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }
  void String(std::string* out) {
    Expect("\"");
    for (;;) {
      const char c = Peek();
      ++i_;
      if (c == '"') return;
      if (static_cast<unsigned char>(c) < 0x20)
        Fail("control character in a string");
      if (c != '\\') {
        *out += c;
        continue;
      }
      const char e = Peek();
      ++i_;
      switch (e) {
        case '"':
          *out += '"';
          break;
        case '\\':
          *out += '\\';
          break;
        case '/':
          *out += '/';
          break;
        case 'b':
          *out += '\b';
          break;
        case 'f':
          *out += '\f';
          break;
        case 'n':
          *out += '\n';
          break;
        case 'r':
          *out += '\r';
          break;
        case 't':
          *out += '\t';
          break;
        case 'u': {
          unsigned cp = Hex4();
          if (cp >= 0xd800 && cp < 0xdc00) {
            Expect("\\u");
            const unsigned low = Hex4();
            if (low < 0xdc00 || low > 0xdfff) Fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            Fail("lone low surrogate");
          }
          Utf8(cp, out);
          break;
        }
        default:
          Fail("bad escape");
      }
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

const Json* Json::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

uint64_t Json::Uint() const {
  if (type != Type::kNumber || text.empty() ||
      text.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error("not an unsigned integer: " + text);
  return std::strtoull(text.c_str(), nullptr, 10);
}

double Json::Number() const { return std::strtod(text.c_str(), nullptr); }

uint64_t Json::Thousandths() const {
  const size_t dot = text.find('.');
  if (dot == std::string::npos) return Uint() * 1000;
  std::string whole = text.substr(0, dot), frac = text.substr(dot + 1);
  if (frac.size() > 3)
    throw std::runtime_error("more than 3 decimals: " + text);
  frac.resize(3, '0');
  return std::strtoull(whole.c_str(), nullptr, 10) * 1000 +
         std::strtoull(frac.c_str(), nullptr, 10);
}

bool ParseJson(std::string_view text, Json* out, std::string* error) {
  try {
    Parser(text).Document(out);
    return true;
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
}

}  // namespace tracestore::testing
