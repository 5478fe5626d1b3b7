// Tests of the portable TraceLogging encoder: EVENT_DESCRIPTOR bytes,
// provider traits, tag bytes, event metadata and payload for every field
// type, the EventHeader metadata built beside it, the builder's limits, the
// provider-id hash (and the SHA-1 under it), GUID text, UTF-8 conversion and
// decoding. Expected bytes are derived by hand from the format
// (../shared/TRACELOGGING.md) and written out.

#include "etwbridge/tracelogging.h"

#include <string>
#include <vector>

#include "etwbridge/decode.h"
#include "gtest/gtest.h"
#include "sha1.h"
#include "test_bytes.h"
#include "utf.h"

namespace etwbridge {
namespace {

// The expected bytes keep one field per line:
// clang-format off

using testing::Bytes;
using testing::Hex;

TEST(EventDescriptorTest, PythonFunctionDescriptorIsThePublishedBytes) {
  EventDescriptor d;
  d.level = kLevelVerbose;
  d.keyword = 0x400;
  // Id 0, Version 0, Channel 11, Level 5, Opcode 0, Task 0, Keyword 0x400.
  EXPECT_EQ(Hex(d.Bytes()), "00 00 00 0b 05 00 00 00 00 04 00 00 00 00 00 00");
}

TEST(EventDescriptorTest, EveryFieldLandsInItsBytes) {
  EventDescriptor d;
  d.id = 0x0201;
  d.version = 0x03;
  d.channel = 0x04;
  d.level = 0x05;
  d.opcode = 0x06;
  d.task = 0x0807;
  d.keyword = 0x100F0E0D0C0B0A09;
  EXPECT_EQ(Hex(d.Bytes()),
            Hex({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  //
                 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10}));
}

TEST(ProviderTraitsTest, PythonIsThePublishedBytes) {
  EXPECT_EQ(Hex(EncodeProviderTraits("Python")),
            "09 00 50 79 74 68 6f 6e 00");
}

TEST(ProviderTraitsTest, GroupTraitFollowsTheName) {
  const Guid group = *Guid::Parse("4f50731a-89cf-4782-b3e0-dce8c90476ba");
  EXPECT_EQ(Hex(EncodeProviderTraits("P", &group)),
            Hex({0x17, 0x00,  // total 23 = 2 + "P\0" + 19
                 0x50, 0x00,  // "P"
                 0x13, 0x00,  // trait size 19
                 0x01,        // type 1: provider group
                 // the GUID in Windows byte order
                 0x1a, 0x73, 0x50, 0x4f, 0xcf, 0x89, 0x82, 0x47,  //
                 0xb3, 0xe0, 0xdc, 0xe8, 0xc9, 0x04, 0x76, 0xba}));
}

std::string TagHex(uint32_t tag) {
  std::vector<std::byte> out;
  AppendTagBytes(tag, &out);
  return Hex(out);
}

TEST(TagBytesTest, SevenBitsAByteHighBitsFirst) {
  EXPECT_EQ(TagHex(0), "00");
  EXPECT_EQ(TagHex(0x00200000), "01");  // bit 21: the lowest of byte one
  EXPECT_EQ(TagHex(0x0FE00000), "7f");
  EXPECT_EQ(TagHex(0x00100000), "80 40");  // bit 20: the top of byte two
  EXPECT_EQ(TagHex(0x0FFFC000), "ff 7f");
  EXPECT_EQ(TagHex(0x00004000), "80 01");
  EXPECT_EQ(TagHex(0x00000080), "80 80 01");
  EXPECT_EQ(TagHex(0x00000001), "80 80 80 01");
  EXPECT_EQ(TagHex(0x0FFFFFFF), "ff ff ff 7f");
}

TEST(EventBuilderTest, EmptyEvent) {
  EventBuilder eb;
  eb.Reset("E", kLevelInfo, 0x2, kOpcodeStop);
  EXPECT_TRUE(eb.status().ok());
  EXPECT_EQ(Hex(eb.metadata()), Hex({0x05, 0x00, 0x00, 0x45, 0x00}));
  EXPECT_EQ(Hex(eb.eventheader_metadata()), Hex({0x45, 0x00}));
  EXPECT_TRUE(eb.payload().empty());
  EXPECT_EQ(Hex(eb.descriptor().Bytes()),
            "00 00 00 0b 04 02 00 00 02 00 00 00 00 00 00 00");
}

TEST(EventBuilderTest, EventTagAndFieldTagAndOutType) {
  EventBuilder eb;
  eb.Reset("Ev", kLevelVerbose, 0x1, kOpcodeInfo, /*tag=*/0x0FE00000);
  eb.AddUInt32("a", 7, OutType::kHex);            // out-type, no tag
  eb.AddUInt32("b", 8, OutType::kDefault, 0x1);   // tag, default out-type
  eb.AddUInt32("c", 9);                           // neither
  EXPECT_TRUE(eb.status().ok());
  EXPECT_EQ(Hex(eb.metadata()),
            Hex({0x15, 0x00,              // size 21
                 0x7f,                    // event tag 0x0FE00000
                 0x45, 0x76, 0x00,        // "Ev"
                 0x61, 0x00, 0x88, 0x04,  // "a" UINT32|chain, HEX
                 0x62, 0x00, 0x88, 0x80,  // "b" UINT32|chain, default|chain
                 0x80, 0x80, 0x80, 0x01,  //     tag 0x1
                 0x63, 0x00, 0x08}));     // "c" UINT32
  // EventHeader: value32, format hex / default with a u16 tag / nothing.
  EXPECT_EQ(Hex(eb.eventheader_metadata()),
            Hex({0x45, 0x76, 0x00,              // "Ev"
                 0x61, 0x00, 0x84, 0x03,        // value32|chain, hex_int
                 0x62, 0x00, 0x84, 0x80, 0x01, 0x00,  // format 0|chain, tag 1
                 0x63, 0x00, 0x04}));           // value32
  EXPECT_EQ(Hex(eb.payload()),
            Hex({0x07, 0, 0, 0, 0x08, 0, 0, 0, 0x09, 0, 0, 0}));
  EXPECT_EQ(eb.tag(), 0x0FE00000u);
}

TEST(EventBuilderTest, EveryScalarType) {
  EventBuilder eb;
  eb.Reset("T");
  eb.AddInt8("a", -2);
  eb.AddUInt8("b", 0xFE);
  eb.AddInt16("c", -3);
  eb.AddUInt16("d", 0xBEEF);
  eb.AddInt32("e", -4);
  eb.AddUInt32("f", 0xDEADBEEF);
  eb.AddInt64("g", -5);
  eb.AddUInt64("h", 0x0102030405060708);
  eb.AddHexInt32("i", 0x11223344);
  eb.AddHexInt64("j", 0x1122334455667788);
  eb.AddPointer("k", 0x00007FF600001000);
  eb.AddFloat32("l", 1.0f);
  eb.AddFloat64("m", -2.0);
  eb.AddBool32("n", true);
  ASSERT_TRUE(eb.status().ok());
  EXPECT_EQ(eb.field_count(), 14);
  EXPECT_EQ(Hex(eb.metadata()),
            Hex({0x2f, 0x00,  // size 47 = 2 + 1 + "T\0" + 14 * 3
                 0x00,        // no tag
                 0x54, 0x00,  // "T"
                 0x61, 0x00, 0x03,   // INT8
                 0x62, 0x00, 0x04,   // UINT8
                 0x63, 0x00, 0x05,   // INT16
                 0x64, 0x00, 0x06,   // UINT16
                 0x65, 0x00, 0x07,   // INT32
                 0x66, 0x00, 0x08,   // UINT32
                 0x67, 0x00, 0x09,   // INT64
                 0x68, 0x00, 0x0a,   // UINT64
                 0x69, 0x00, 0x14,   // HEXINT32
                 0x6a, 0x00, 0x15,   // HEXINT64
                 0x6b, 0x00, 0x15,   // pointer = HEXINT64
                 0x6c, 0x00, 0x0b,   // FLOAT
                 0x6d, 0x00, 0x0c,   // DOUBLE
                 0x6e, 0x00, 0x0d}));  // BOOL32
  EXPECT_EQ(Hex(eb.eventheader_metadata()),
            Hex({0x54, 0x00,
                 0x61, 0x00, 0x82, 0x02,  // value8 signed
                 0x62, 0x00, 0x02,        // value8
                 0x63, 0x00, 0x83, 0x02,  // value16 signed
                 0x64, 0x00, 0x03,        // value16
                 0x65, 0x00, 0x84, 0x02,  // value32 signed
                 0x66, 0x00, 0x04,        // value32
                 0x67, 0x00, 0x85, 0x02,  // value64 signed
                 0x68, 0x00, 0x05,        // value64
                 0x69, 0x00, 0x84, 0x03,  // value32 hex
                 0x6a, 0x00, 0x85, 0x03,  // value64 hex
                 0x6b, 0x00, 0x85, 0x03,  // value64 hex
                 0x6c, 0x00, 0x84, 0x08,  // value32 float
                 0x6d, 0x00, 0x85, 0x08,  // value64 float
                 0x6e, 0x00, 0x84, 0x07}));  // value32 boolean
  EXPECT_EQ(Hex(eb.payload()),
            Hex({0xfe,                                            // -2
                 0xfe,                                            // 0xFE
                 0xfd, 0xff,                                      // -3
                 0xef, 0xbe,                                      // 0xBEEF
                 0xfc, 0xff, 0xff, 0xff,                          // -4
                 0xef, 0xbe, 0xad, 0xde,                          // 0xDEADBEEF
                 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // -5
                 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  //
                 0x44, 0x33, 0x22, 0x11,                          //
                 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,  //
                 0x00, 0x10, 0x00, 0x00, 0xf6, 0x7f, 0x00, 0x00,  //
                 0x00, 0x00, 0x80, 0x3f,                          // 1.0f
                 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0,  // -2.0
                 0x01, 0x00, 0x00, 0x00}));                       // true
}

TEST(EventBuilderTest, Strings) {
  EventBuilder eb;
  eb.Reset("S");
  eb.AddUnicodeString("u", "h\xC3\xA9");              // "hé" from UTF-8
  eb.AddUnicodeString("w", std::u16string(u"\u20AC"));  // "€" from UTF-16
  eb.AddAnsiString("a", "ok");                         // out-type UTF8
  eb.AddAnsiString("b", "x", OutType::kDefault);       // ANSI code page
  eb.AddUnicodeString("j", "{}", OutType::kJson);
  ASSERT_TRUE(eb.status().ok());
  EXPECT_EQ(Hex(eb.metadata()),
            Hex({0x16, 0x00, 0x00, 0x53, 0x00,  // size 22, no tag, "S"
                 0x75, 0x00, 0x01,              // UNICODESTRING
                 0x77, 0x00, 0x01,              // UNICODESTRING
                 0x61, 0x00, 0x82, 0x23,        // ANSISTRING|chain, UTF8
                 0x62, 0x00, 0x02,              // ANSISTRING
                 0x6a, 0x00, 0x81, 0x0c}));     // UNICODESTRING|chain, JSON
  EXPECT_EQ(Hex(eb.eventheader_metadata()),
            Hex({0x53, 0x00,
                 0x75, 0x00, 0x08,          // zstring_char16 (UTF by default)
                 0x77, 0x00, 0x08,          //
                 0x61, 0x00, 0x07,          // zstring_char8 (UTF by default)
                 0x62, 0x00, 0x87, 0x0a,    // zstring_char8, string8
                 0x6a, 0x00, 0x88, 0x0e}));  // zstring_char16, string_json
  EXPECT_EQ(Hex(eb.payload()),
            Hex({0x68, 0x00, 0xe9, 0x00, 0x00, 0x00,  // "hé" NUL
                 0xac, 0x20, 0x00, 0x00,              // "€" NUL
                 0x6f, 0x6b, 0x00,                    // "ok" NUL
                 0x78, 0x00,                          // "x" NUL
                 0x7b, 0x00, 0x7d, 0x00, 0x00, 0x00}));  // "{}" NUL
}

TEST(EventBuilderTest, StructMembersFollowTheStructField) {
  EventBuilder eb;
  eb.Reset("S");
  eb.AddStruct("p", 2);
  eb.AddInt32("x", 1);
  eb.AddInt32("y", 2);
  ASSERT_TRUE(eb.status().ok());
  EXPECT_EQ(Hex(eb.metadata()),
            Hex({0x0f, 0x00, 0x00, 0x53, 0x00,  // size 15, "S"
                 0x70, 0x00, 0x98, 0x02,        // STRUCT|chain, 2 members
                 0x78, 0x00, 0x07, 0x79, 0x00, 0x07}));
  EXPECT_EQ(Hex(eb.eventheader_metadata()),
            Hex({0x53, 0x00, 0x70, 0x00, 0x81, 0x02,  // struct, 2 members
                 0x78, 0x00, 0x84, 0x02, 0x79, 0x00, 0x84, 0x02}));
}

TEST(EventBuilderTest, ResetStartsOverAndKeepsNothing) {
  EventBuilder eb;
  eb.Reset("A");
  eb.AddInt32("x", 1);
  eb.Reset("B", kLevelError, 0x8);
  EXPECT_EQ(Hex(eb.metadata()), Hex({0x05, 0x00, 0x00, 0x42, 0x00}));
  EXPECT_TRUE(eb.payload().empty());
  EXPECT_EQ(eb.field_count(), 0);
  EXPECT_EQ(eb.descriptor().level, kLevelError);
  EXPECT_EQ(eb.descriptor().keyword, 0x8u);
}

TEST(EventBuilderTest, ErrorsStickUntilReset) {
  EventBuilder eb;
  eb.Reset(std::string_view("bad\0name", 8));
  EXPECT_EQ(eb.status().code(), StatusCode::kInvalidArgument);
  eb.Reset("ok", kLevelVerbose, 1, 0, /*tag=*/0x10000000);
  EXPECT_EQ(eb.status().code(), StatusCode::kInvalidArgument);

  eb.Reset("many");
  for (int i = 0; i < kMaxFields; ++i) eb.AddUInt8("f", 0);
  EXPECT_TRUE(eb.status().ok());
  eb.AddUInt8("one too many", 0);
  EXPECT_EQ(eb.status().code(), StatusCode::kResourceExhausted);
  eb.Reset("fine");
  EXPECT_TRUE(eb.status().ok());

  eb.Reset("big");
  eb.AddUnicodeString("s", std::string(40000, 'x'));  // 80,002 bytes
  EXPECT_EQ(eb.status().code(), StatusCode::kResourceExhausted);
  eb.Reset("big");
  eb.AddAnsiString("s", std::string(70000, 'x'));
  EXPECT_EQ(eb.status().code(), StatusCode::kResourceExhausted);
  eb.Reset("big");
  eb.AddUnicodeString("s", std::string(30000, 'x'));  // 60,002 bytes: fits
  EXPECT_TRUE(eb.status().ok());
  EXPECT_EQ(eb.payload().size(), 60002u);

  eb.Reset("s");
  eb.AddStruct("empty", 0);
  EXPECT_EQ(eb.status().code(), StatusCode::kInvalidArgument);
}

TEST(Sha1Test, KnownAnswers) {
  const auto hex = [](const std::string& text) {
    internal::Sha1 sha;
    sha.Update(std::span(reinterpret_cast<const uint8_t*>(text.data()),
                         text.size()));
    const std::array<uint8_t, 20> d = sha.Finish();
    return Hex(std::as_bytes(std::span(d)));
  };
  // FIPS 180 examples.
  EXPECT_EQ(hex(""), "da 39 a3 ee 5e 6b 4b 0d 32 55 bf ef 95 60 18 90 af d8 07 09");
  EXPECT_EQ(hex("abc"),
            "a9 99 3e 36 47 06 81 6a ba 3e 25 71 78 50 c2 6c 9c d0 d8 9d");
  EXPECT_EQ(hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84 98 3e 44 1c 3b d2 6e ba ae 4a a1 f9 51 29 e5 e5 46 70 f1");
  EXPECT_EQ(hex(std::string(1000000, 'a')),
            "34 aa 97 3c d4 c4 da a4 f6 1e eb 2b db ad 27 31 65 34 01 6f");
}

TEST(Sha1Test, SplitUpdatesMatchOneUpdate) {
  std::string text;
  for (int i = 0; i < 300; ++i) text.push_back(static_cast<char>(i * 7));
  internal::Sha1 whole;
  whole.Update(std::span(reinterpret_cast<const uint8_t*>(text.data()),
                         text.size()));
  internal::Sha1 parts;
  for (size_t at = 0, step = 1; at < text.size(); at += step, step += 3) {
    const size_t n = std::min(step, text.size() - at);
    parts.Update(std::span(reinterpret_cast<const uint8_t*>(text.data()) + at, n));
  }
  EXPECT_EQ(whole.Finish(), parts.Finish());
}

TEST(ProviderIdTest, PublishedValues) {
  EXPECT_EQ(ProviderIdFromName("MyProvider").ToString(),
            "b3864c38-4273-58c5-545b-8b3608343471");
  EXPECT_EQ(ProviderIdFromName("MyProviderName").ToString(),
            "b7aa4d18-240c-5f41-5852-817dbf477472");
}

TEST(ProviderIdTest, NameIsUpperCasedFirst) {
  EXPECT_EQ(ProviderIdFromName("myprovider"), ProviderIdFromName("MyProvider"));
  EXPECT_EQ(ProviderIdFromName("MYPROVIDER"), ProviderIdFromName("MyProvider"));
  // Latin-1 letters upper-case too; the version nibble is always 5.
  const Guid accented = ProviderIdFromName("caf\xC3\xA9");
  EXPECT_EQ(accented, ProviderIdFromName("CAF\xC3\x89"));
  EXPECT_EQ(accented.data3 >> 12, 5);
  // The Python provider's GUID is fixed, not the hash of "Python".
  EXPECT_NE(ProviderIdFromName("Python").ToString(),
            "99a10640-320d-4b37-9e26-c311d86da7ab");
}

TEST(GuidTest, ParseFormatAndBytes) {
  const auto g = Guid::Parse("{99A10640-320D-4B37-9E26-C311D86DA7AB}");
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->ToString(), "99a10640-320d-4b37-9e26-c311d86da7ab");
  EXPECT_EQ(g->data1, 0x99a10640u);
  EXPECT_EQ(g->data2, 0x320d);
  EXPECT_EQ(g->data3, 0x4b37);
  const std::array<uint8_t, 16> b = g->Bytes();
  EXPECT_EQ(Hex(std::as_bytes(std::span(b))),
            "40 06 a1 99 0d 32 37 4b 9e 26 c3 11 d8 6d a7 ab");
  EXPECT_EQ(Guid::FromBytes(b), *g);
  EXPECT_FALSE(Guid::Parse("99a10640-320d-4b37-9e26-c311d86da7a").has_value());
  EXPECT_FALSE(Guid::Parse("99a10640x320d-4b37-9e26-c311d86da7ab").has_value());
  EXPECT_FALSE(Guid::Parse("99a10640-320d-4b37-9e26-c311d86da7ag").has_value());
}

std::string Utf16Hex(std::string_view utf8, size_t max_units = 1000) {
  std::vector<std::byte> out(2 * std::max<size_t>(utf8.size(), 1));
  const size_t units =
      internal::Utf8ToUtf16Le(utf8, out.data(), std::min(max_units, utf8.size()));
  out.resize(2 * units);
  return Hex(out);
}

TEST(UtfTest, Utf8ToUtf16Le) {
  EXPECT_EQ(Utf16Hex("A"), "41 00");
  EXPECT_EQ(Utf16Hex("\xC3\xA9"), "e9 00");               // U+00E9
  EXPECT_EQ(Utf16Hex("\xE2\x82\xAC"), "ac 20");           // U+20AC
  EXPECT_EQ(Utf16Hex("\xF0\x9F\x98\x80"), "3d d8 00 de");  // U+1F600
  // Invalid: a stray continuation byte, an overlong '/', a surrogate, a
  // truncated sequence. One U+FFFD per bad byte.
  EXPECT_EQ(Utf16Hex("\x80"), "fd ff");
  EXPECT_EQ(Utf16Hex("\xC0\xAF"), "fd ff fd ff");
  EXPECT_EQ(Utf16Hex("\xED\xA0\x80"), "fd ff fd ff fd ff");
  EXPECT_EQ(Utf16Hex("a\xE2\x82"), "61 00 fd ff fd ff");
  // A NUL ends the string.
  EXPECT_EQ(Utf16Hex(std::string_view("ab\0cd", 5)), "61 00 62 00");
  // A cut never splits a surrogate pair.
  EXPECT_EQ(Utf16Hex("a\xF0\x9F\x98\x80", 2), "61 00");
  EXPECT_EQ(internal::Utf16ToUtf8(internal::Utf8ToUtf16("h\xC3\xA9\xF0\x9F\x98\x80")),
            "h\xC3\xA9\xF0\x9F\x98\x80");
}

TEST(DecodeTest, RoundTripsTheBuilder) {
  EventBuilder eb;
  eb.Reset("Round", kLevelVerbose, 1, 0, 0x00200000);
  eb.AddInt32("i", -7, OutType::kDefault, 0x3);
  eb.AddHexInt64("h", 0xABCDEF);
  eb.AddUnicodeString("s", "h\xC3\xA9llo");
  eb.AddAnsiString("a", "utf8");
  eb.AddFloat64("d", 2.5);
  eb.AddBool32("b", true);
  ASSERT_TRUE(eb.status().ok());
  auto ev = DecodeTraceLogging(eb.metadata(), eb.payload());
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->name, "Round");
  EXPECT_EQ(ev->tag, 0x00200000u);
  ASSERT_EQ(ev->fields.size(), 6u);
  EXPECT_EQ(ev->Find("i")->AsInt64(), -7);
  EXPECT_EQ(ev->Find("i")->tag, 0x3u);
  EXPECT_EQ(ev->Find("h")->AsUInt64(), 0xABCDEFu);
  EXPECT_EQ(ev->Find("h")->in_type, InType::kHexInt64);
  EXPECT_EQ(ev->Find("s")->AsString(), "h\xC3\xA9llo");
  EXPECT_EQ(ev->Find("a")->AsString(), "utf8");
  EXPECT_EQ(ev->Find("a")->out_type, OutType::kUtf8);
  EXPECT_EQ(std::get<double>(ev->Find("d")->value), 2.5);
  EXPECT_EQ(ev->Find("b")->AsUInt64(), 1u);
  EXPECT_EQ(ev->Find("missing"), nullptr);
}

TEST(DecodeTest, RejectsTruncatedInput) {
  EventBuilder eb;
  eb.Reset("E");
  eb.AddInt64("x", 1);
  auto payload = eb.payload();
  EXPECT_FALSE(DecodeTraceLogging(eb.metadata(), payload.first(7)).ok());
  EXPECT_FALSE(DecodeTraceLogging(eb.metadata().first(4), payload).ok());
  std::vector<std::byte> longer(payload.begin(), payload.end());
  longer.push_back(std::byte{0});
  EXPECT_FALSE(DecodeTraceLogging(eb.metadata(), longer).ok());
}

// clang-format on

}  // namespace
}  // namespace etwbridge
