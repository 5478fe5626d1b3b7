// The events of python-etwtrace's "Python" provider, byte for byte, so WPA
// and existing tooling decode them unchanged. The recorder calls this class;
// it knows nothing of Python objects: ids, addresses, lines and UTF-8 text.
//
//   auto events = etwbridge::PythonEvents::Open();     // ETW / user_events
//   if (!events.ok()) { warn(events.status().message()); /* go on */ }
//   (*events)->SetRundownCallback([&] { recorder.DescribeAll(); });
//   ...
//   if ((*events)->IsEnabled(etwbridge::PythonEvent::kFunctionPush)) {
//     (*events)->Push(fn_id, caller_id, caller_line);
//   }
//
// The events (provider "Python", GUID 99a10640-320d-4b37-9e26-c311d86da7ab,
// TraceLogging: id 0, version 0, task 0, channel 11, no tags):
//
//   event               level  keyword  opcode     fields
//   PythonThread          4    0x100    START/STOP ThreadID INT32
//   PythonFunction        5    0x400    0          FunctionID, BeginAddress,
//                                                  EndAddress HEXINT64;
//                                                  LineNumber INT32;
//                                                  SourceFile, Name
//                                                  UNICODESTRING;
//                                                  IsPythonCode INT32
//   PythonMark            5    0x800    0/START/STOP Mark UNICODESTRING
//   PythonStackSample     5    0x200    0          Mark UNICODESTRING
//   PythonFunctionPush    5    0x1000   0          FunctionID, Caller
//                                                  HEXINT64; CallerLine UINT64
//   PythonFunctionPop     5    0x2000   0          FunctionID HEXINT64
//
// Unlike python-etwtrace, the class tells its owner when a session enables
// the provider (SetRundownCallback), so the owner can describe the functions
// and threads that already exist: a late `wpr -start` then still gets every
// function's name. generation() changes at the same moments, so the owner
// can also write PythonFunction lazily before a function's first Push in
// each session.
//
// Thread-safety: every method may be called from any thread. The rundown
// callback runs on whatever thread saw the enable (an ETW thread on Windows,
// the caller of Poll on Linux, the caller of CaptureSink::Enable in tests),
// concurrently with event writes from other threads.

#ifndef ETWBRIDGE_PYTHON_EVENTS_H_
#define ETWBRIDGE_PYTHON_EVENTS_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "etwbridge/sink.h"
#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

inline constexpr std::string_view kPythonProviderName = "Python";
// Fixed by python-etwtrace; not the hash of the name.
inline constexpr Guid kPythonProviderId = {
    0x99a10640,
    0x320d,
    0x4b37,
    {0x9e, 0x26, 0xc3, 0x11, 0xd8, 0x6d, 0xa7, 0xab}};

inline constexpr uint64_t kKeywordThread = 0x100;
inline constexpr uint64_t kKeywordStackSample = 0x200;
inline constexpr uint64_t kKeywordFunction = 0x400;
inline constexpr uint64_t kKeywordMark = 0x800;
inline constexpr uint64_t kKeywordFunctionPush = 0x1000;
inline constexpr uint64_t kKeywordFunctionPop = 0x2000;

// Each event with its (level, keyword): the unit a session enables.
enum class PythonEvent : uint8_t {
  kThread,
  kFunction,
  kMark,
  kStackSample,
  kFunctionPush,
  kFunctionPop,
};
inline constexpr size_t kPythonEventCount = 6;

// Strings longer than this many UTF-16 units are cut so that every event
// stays under ETW's 64 KiB (PythonFunction carries two).
inline constexpr size_t kMaxPythonStringUnits = 16000;

class PythonEvents {
 public:
  // The platform provider: ETW on Windows, user_events on Linux. Fails with
  // a one-line reason where neither is available.
  static StatusOr<std::unique_ptr<PythonEvents>> Open();
  // Over any sink (tests: a CaptureSink). The sink's provider name should be
  // "Python".
  static StatusOr<std::unique_ptr<PythonEvents>> Create(
      std::unique_ptr<Sink> sink);
  ~PythonEvents();
  PythonEvents(const PythonEvents&) = delete;
  PythonEvents& operator=(const PythonEvents&) = delete;

  // Whether some session wants `event`: one relaxed load and a compare. The
  // write methods check it too; call it first to skip preparing arguments.
  bool IsEnabled(PythonEvent event) const {
    return sets_[static_cast<size_t>(event)].enabled();
  }

  // Each returns true if the event was handed to the sink; false if no
  // session wants it (nothing written) or the write failed (counted in
  // failed_writes()).

  // PythonThread START / STOP.
  bool ThreadStart(int32_t thread_id);
  bool ThreadStop(int32_t thread_id);
  // PythonFunction. Text is UTF-8 (invalid bytes become U+FFFD; it ends at a
  // NUL). For a builtin: source_file is its module, line 0, is_python false.
  bool Function(uint64_t function_id, uint64_t begin_address,
                uint64_t end_address, int32_t line_number,
                std::string_view source_file, std::string_view name,
                bool is_python_code);
  // PythonMark with opcode kOpcodeInfo, or kOpcodeStart / kOpcodeStop for
  // the ends of a range.
  bool Mark(std::string_view mark, uint8_t opcode = kOpcodeInfo);
  // PythonStackSample.
  bool StackSample(std::string_view mark);
  // PythonFunctionPush / PythonFunctionPop (instrumented mode).
  bool Push(uint64_t function_id, uint64_t caller_id, uint64_t caller_line);
  bool Pop(uint64_t function_id);

  // `callback` runs after a session enables the provider or asks for its
  // state; it should write PythonFunction for every known function and
  // PythonThread START for every live thread. Replaces the previous one
  // (a run already started finishes with the old one).
  void SetRundownCallback(std::function<void()> callback);
  // Starts at 1 and grows by one before each rundown callback. A function
  // last described at another generation needs a PythonFunction before its
  // next Push.
  uint32_t generation() const {
    return generation_.load(std::memory_order_acquire);
  }
  // Linux: looks for sessions started since the last call (user_events has
  // no callback) and runs the rundown. Cheap; call it now and then, e.g. on
  // thread start. Windows: nothing to do.
  void Poll() { sink_->Poll(); }

  uint64_t failed_writes() const {
    return failed_writes_.load(std::memory_order_relaxed);
  }
  Sink& sink() const { return *sink_; }

 private:
  struct Prepared {
    EventDescriptor descriptor;
    std::vector<std::byte> metadata;
    std::vector<std::byte> eventheader_metadata;
  };

  explicit PythonEvents(std::unique_ptr<Sink> sink);
  Status Init();
  bool Emit(PythonEvent event, uint8_t opcode,
            std::span<const std::byte> payload);
  bool EmitStringEvent(PythonEvent event, uint8_t opcode,
                       std::string_view text);
  void OnEnabled();

  // Declared before sink_: the sets outlive the sink's registrations.
  std::array<EventSet, kPythonEventCount> sets_;
  std::array<Prepared, kPythonEventCount> prepared_;
  std::atomic<uint32_t> generation_{1};
  std::atomic<uint64_t> failed_writes_{0};
  std::mutex rundown_mu_;
  std::shared_ptr<const std::function<void()>> rundown_;
  std::unique_ptr<Sink> sink_;
};

}  // namespace etwbridge

#endif  // ETWBRIDGE_PYTHON_EVENTS_H_
