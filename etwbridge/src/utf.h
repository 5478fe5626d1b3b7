// UTF-8 <-> UTF-16 conversion for the UNICODESTRING fields, and the
// one-unit-to-one-unit upper-casing used by the provider-id hash.
//
// Invalid UTF-8 (bad lead or continuation bytes, overlong forms, surrogates,
// values past U+10FFFF) becomes U+FFFD, one per offending byte; the input
// ends at its first NUL byte, as a C string would.

#ifndef ETWBRIDGE_SRC_UTF_H_
#define ETWBRIDGE_SRC_UTF_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace etwbridge::internal {

// Writes the UTF-16LE form of `utf8` to `out`, at most `max_units` code units
// (a surrogate pair is never split), and no NUL. Returns the number of units
// written. `out` needs 2 * min(max_units, utf8.size()) bytes: a UTF-8 string
// never has more UTF-16 units than bytes. If `complete` is given, it says
// whether the whole input (up to its NUL) fit.
size_t Utf8ToUtf16Le(std::string_view utf8, std::byte* out, size_t max_units,
                     bool* complete = nullptr);

// The UTF-16 form of `utf8`, native order, no NUL.
std::u16string Utf8ToUtf16(std::string_view utf8);

// The UTF-8 form of UTF-16 code units (an unpaired surrogate becomes U+FFFD).
std::string Utf16ToUtf8(std::u16string_view utf16);

// Upper-cases one UTF-16 unit the way Windows' invariant upper-casing does
// for the scripts names are written in: ASCII, Latin-1, Latin Extended-A,
// Greek, Cyrillic and the fullwidth Latin letters. Other units are returned
// unchanged (a unit whose upper case needs two units, like U+00DF, stays).
char16_t ToUpperInvariant(char16_t c);

}  // namespace etwbridge::internal

#endif  // ETWBRIDGE_SRC_UTF_H_
