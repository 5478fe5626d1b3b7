// Tests of the user_events sink over an in-memory UserEventsFile: tracepoint
// names and DIAG_IOCSREG commands, the enable word the kernel would flip,
// the exact bytes of each writev (write index, eventheader, metadata
// extension, EventHeader metadata, payload), Poll and the rundown,
// unregistration, bad names and failures. And what opening the real kernel
// file says on a kernel without user_events.

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "etwbridge/python_events.h"
#include "etwbridge/user_events_sink.h"
#include "gtest/gtest.h"
#include "test_bytes.h"

namespace etwbridge {
namespace {

// The expected bytes keep one field per line:
// clang-format off

using testing::Hex;

// What the fake kernel saw; shared so it outlives the sink.
struct KernelLog {
  std::vector<std::string> commands;
  std::vector<std::atomic<uint32_t>*> registered_words;
  std::vector<std::atomic<uint32_t>*> unregistered_words;
  std::vector<std::vector<std::byte>> writes;
  int register_error = 0;
  int write_error = 0;
};

class FakeUserEventsFile final : public UserEventsFile {
 public:
  explicit FakeUserEventsFile(std::shared_ptr<KernelLog> log)
      : log_(std::move(log)) {}
  int Register(const std::string& command, std::atomic<uint32_t>* word,
               uint32_t* write_index) override {
    if (log_->register_error != 0) return log_->register_error;
    log_->commands.push_back(command);
    log_->registered_words.push_back(word);
    *write_index = static_cast<uint32_t>(99 + log_->commands.size());
    return 0;
  }
  int Unregister(std::atomic<uint32_t>* word) override {
    log_->unregistered_words.push_back(word);
    return 0;
  }
  int Write(std::span<const IoSlice> slices) override {
    if (log_->write_error != 0) return log_->write_error;
    std::vector<std::byte> bytes;
    for (const IoSlice& s : slices) {
      const auto* p = static_cast<const std::byte*>(s.data);
      bytes.insert(bytes.end(), p, p + s.size);
    }
    log_->writes.push_back(std::move(bytes));
    return 0;
  }

 private:
  std::shared_ptr<KernelLog> log_;
};

class UserEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = UserEventsSink::Create(
        "Python", std::make_unique<FakeUserEventsFile>(log_));
    ASSERT_TRUE(sink.ok()) << sink.status().ToString();
    auto events = PythonEvents::Create(std::move(*sink));
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(*events);
  }

  // The kernel sets bit 0 of a tracepoint's word while perf records it.
  void KernelEnable(size_t tracepoint, bool on = true) {
    log_->registered_words.at(tracepoint)->store(on ? 1 : 0);
  }

  std::shared_ptr<KernelLog> log_ = std::make_shared<KernelLog>();
  std::unique_ptr<PythonEvents> events_;
};

TEST(TracepointNameTest, LevelAndKeywordInLowerCaseHex) {
  EXPECT_EQ(TracepointName("Python", 5, 0x400), "Python_L5K400");
  EXPECT_EQ(TracepointName("Python", 4, 0x100), "Python_L4K100");
  EXPECT_EQ(TracepointName("Python", 5, 0x2000), "Python_L5K2000");
  EXPECT_EQ(TracepointName("P", 0x1f, 0xABCDEF0123), "P_L1fKabcdef0123");
  EXPECT_EQ(TracepointName("P", 1, 0), "P_L1K0");
  EXPECT_EQ(TracepointCommand("Python_L5K400"),
            "Python_L5K400 u8 eventheader_flags; u8 version; u16 id; "
            "u16 tag; u8 opcode; u8 level");
}

TEST_F(UserEventsTest, OneTracepointPerEvent) {
  const std::string fields =
      " u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode; u8 level";
  EXPECT_EQ(log_->commands,
            (std::vector<std::string>{
                "Python_L4K100" + fields, "Python_L5K400" + fields,
                "Python_L5K800" + fields, "Python_L5K200" + fields,
                "Python_L5K1000" + fields, "Python_L5K2000" + fields}));
  for (auto* word : log_->registered_words) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(word) % 4, 0u);
  }
}

TEST_F(UserEventsTest, DisabledTracepointsWriteNothing) {
  EXPECT_FALSE(events_->Push(1, 0, 0));
  EXPECT_FALSE(events_->ThreadStart(1));
  EXPECT_TRUE(log_->writes.empty());
  KernelEnable(4);  // Python_L5K1000 only
  EXPECT_TRUE(events_->IsEnabled(PythonEvent::kFunctionPush));
  EXPECT_FALSE(events_->IsEnabled(PythonEvent::kFunctionPop));
  EXPECT_TRUE(events_->Push(1, 0, 0));
  EXPECT_FALSE(events_->Pop(1));
  EXPECT_EQ(log_->writes.size(), 1u);
}

TEST_F(UserEventsTest, PushIsOneWritevOfTheseBytes) {
  KernelEnable(4);
  ASSERT_TRUE(events_->Push(5, 3, 17));
  ASSERT_EQ(log_->writes.size(), 1u);
  EXPECT_EQ(Hex(log_->writes[0]),
            Hex({0x68, 0x00, 0x00, 0x00,  // write index 104 (5th tracepoint)
                 // eventheader: flags pointer64|little-endian|extension,
                 // version 0, id 0, tag 0, opcode 0, level 5
                 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
                 // extension: size 53, kind 1 (metadata), no chain
                 0x35, 0x00, 0x01, 0x00,
                 // "PythonFunctionPush\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x75, 0x73, 0x68, 0x00,
                 // "FunctionID\0" value64|chain, hex_int
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x85, 0x03,
                 // "Caller\0" value64|chain, hex_int
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x00, 0x85, 0x03,
                 // "CallerLine\0" value64
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x4c, 0x69, 0x6e, 0x65,
                 0x00, 0x05,
                 // payload
                 0x05, 0, 0, 0, 0, 0, 0, 0,  //
                 0x03, 0, 0, 0, 0, 0, 0, 0,  //
                 0x11, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(UserEventsTest, ThreadStartAndMarkStop) {
  KernelEnable(0);
  KernelEnable(2);
  ASSERT_TRUE(events_->ThreadStart(9));
  ASSERT_TRUE(events_->Mark("r", kOpcodeStop));
  ASSERT_EQ(log_->writes.size(), 2u);
  EXPECT_EQ(Hex(log_->writes[0]),
            Hex({0x64, 0x00, 0x00, 0x00,                          // index 100
                 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04,  // START, L4
                 0x18, 0x00, 0x01, 0x00,                          // 24 bytes
                 // "PythonThread\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x54, 0x68, 0x72, 0x65,
                 0x61, 0x64, 0x00,
                 // "ThreadID\0" value32|chain, signed_int
                 0x54, 0x68, 0x72, 0x65, 0x61, 0x64, 0x49, 0x44, 0x00, 0x84,
                 0x02,
                 0x09, 0x00, 0x00, 0x00}));
  EXPECT_EQ(Hex(log_->writes[1]),
            Hex({0x66, 0x00, 0x00, 0x00,                          // index 102
                 0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x05,  // STOP, L5
                 0x11, 0x00, 0x01, 0x00,                          // 17 bytes
                 // "PythonMark\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x4d, 0x61, 0x72, 0x6b,
                 0x00,
                 // "Mark\0" zstring_char16
                 0x4d, 0x61, 0x72, 0x6b, 0x00, 0x08,
                 0x72, 0x00, 0x00, 0x00}));  // "r" NUL
}

TEST(EventHeaderTest, EncodeCarriesIdVersionAndLow16BitsOfTheTag) {
  EventBuilder eb;
  eb.Reset("E", kLevelWarning, 0x1, kOpcodeStart, /*tag=*/0x0ABCDEF);
  eb.SetIdVersion(0x0102, 3);
  eb.AddUInt8("v", 0xAA);
  ASSERT_TRUE(eb.status().ok());
  EXPECT_EQ(Hex(EncodeEventHeaderEvent(eb.View())),
            Hex({0x07, 0x03, 0x02, 0x01, 0xef, 0xcd, 0x01, 0x03,  // header
                 0x05, 0x00, 0x01, 0x00,                          // extension
                 0x45, 0x00, 0x76, 0x00, 0x02,                    // metadata
                 0xaa}));                                         // payload
}

TEST_F(UserEventsTest, PollRunsTheRundownWhenATracepointTurnsOn) {
  int rundowns = 0;
  events_->SetRundownCallback([&] { ++rundowns; });
  events_->Poll();
  EXPECT_EQ(rundowns, 0);
  KernelEnable(1);  // PythonFunction
  events_->Poll();
  EXPECT_EQ(rundowns, 1);
  EXPECT_EQ(events_->generation(), 2u);
  events_->Poll();
  EXPECT_EQ(rundowns, 1);  // no change, no rundown
  KernelEnable(1, false);
  events_->Poll();
  KernelEnable(1);
  events_->Poll();
  EXPECT_EQ(rundowns, 2);
}

TEST_F(UserEventsTest, WriteErrorsAreCounted) {
  KernelEnable(5);
  log_->write_error = EBADF;
  EXPECT_FALSE(events_->Pop(1));
  EXPECT_EQ(events_->failed_writes(), 1u);
}

TEST_F(UserEventsTest, DestructionUnregistersEveryTracepoint) {
  const std::vector<std::atomic<uint32_t>*> words = log_->registered_words;
  events_.reset();
  EXPECT_EQ(log_->unregistered_words, words);
}

TEST(UserEventsSinkTest, ProviderNamesMustSuitTracefs) {
  auto log = std::make_shared<KernelLog>();
  for (const char* bad : {"", "My Provider", "a:b", "x-y"}) {
    auto sink =
        UserEventsSink::Create(bad, std::make_unique<FakeUserEventsFile>(log));
    EXPECT_EQ(sink.status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(UserEventsSink::Create("P", nullptr).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(UserEventsSinkTest, RegistrationFailureNamesTheTracepoint) {
  auto log = std::make_shared<KernelLog>();
  log->register_error = EACCES;
  auto sink = UserEventsSink::Create("Python",
                                     std::make_unique<FakeUserEventsFile>(log));
  ASSERT_TRUE(sink.ok());
  auto events = PythonEvents::Create(std::move(*sink));
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.status().code(), StatusCode::kInternal);
  EXPECT_EQ(events.status().message(),
            std::string("cannot register user_events tracepoint "
                        "Python_L4K100: ") +
                std::strerror(EACCES));
}

TEST(UserEventsFileTest, OpeningSaysWhyNot) {
  auto file = OpenUserEventsFile();
#ifdef __linux__
  if (!std::filesystem::exists("/sys/kernel/tracing/user_events_data") &&
      !std::filesystem::exists("/sys/kernel/debug/tracing/user_events_data")) {
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(file.status().message(),
              "user_events is not available on this kernel (no "
              "/sys/kernel/tracing/user_events_data)");
  }
#else
  EXPECT_EQ(file.status().code(), StatusCode::kUnimplemented);
#endif
}

// clang-format on

}  // namespace
}  // namespace etwbridge
