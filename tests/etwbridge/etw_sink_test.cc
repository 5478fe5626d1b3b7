// Tests of the ETW sink, built for Windows (mingw-w64) and run under wine.
// Wine's ETW accepts registrations and writes but records nothing, so the
// tests replace EventWriteTransfer and EventSetInformation through the
// sink's seams and compare what the sink handed them: the traits given to
// EventSetInformation(EventProviderSetTraits), and for each event the
// EVENT_DESCRIPTOR and the data descriptors (0 = traits, type 2;
// 1 = metadata, type 1; 2 = payload, type 0) with their bytes. Sessions are
// played by calling the enable callback's handler.

#include "etwbridge/etw_sink.h"

#include <memory>
#include <string>
#include <vector>

#include "etwbridge/python_events.h"
#include "gtest/gtest.h"
#include "test_bytes.h"

namespace etwbridge {
namespace {

// The expected bytes keep one field per line:
// clang-format off

using testing::Hex;

struct WriteCall {
  uint64_t reg_handle;
  EventDescriptor descriptor;
  bool activity_ids;
  std::vector<EtwDataDescriptor> data;
  std::vector<std::vector<std::byte>> blobs;  // the bytes each one points at
};
std::vector<WriteCall> g_writes;

struct SetInformationCall {
  uint64_t reg_handle;
  uint32_t information_class;
  std::vector<std::byte> bytes;
};
std::vector<SetInformationCall> g_set_information;

uint32_t CaptureWrite(uint64_t reg_handle, const EventDescriptor* descriptor,
                      const Guid* activity_id, const Guid* related_id,
                      uint32_t count, EtwDataDescriptor* data) {
  WriteCall call{reg_handle, *descriptor,
                 activity_id != nullptr || related_id != nullptr, {}, {}};
  for (uint32_t i = 0; i < count; ++i) {
    call.data.push_back(data[i]);
    const auto* p = reinterpret_cast<const std::byte*>(
        static_cast<uintptr_t>(data[i].ptr));
    call.blobs.emplace_back(p, p + data[i].size);
  }
  g_writes.push_back(std::move(call));
  return 0;
}

uint32_t CaptureSetInformation(uint64_t reg_handle, uint32_t information_class,
                               const void* information, uint32_t size) {
  const auto* p = static_cast<const std::byte*>(information);
  g_set_information.push_back(
      {reg_handle, information_class, std::vector<std::byte>(p, p + size)});
  return 0;
}

class EtwSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_writes.clear();
    g_set_information.clear();
    SetEtwWriteTransferForTesting(&CaptureWrite);
    SetEtwSetInformationForTesting(&CaptureSetInformation);
    auto sink = EtwSink::Open(kPythonProviderName, kPythonProviderId);
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    etw_ = sink->get();
    auto events = PythonEvents::Create(std::move(*sink));
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(*events);
  }
  void TearDown() override {
    events_.reset();
    SetEtwWriteTransferForTesting(nullptr);
    SetEtwSetInformationForTesting(nullptr);
  }

  // A session at level 5, every keyword.
  void SessionEnables() { etw_->HandleEnableCallback(1, 5, ~0ull, 0); }

  EtwSink* etw_ = nullptr;
  std::unique_ptr<PythonEvents> events_;
};

TEST_F(EtwSinkTest, RegistersWithTheFixedGuidAndSetsTraits) {
  EXPECT_EQ(etw_->id().ToString(), "99a10640-320d-4b37-9e26-c311d86da7ab");
  ASSERT_EQ(g_set_information.size(), 1u);
  EXPECT_EQ(g_set_information[0].reg_handle, etw_->reg_handle());
  EXPECT_EQ(g_set_information[0].information_class, 2u);  // SetTraits
  EXPECT_EQ(Hex(g_set_information[0].bytes), "09 00 50 79 74 68 6f 6e 00");
}

TEST_F(EtwSinkTest, NothingReachesEtwUntilASessionEnables) {
  EXPECT_FALSE(events_->Push(1, 0, 0));
  EXPECT_FALSE(events_->ThreadStart(1));
  EXPECT_TRUE(g_writes.empty());
}

TEST_F(EtwSinkTest, PushDescriptors) {
  SessionEnables();
  ASSERT_TRUE(events_->Push(5, 3, 17));
  ASSERT_EQ(g_writes.size(), 1u);
  const WriteCall& w = g_writes[0];
  EXPECT_EQ(w.reg_handle, etw_->reg_handle());
  EXPECT_FALSE(w.activity_ids);
  EXPECT_EQ(Hex(w.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 10 00 00 00 00 00 00");
  ASSERT_EQ(w.data.size(), 3u);
  // 0: provider traits, type 2 in the reserved word.
  EXPECT_EQ(w.data[0].size, 9u);
  EXPECT_EQ(w.data[0].reserved, 2u);
  EXPECT_EQ(Hex(w.blobs[0]), "09 00 50 79 74 68 6f 6e 00");
  // 1: event metadata, type 1.
  EXPECT_EQ(w.data[1].size, 54u);
  EXPECT_EQ(w.data[1].reserved, 1u);
  EXPECT_EQ(Hex(w.blobs[1]),
            Hex({0x36, 0x00, 0x00,
                 // "PythonFunctionPush\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x75, 0x73, 0x68, 0x00,
                 // "FunctionID\0" HEXINT64
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x15,
                 // "Caller\0" HEXINT64
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x00, 0x15,
                 // "CallerLine\0" UINT64
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x4c, 0x69, 0x6e, 0x65,
                 0x00, 0x0a}));
  // 2: payload, type 0.
  EXPECT_EQ(w.data[2].size, 24u);
  EXPECT_EQ(w.data[2].reserved, 0u);
  EXPECT_EQ(Hex(w.blobs[2]),
            Hex({0x05, 0, 0, 0, 0, 0, 0, 0, 0x03, 0, 0, 0, 0, 0, 0, 0,  //
                 0x11, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(EtwSinkTest, FunctionAndThreadDescriptors) {
  SessionEnables();
  ASSERT_TRUE(events_->Function(1, 0x1000, 0x2000, 7, "a.py", "f", true));
  ASSERT_TRUE(events_->ThreadStop(12));
  ASSERT_EQ(g_writes.size(), 2u);
  EXPECT_EQ(Hex(g_writes[0].descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 04 00 00 00 00 00 00");
  EXPECT_EQ(g_writes[0].data[1].size, 100u);
  EXPECT_EQ(Hex(g_writes[0].blobs[2]),
            Hex({0x01, 0, 0, 0, 0, 0, 0, 0,         // FunctionID
                 0x00, 0x10, 0, 0, 0, 0, 0, 0,      // BeginAddress
                 0x00, 0x20, 0, 0, 0, 0, 0, 0,      // EndAddress
                 0x07, 0, 0, 0,                     // LineNumber
                 0x61, 0, 0x2e, 0, 0x70, 0, 0x79, 0, 0, 0,  // "a.py"
                 0x66, 0, 0, 0,                     // "f"
                 0x01, 0, 0, 0}));                  // IsPythonCode
  EXPECT_EQ(Hex(g_writes[1].descriptor.Bytes()),
            "00 00 00 0b 04 02 00 00 00 01 00 00 00 00 00 00");
  EXPECT_EQ(Hex(g_writes[1].blobs[1]),
            Hex({0x1a, 0x00, 0x00,
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x54, 0x68, 0x72, 0x65,
                 0x61, 0x64, 0x00,
                 0x54, 0x68, 0x72, 0x65, 0x61, 0x64, 0x49, 0x44, 0x00, 0x07}));
  EXPECT_EQ(Hex(g_writes[1].blobs[2]), "0c 00 00 00");
}

TEST_F(EtwSinkTest, EnableCallbackTracksLevelKeywordsAndRundown) {
  int rundowns = 0;
  events_->SetRundownCallback([&] {
    ++rundowns;
    events_->Function(1, 0, 0, 3, "m.py", "known", true);
  });
  // Level 4 session with the thread keyword: the rundown runs, but only
  // PythonThread is on, so the PythonFunction it writes is dropped.
  etw_->HandleEnableCallback(1, 4, kKeywordThread, 0);
  EXPECT_EQ(rundowns, 1);
  EXPECT_TRUE(g_writes.empty());
  EXPECT_TRUE(events_->IsEnabled(PythonEvent::kThread));
  EXPECT_FALSE(events_->IsEnabled(PythonEvent::kFunction));

  // A verbose session joins: enable again with the combined parameters.
  etw_->HandleEnableCallback(1, 5, kKeywordThread | kKeywordFunction, 0);
  EXPECT_EQ(rundowns, 2);
  ASSERT_EQ(g_writes.size(), 1u);
  EXPECT_EQ(g_writes[0].descriptor.keyword, kKeywordFunction);

  // Capture state (wpr's rundown request): the rundown runs again.
  etw_->HandleEnableCallback(2, 0, 0, 0);
  EXPECT_EQ(rundowns, 3);
  EXPECT_EQ(g_writes.size(), 2u);
  EXPECT_EQ(events_->generation(), 4u);

  // Disable: no rundown, nothing written.
  etw_->HandleEnableCallback(0, 0, 0, 0);
  EXPECT_EQ(rundowns, 3);
  EXPECT_FALSE(events_->Push(1, 0, 0));
  EXPECT_EQ(g_writes.size(), 2u);
}

TEST_F(EtwSinkTest, RealEventWriteTransferAcceptsTheDescriptors) {
  SetEtwWriteTransferForTesting(nullptr);  // advapi32 (wine: succeeds)
  SessionEnables();
  EXPECT_TRUE(events_->Push(1, 0, 0));
  EXPECT_TRUE(events_->Function(1, 0, 0, 1, "x.py", "x", true));
  EXPECT_EQ(events_->failed_writes(), 0u);
  EXPECT_TRUE(g_writes.empty());
}

TEST(EtwPlatformTest, PlatformSinkIsEtw) {
  auto sink = OpenPlatformSink("MyProvider", ProviderIdFromName("MyProvider"));
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  auto* etw = dynamic_cast<EtwSink*>(sink->get());
  ASSERT_NE(etw, nullptr);
  EXPECT_EQ(etw->id().ToString(), "b3864c38-4273-58c5-545b-8b3608343471");
  EXPECT_NE(etw->reg_handle(), 0u);
}

// clang-format on

}  // namespace
}  // namespace etwbridge
