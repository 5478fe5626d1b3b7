// A small JSON parser for tests: enough to check that an export is valid
// JSON (RFC 8259: no trailing commas, no bare control characters, proper
// escapes and UTF-8 from \u escapes) and to walk its structure.
//
//   Json doc;
//   std::string error;
//   ASSERT_TRUE(ParseJson(text, &doc, &error)) << error;
//   const Json* events = doc.Find("traceEvents");
//   for (const Json& e : events->items) e.Find("ph")->text ...

#ifndef TRACESTORE_TESTS_TRACESTORE_JSON_CHECK_H_
#define TRACESTORE_TESTS_TRACESTORE_JSON_CHECK_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tracestore::testing {

struct Json {
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  Type type = Type::kNull;
  bool boolean = false;
  std::string text;               // a string's value, or a number as written
  std::vector<Json> items;        // array elements, or object values
  std::vector<std::string> keys;  // object keys, parallel to items

  // The value of an object's key (the first one), or nullptr.
  const Json* Find(std::string_view key) const;
  // A number as written, as an unsigned integer (must be one).
  uint64_t Uint() const;
  double Number() const;
  // A number with up to three decimals ("12.345"), times 1000, exactly.
  uint64_t Thousandths() const;
};

// Parses the whole text (whitespace around the value only).
bool ParseJson(std::string_view text, Json* out, std::string* error);

}  // namespace tracestore::testing

#endif  // TRACESTORE_TESTS_TRACESTORE_JSON_CHECK_H_
