// Tests of the generic Provider (traceloggingdynamic's Provider): event sets
// on demand, IsEnabled per level/keyword, Write of a builder's event, errors.

#include "etwbridge/provider.h"

#include <memory>

#include "etwbridge/capture_sink.h"
#include "gtest/gtest.h"
#include "test_bytes.h"

namespace etwbridge {
namespace {

using testing::Hex;

TEST(ProviderTest, WritesWhatTheBuilderBuiltWhenEnabled) {
  auto sink = std::make_unique<CaptureSink>("MyCompany.MyComponent");
  CaptureSink* capture = sink.get();
  Provider provider(std::move(sink));
  EXPECT_EQ(provider.name(), "MyCompany.MyComponent");

  EventBuilder eb;
  eb.Reset("MyEventName", kLevelVerbose, 0x21);
  eb.AddBool32("MyFieldName", true);
  EXPECT_FALSE(provider.IsEnabled(kLevelVerbose, 0x21));
  EXPECT_TRUE(provider.Write(eb).ok());  // disabled: OK, nothing written
  EXPECT_EQ(capture->size(), 0u);

  capture->Enable(kLevelVerbose, 0x1);
  EXPECT_TRUE(provider.IsEnabled(kLevelVerbose, 0x21));
  EXPECT_FALSE(provider.IsEnabled(kLevelVerbose, 0x2));
  ASSERT_TRUE(provider.Write(eb).ok());
  ASSERT_EQ(capture->size(), 1u);
  const CapturedEvent e = capture->events()[0];
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 21 00 00 00 00 00 00 00");
  // "MyCompany.MyComponent" (21 bytes) + NUL, size 24.
  EXPECT_EQ(Hex(e.traits),
            Hex({0x18, 0x00, 0x4d, 0x79, 0x43, 0x6f, 0x6d, 0x70,
                 0x61, 0x6e, 0x79, 0x2e, 0x4d, 0x79, 0x43, 0x6f,
                 0x6d, 0x70, 0x6f, 0x6e, 0x65, 0x6e, 0x74, 0x00}));
  auto decoded = e.Decode();
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->name, "MyEventName");
  EXPECT_EQ(decoded->Find("MyFieldName")->AsUInt64(), 1u);

  capture->Disable();
  EXPECT_FALSE(provider.IsEnabled(kLevelVerbose, 0x21));
}

TEST(ProviderTest, RefusesABuilderInErrorState) {
  auto sink = std::make_unique<CaptureSink>("P");
  CaptureSink* capture = sink.get();
  Provider provider(std::move(sink));
  capture->Enable();
  EventBuilder eb;
  eb.Reset("E");
  eb.AddStruct("s", 0);
  EXPECT_EQ(provider.Write(eb).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(capture->size(), 0u);
}

TEST(ProviderTest, OpenUsesTheNameHashByDefault) {
  auto provider = Provider::Open("MyProvider");
#ifdef _WIN32
  ASSERT_TRUE(provider.ok()) << provider.status().ToString();
#else
  // Linux: user_events if the kernel has it, else a one-line reason.
  if (!provider.ok()) {
    EXPECT_NE(provider.status().message().find("user_events"),
              std::string::npos);
  }
#endif
}

}  // namespace
}  // namespace etwbridge
