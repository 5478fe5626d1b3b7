// Tests of PythonEvents over the capture sink: every event byte for byte
// (descriptor, provider traits, TraceLogging metadata, EventHeader metadata,
// payload) against python-etwtrace's schema, written out by hand from the
// format; enable rules (level, keywords, disabled = nothing written); the
// rundown callback and generation; strings; threads; failed writes.

#include "etwbridge/python_events.h"

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "etwbridge/capture_sink.h"
#include "gtest/gtest.h"
#include "test_bytes.h"

namespace etwbridge {
namespace {

// The expected bytes keep one field per line:
// clang-format off

using testing::Hex;

// "Python", NUL: u16 size 9 first.
const char kTraits[] = "09 00 50 79 74 68 6f 6e 00";

class PythonEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sink = std::make_unique<CaptureSink>("Python");
    capture_ = sink.get();
    auto events = PythonEvents::Create(std::move(sink));
    ASSERT_TRUE(events.ok()) << events.status().ToString();
    events_ = std::move(*events);
  }

  // The only event captured so far.
  CapturedEvent Only() {
    std::vector<CapturedEvent> got = capture_->events();
    EXPECT_EQ(got.size(), 1u);
    return got.empty() ? CapturedEvent() : got[0];
  }

  CaptureSink* capture_ = nullptr;
  std::unique_ptr<PythonEvents> events_;
};

TEST_F(PythonEventsTest, ThreadStartAndStop) {
  capture_->Enable();
  ASSERT_TRUE(events_->ThreadStart(0x1234));
  CapturedEvent e = Only();
  EXPECT_EQ(Hex(e.traits), kTraits);
  // Id 0, Version 0, Channel 11, Level 4, Opcode 1 (START), Task 0,
  // Keyword 0x100.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 04 01 00 00 00 01 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x1a, 0x00,  // size 26
                 0x00,        // no tag
                 // "PythonThread\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x54, 0x68, 0x72, 0x65,
                 0x61, 0x64, 0x00,
                 // "ThreadID\0", INT32
                 0x54, 0x68, 0x72, 0x65, 0x61, 0x64, 0x49, 0x44, 0x00, 0x07}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x54, 0x68, 0x72, 0x65,
                 0x61, 0x64, 0x00,
                 // "ThreadID\0", value32 | format follows, signed_int
                 0x54, 0x68, 0x72, 0x65, 0x61, 0x64, 0x49, 0x44, 0x00, 0x84,
                 0x02}));
  EXPECT_EQ(Hex(e.payload), "34 12 00 00");

  capture_->Clear();
  ASSERT_TRUE(events_->ThreadStop(-2));
  e = Only();
  // Opcode 2 (STOP); same metadata.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 04 02 00 00 00 01 00 00 00 00 00 00");
  EXPECT_EQ(e.metadata.size(), 26u);
  EXPECT_EQ(Hex(e.payload), "fe ff ff ff");
}

TEST_F(PythonEventsTest, Function) {
  capture_->Enable();
  ASSERT_TRUE(events_->Function(0x0102030405060708, 0x00007FF612340000,
                                0x00007FF612340100, 42,
                                "t\xC3\xA9st.py",     // "tést.py"
                                "f\xE2\x82\xAC",      // "f€"
                                true));
  CapturedEvent e = Only();
  EXPECT_EQ(Hex(e.traits), kTraits);
  // The published PythonFunction descriptor: level 5, keyword 0x400.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 04 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x64, 0x00,  // size 100
                 0x00,        // no tag
                 // "PythonFunction\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x00,
                 // "FunctionID\0", HEXINT64
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x15,
                 // "BeginAddress\0", HEXINT64
                 0x42, 0x65, 0x67, 0x69, 0x6e, 0x41, 0x64, 0x64, 0x72, 0x65,
                 0x73, 0x73, 0x00, 0x15,
                 // "EndAddress\0", HEXINT64
                 0x45, 0x6e, 0x64, 0x41, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73,
                 0x00, 0x15,
                 // "LineNumber\0", INT32
                 0x4c, 0x69, 0x6e, 0x65, 0x4e, 0x75, 0x6d, 0x62, 0x65, 0x72,
                 0x00, 0x07,
                 // "SourceFile\0", UNICODESTRING
                 0x53, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x46, 0x69, 0x6c, 0x65,
                 0x00, 0x01,
                 // "Name\0", UNICODESTRING
                 0x4e, 0x61, 0x6d, 0x65, 0x00, 0x01,
                 // "IsPythonCode\0", INT32
                 0x49, 0x73, 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x43, 0x6f,
                 0x64, 0x65, 0x00, 0x07}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x00,
                 // value64, hex_int
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x85, 0x03,
                 0x42, 0x65, 0x67, 0x69, 0x6e, 0x41, 0x64, 0x64, 0x72, 0x65,
                 0x73, 0x73, 0x00, 0x85, 0x03,
                 0x45, 0x6e, 0x64, 0x41, 0x64, 0x64, 0x72, 0x65, 0x73, 0x73,
                 0x00, 0x85, 0x03,
                 // value32, signed_int
                 0x4c, 0x69, 0x6e, 0x65, 0x4e, 0x75, 0x6d, 0x62, 0x65, 0x72,
                 0x00, 0x84, 0x02,
                 // zstring_char16
                 0x53, 0x6f, 0x75, 0x72, 0x63, 0x65, 0x46, 0x69, 0x6c, 0x65,
                 0x00, 0x08,
                 0x4e, 0x61, 0x6d, 0x65, 0x00, 0x08,
                 // value32, signed_int
                 0x49, 0x73, 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x43, 0x6f,
                 0x64, 0x65, 0x00, 0x84, 0x02}));
  EXPECT_EQ(Hex(e.payload),
            Hex({0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,  // FunctionID
                 0x00, 0x00, 0x34, 0x12, 0xf6, 0x7f, 0x00, 0x00,  // Begin
                 0x00, 0x01, 0x34, 0x12, 0xf6, 0x7f, 0x00, 0x00,  // End
                 0x2a, 0x00, 0x00, 0x00,                          // line 42
                 // "tést.py" in UTF-16LE, NUL
                 0x74, 0x00, 0xe9, 0x00, 0x73, 0x00, 0x74, 0x00, 0x2e, 0x00,
                 0x70, 0x00, 0x79, 0x00, 0x00, 0x00,
                 // "f€", NUL
                 0x66, 0x00, 0xac, 0x20, 0x00, 0x00,
                 0x01, 0x00, 0x00, 0x00}));  // IsPythonCode 1
}

TEST_F(PythonEventsTest, BuiltinFunction) {
  capture_->Enable();
  // A builtin: SourceFile is its module, no addresses, line 0, not Python.
  ASSERT_TRUE(events_->Function(3, 0, 0, 0, "builtins", "len", false));
  auto ev = Only().Decode();
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->name, "PythonFunction");
  EXPECT_EQ(ev->Find("FunctionID")->AsUInt64(), 3u);
  EXPECT_EQ(ev->Find("LineNumber")->AsInt64(), 0);
  EXPECT_EQ(ev->Find("SourceFile")->AsString(), "builtins");
  EXPECT_EQ(ev->Find("Name")->AsString(), "len");
  EXPECT_EQ(ev->Find("IsPythonCode")->AsInt64(), 0);
}

TEST_F(PythonEventsTest, MarkWithEachOpcode) {
  capture_->Enable();
  ASSERT_TRUE(events_->Mark("phase", kOpcodeStart));
  CapturedEvent e = Only();
  // Level 5, opcode 1, keyword 0x800.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 01 00 00 00 08 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x14, 0x00,  // size 20
                 0x00,
                 // "PythonMark\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x4d, 0x61, 0x72, 0x6b,
                 0x00,
                 // "Mark\0", UNICODESTRING
                 0x4d, 0x61, 0x72, 0x6b, 0x00, 0x01}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x4d, 0x61, 0x72, 0x6b,
                 0x00, 0x4d, 0x61, 0x72, 0x6b, 0x00, 0x08}));
  // "phase", NUL
  EXPECT_EQ(Hex(e.payload),
            Hex({0x70, 0x00, 0x68, 0x00, 0x61, 0x00, 0x73, 0x00, 0x65, 0x00,
                 0x00, 0x00}));

  capture_->Clear();
  ASSERT_TRUE(events_->Mark("phase", kOpcodeStop));
  EXPECT_EQ(Hex(Only().descriptor.Bytes()),
            "00 00 00 0b 05 02 00 00 00 08 00 00 00 00 00 00");
  capture_->Clear();
  ASSERT_TRUE(events_->Mark("m"));
  e = Only();
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 08 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.payload), "6d 00 00 00");
}

TEST_F(PythonEventsTest, StackSample) {
  capture_->Enable();
  ASSERT_TRUE(events_->StackSample("s"));
  CapturedEvent e = Only();
  // Level 5, opcode 0, keyword 0x200.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 02 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x1b, 0x00,  // size 27
                 0x00,
                 // "PythonStackSample\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x53, 0x74, 0x61, 0x63,
                 0x6b, 0x53, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00,
                 // "Mark\0", UNICODESTRING
                 0x4d, 0x61, 0x72, 0x6b, 0x00, 0x01}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x53, 0x74, 0x61, 0x63,
                 0x6b, 0x53, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00,
                 0x4d, 0x61, 0x72, 0x6b, 0x00, 0x08}));
  EXPECT_EQ(Hex(e.payload), "73 00 00 00");
}

TEST_F(PythonEventsTest, FunctionPush) {
  capture_->Enable();
  ASSERT_TRUE(events_->Push(5, 3, 17));
  CapturedEvent e = Only();
  // Level 5, opcode 0, keyword 0x1000.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 10 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x36, 0x00,  // size 54
                 0x00,
                 // "PythonFunctionPush\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x75, 0x73, 0x68, 0x00,
                 // "FunctionID\0", HEXINT64
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x15,
                 // "Caller\0", HEXINT64
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x00, 0x15,
                 // "CallerLine\0", UINT64
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x4c, 0x69, 0x6e, 0x65,
                 0x00, 0x0a}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x75, 0x73, 0x68, 0x00,
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x85, 0x03,                                // hex
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x00, 0x85, 0x03,
                 0x43, 0x61, 0x6c, 0x6c, 0x65, 0x72, 0x4c, 0x69, 0x6e, 0x65,
                 0x00, 0x05}));                                   // value64
  EXPECT_EQ(Hex(e.payload),
            Hex({0x05, 0, 0, 0, 0, 0, 0, 0,    // FunctionID
                 0x03, 0, 0, 0, 0, 0, 0, 0,    // Caller
                 0x11, 0, 0, 0, 0, 0, 0, 0}));  // CallerLine 17
}

TEST_F(PythonEventsTest, FunctionPop) {
  capture_->Enable();
  ASSERT_TRUE(events_->Pop(5));
  CapturedEvent e = Only();
  // Level 5, opcode 0, keyword 0x2000.
  EXPECT_EQ(Hex(e.descriptor.Bytes()),
            "00 00 00 0b 05 00 00 00 00 20 00 00 00 00 00 00");
  EXPECT_EQ(Hex(e.metadata),
            Hex({0x21, 0x00,  // size 33
                 0x00,
                 // "PythonFunctionPop\0"
                 0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x6f, 0x70, 0x00,
                 // "FunctionID\0", HEXINT64
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x15}));
  EXPECT_EQ(Hex(e.eventheader_metadata),
            Hex({0x50, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x46, 0x75, 0x6e, 0x63,
                 0x74, 0x69, 0x6f, 0x6e, 0x50, 0x6f, 0x70, 0x00,
                 0x46, 0x75, 0x6e, 0x63, 0x74, 0x69, 0x6f, 0x6e, 0x49, 0x44,
                 0x00, 0x85, 0x03}));
  EXPECT_EQ(Hex(e.payload), "05 00 00 00 00 00 00 00");
}

// Calls every write method once; returns how many reported success.
int WriteOneOfEach(PythonEvents& events) {
  int written = 0;
  written += events.ThreadStart(1);
  written += events.Function(1, 0, 0, 1, "f.py", "f", true);
  written += events.Mark("m");
  written += events.StackSample("s");
  written += events.Push(1, 0, 0);
  written += events.Pop(1);
  written += events.ThreadStop(1);
  return written;
}

TEST_F(PythonEventsTest, DisabledEventsWriteNothing) {
  for (size_t i = 0; i < kPythonEventCount; ++i) {
    EXPECT_FALSE(events_->IsEnabled(static_cast<PythonEvent>(i)));
  }
  EXPECT_EQ(WriteOneOfEach(*events_), 0);
  EXPECT_EQ(capture_->size(), 0u);

  capture_->Enable();
  EXPECT_EQ(WriteOneOfEach(*events_), 7);
  EXPECT_EQ(capture_->size(), 7u);

  capture_->Disable();
  capture_->Clear();
  EXPECT_EQ(WriteOneOfEach(*events_), 0);
  EXPECT_EQ(capture_->size(), 0u);
  EXPECT_EQ(events_->failed_writes(), 0u);
}

std::vector<std::string> Names(const std::vector<CapturedEvent>& events) {
  std::vector<std::string> names;
  for (const CapturedEvent& e : events) names.push_back(e.name());
  return names;
}

TEST_F(PythonEventsTest, LevelAndKeywordsSelectEvents) {
  // Level 4: only PythonThread (the rest are verbose).
  capture_->Enable(kLevelInfo);
  EXPECT_TRUE(events_->IsEnabled(PythonEvent::kThread));
  EXPECT_FALSE(events_->IsEnabled(PythonEvent::kFunctionPush));
  WriteOneOfEach(*events_);
  EXPECT_EQ(Names(capture_->events()),
            (std::vector<std::string>{"PythonThread", "PythonThread"}));

  // Keywords: only push and pop.
  capture_->Clear();
  capture_->Enable(kLevelVerbose, kKeywordFunctionPush | kKeywordFunctionPop);
  WriteOneOfEach(*events_);
  EXPECT_EQ(Names(capture_->events()),
            (std::vector<std::string>{"PythonFunctionPush", "PythonFunctionPop"}));

  // MatchAll: an event needs every bit; none of ours has two.
  capture_->Clear();
  capture_->Enable(kLevelVerbose, ~0ull, kKeywordMark | kKeywordFunction);
  EXPECT_EQ(WriteOneOfEach(*events_), 0);

  // Level 0 means every level.
  capture_->Enable(0, kKeywordMark);
  EXPECT_TRUE(events_->IsEnabled(PythonEvent::kMark));
  EXPECT_FALSE(events_->IsEnabled(PythonEvent::kThread));
}

TEST_F(PythonEventsTest, RundownOnEnableAndCaptureState) {
  std::atomic<int> rundowns{0};
  std::vector<uint32_t> generations;
  events_->SetRundownCallback([&] {
    ++rundowns;
    generations.push_back(events_->generation());
    // What the recorder does: describe what exists.
    events_->Function(1, 0, 0, 10, "a.py", "known", true);
    events_->ThreadStart(77);
  });
  EXPECT_EQ(events_->generation(), 1u);
  events_->Poll();  // nothing to poll on the capture sink
  EXPECT_EQ(rundowns.load(), 0);

  capture_->Enable();
  EXPECT_EQ(rundowns.load(), 1);
  EXPECT_EQ(events_->generation(), 2u);
  EXPECT_EQ(Names(capture_->events()),
            (std::vector<std::string>{"PythonFunction", "PythonThread"}));

  capture_->CaptureState();
  EXPECT_EQ(rundowns.load(), 2);
  EXPECT_EQ(events_->generation(), 3u);
  EXPECT_EQ(generations, (std::vector<uint32_t>{2, 3}));

  capture_->Disable();
  EXPECT_EQ(rundowns.load(), 2);
  EXPECT_EQ(capture_->size(), 4u);

  events_->SetRundownCallback(nullptr);
  capture_->Enable();
  EXPECT_EQ(rundowns.load(), 2);
  EXPECT_EQ(events_->generation(), 4u);
}

TEST_F(PythonEventsTest, LongStringsAreCutToTheLimit) {
  capture_->Enable();
  const std::string long_name(100000, 'n');
  ASSERT_TRUE(events_->Function(1, 0, 0, 1, long_name, long_name, true));
  CapturedEvent e = Only();
  EXPECT_LT(e.payload.size(), kMaxPayloadBytes);
  auto ev = e.Decode();
  ASSERT_TRUE(ev.ok()) << ev.status().ToString();
  EXPECT_EQ(ev->Find("Name")->AsString().size(), kMaxPythonStringUnits);
  EXPECT_EQ(ev->Find("IsPythonCode")->AsInt64(), 1);
  capture_->Clear();
  ASSERT_TRUE(events_->Mark(long_name));
  EXPECT_EQ(Only().payload.size(), 2 * (kMaxPythonStringUnits + 1));
}

TEST_F(PythonEventsTest, InvalidUtf8BecomesReplacementCharacters) {
  capture_->Enable();
  ASSERT_TRUE(events_->Mark("a\xFF"));
  EXPECT_EQ(Hex(Only().payload), "61 00 fd ff 00 00");
}

TEST_F(PythonEventsTest, ConcurrentWritersKeepTheirThreadsApart) {
  capture_->Enable();
  constexpr int kThreads = 4, kCalls = 500;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      events_->ThreadStart(t);
      for (int i = 0; i < kCalls; ++i) {
        events_->Push(static_cast<uint64_t>(t * 1000 + i), 0, 0);
        events_->Pop(static_cast<uint64_t>(t * 1000 + i));
      }
      events_->ThreadStop(t);
    });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<CapturedEvent> got = capture_->events();
  ASSERT_EQ(got.size(), size_t{kThreads * (2 * kCalls + 2)});
  // Per OS thread: START, then balanced Push/Pop, then STOP.
  std::map<uint64_t, std::vector<const CapturedEvent*>> by_thread;
  for (const CapturedEvent& e : got) by_thread[e.thread_id].push_back(&e);
  ASSERT_EQ(by_thread.size(), size_t{kThreads});
  for (const auto& [tid, list] : by_thread) {
    EXPECT_EQ(list.front()->name(), "PythonThread");
    EXPECT_EQ(list.front()->descriptor.opcode, kOpcodeStart);
    EXPECT_EQ(list.back()->descriptor.opcode, kOpcodeStop);
    int depth = 0;
    for (const CapturedEvent* e : list) {
      if (e->name() == "PythonFunctionPush") ++depth;
      if (e->name() == "PythonFunctionPop") --depth;
      ASSERT_GE(depth, 0);
    }
    EXPECT_EQ(depth, 0);
  }
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].sequence, i);
}

// A sink whose writes fail, as ETW's do when a buffer is full.
class FailingSink final : public Sink {
 public:
  FailingSink() : Sink("Python") {}
  Status Register(EventSet* set) override {
    set->enable_word.store(1);
    return OkStatus();
  }
  int Write(const EventSet&, const EventView&) override { return 234; }
};

TEST(PythonEventsFailureTest, FailedWritesAreCounted) {
  auto events = PythonEvents::Create(std::make_unique<FailingSink>());
  ASSERT_TRUE(events.ok());
  EXPECT_FALSE((*events)->Push(1, 0, 0));
  EXPECT_FALSE((*events)->Mark("m"));
  EXPECT_EQ((*events)->failed_writes(), 2u);
}

TEST(PythonEventsFailureTest, NoSink) {
  auto events = PythonEvents::Create(nullptr);
  EXPECT_EQ(events.status().code(), StatusCode::kInvalidArgument);
}

TEST(PythonEventsOpenTest, PlatformProviderOpensOrSaysWhyNot) {
  auto events = PythonEvents::Open();
#if defined(_WIN32)
  ASSERT_TRUE(events.ok()) << events.status().ToString();
#elif defined(__linux__)
  const bool have_user_events =
      std::filesystem::exists("/sys/kernel/tracing/user_events_data") ||
      std::filesystem::exists("/sys/kernel/debug/tracing/user_events_data");
  if (!have_user_events) {
    // These machines' kernels have no user_events: one line saying so.
    EXPECT_EQ(events.status().ToString(),
              "UNAVAILABLE: user_events is not available on this kernel (no "
              "/sys/kernel/tracing/user_events_data)");
  } else if (!events.ok()) {
    EXPECT_EQ(events.status().code(), StatusCode::kPermissionDenied)
        << events.status().ToString();
  }
#endif
}

TEST(PythonProviderTest, IdentityConstants) {
  EXPECT_EQ(kPythonProviderId.ToString(),
            "99a10640-320d-4b37-9e26-c311d86da7ab");
  EXPECT_EQ(kPythonProviderName, "Python");
}

// clang-format on

}  // namespace
}  // namespace etwbridge
