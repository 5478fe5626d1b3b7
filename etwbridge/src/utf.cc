// UTF-8 decoding per RFC 3629 (table 3-7 of the Unicode standard), UTF-16
// encoding per RFC 2781, and a small upper-casing table.

#include "utf.h"

namespace etwbridge::internal {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Decodes the code point at utf8[*pos], advancing *pos. Returns U+FFFD (and
// advances one byte) on an invalid sequence.
char32_t DecodeOne(std::string_view utf8, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<uint8_t>(utf8[i]); };
  const size_t i = *pos;
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    *pos = i + 1;
    return b0;
  }
  size_t len;
  char32_t cp;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    *pos = i + 1;
    return kReplacement;
  }
  if (i + len > utf8.size()) {
    *pos = i + 1;
    return kReplacement;
  }
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(i + k);
    const uint8_t min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      *pos = i + 1;
      return kReplacement;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *pos = i + len;
  return cp;
}

}  // namespace

size_t Utf8ToUtf16Le(std::string_view utf8, std::byte* out, size_t max_units,
                     bool* complete) {
  size_t units = 0;
  size_t pos = 0;
  const auto put = [&](char16_t u) {
    out[2 * units] = static_cast<std::byte>(u & 0xFF);
    out[2 * units + 1] = static_cast<std::byte>(u >> 8);
    ++units;
  };
  while (pos < utf8.size() && utf8[pos] != '\0') {
    // ASCII runs are the common case: no decoding.
    const uint8_t b = static_cast<uint8_t>(utf8[pos]);
    if (b < 0x80) {
      if (units == max_units) break;
      put(b);
      ++pos;
      continue;
    }
    const char32_t cp = DecodeOne(utf8, &pos);
    if (cp >= 0x10000) {
      if (units + 2 > max_units) break;
      const char32_t v = cp - 0x10000;
      put(static_cast<char16_t>(0xD800 + (v >> 10)));
      put(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      if (units == max_units) break;
      put(static_cast<char16_t>(cp));
    }
  }
  if (complete != nullptr) {
    *complete = pos >= utf8.size() || utf8[pos] == '\0';
  }
  return units;
}

std::u16string Utf8ToUtf16(std::string_view utf8) {
  std::u16string out;
  size_t pos = 0;
  while (pos < utf8.size() && utf8[pos] != '\0') {
    const char32_t cp = DecodeOne(utf8, &pos);
    if (cp >= 0x10000) {
      const char32_t v = cp - 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (v >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (v & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

std::string Utf16ToUtf8(std::u16string_view utf16) {
  std::string out;
  for (size_t i = 0; i < utf16.size(); ++i) {
    char32_t cp = utf16[i];
    if (cp >= 0xD800 && cp <= 0xDBFF && i + 1 < utf16.size() &&
        utf16[i + 1] >= 0xDC00 && utf16[i + 1] <= 0xDFFF) {
      cp = 0x10000 + ((cp - 0xD800) << 10) + (utf16[i + 1] - 0xDC00);
      ++i;
    } else if (cp >= 0xD800 && cp <= 0xDFFF) {
      cp = kReplacement;
    }
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

char16_t ToUpperInvariant(char16_t c) {
  if (c < 0x80) return (c >= u'a' && c <= u'z') ? c - 0x20 : c;
  // Latin-1: U+00E0..U+00FE except U+00F7 (division sign); U+00FF -> U+0178;
  // U+00B5 (micro) -> U+039C.
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 0x20;
  if (c == 0xFF) return 0x178;
  if (c == 0xB5) return 0x39C;
  // Latin Extended-A: capital/small pairs, capital at the even code point in
  // U+0100..U+0137 and U+014A..U+0177, at the odd one in U+0139..U+0148 and
  // U+0179..U+017E; U+017F (long s) -> 'S'. U+0131 (dotless i) -> 'I'.
  if (c == 0x131) return u'I';
  if ((c >= 0x100 && c <= 0x137) || (c >= 0x14A && c <= 0x177)) {
    return (c & 1) ? c - 1 : c;
  }
  if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E)) {
    return (c & 1) ? c : c - 1;
  }
  if (c == 0x17F) return u'S';
  // Greek: U+03B1..U+03C9 -> U+0391..U+03A9 (final sigma U+03C2 -> U+03A3),
  // accented U+03AC -> U+0386, U+03AD..U+03AF -> U+0388..U+038A,
  // U+03CC -> U+038C, U+03CD..U+03CE -> U+038E..U+038F,
  // U+03CA..U+03CB -> U+03AA..U+03AB.
  if (c >= 0x3B1 && c <= 0x3C9) return c == 0x3C2 ? 0x3A3 : c - 0x20;
  if (c == 0x3AC) return 0x386;
  if (c >= 0x3AD && c <= 0x3AF) return c - 0x25;
  if (c == 0x3CC) return 0x38C;
  if (c >= 0x3CD && c <= 0x3CE) return c - 0x3F;
  if (c >= 0x3CA && c <= 0x3CB) return c - 0x20;
  // Cyrillic: U+0430..U+044F -> U+0410..U+042F, U+0450..U+045F ->
  // U+0400..U+040F, pairs in U+0460..U+0481 and U+048A..U+04BF (capital even).
  if (c >= 0x430 && c <= 0x44F) return c - 0x20;
  if (c >= 0x450 && c <= 0x45F) return c - 0x50;
  if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF)) {
    return (c & 1) ? c - 1 : c;
  }
  // Fullwidth Latin small letters U+FF41..U+FF5A -> U+FF21..U+FF3A.
  if (c >= 0xFF41 && c <= 0xFF5A) return c - 0x20;
  return c;
}

}  // namespace etwbridge::internal
