// python-etwtrace's events: metadata built once with the EventBuilder,
// payloads packed by hand on the stack per event.

#include "etwbridge/python_events.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <utility>

#include "utf.h"

namespace etwbridge {
namespace {

static_assert(std::endian::native == std::endian::little,
              "payloads are packed in host order");

template <typename T>
std::byte* Put(std::byte* p, T value) {
  std::memcpy(p, &value, sizeof(T));
  return p + sizeof(T);
}

// UTF-8 -> NUL-terminated UTF-16LE at p, cut at kMaxPythonStringUnits.
// Needs 2 * (min(text.size(), kMaxPythonStringUnits) + 1) bytes.
std::byte* PutString(std::byte* p, std::string_view text) {
  const size_t units = internal::Utf8ToUtf16Le(text, p, kMaxPythonStringUnits);
  p += 2 * units;
  p[0] = std::byte{0};
  p[1] = std::byte{0};
  return p + 2;
}

size_t StringRoom(std::string_view text) {
  return 2 * (std::min(text.size(), kMaxPythonStringUnits) + 1);
}

// A stack buffer for the common case, the heap for long strings.
class PayloadBuffer {
 public:
  explicit PayloadBuffer(size_t size) {
    if (size > sizeof(inline_)) {
      heap_.resize(size);
      data_ = heap_.data();
    }
  }
  std::byte* data() { return data_; }

 private:
  std::byte inline_[1024];
  std::vector<std::byte> heap_;
  std::byte* data_ = inline_;
};

}  // namespace

StatusOr<std::unique_ptr<PythonEvents>> PythonEvents::Open() {
  auto sink = OpenPlatformSink(kPythonProviderName, kPythonProviderId);
  if (!sink.ok()) return sink.status();
  return Create(std::move(*sink));
}

StatusOr<std::unique_ptr<PythonEvents>> PythonEvents::Create(
    std::unique_ptr<Sink> sink) {
  if (sink == nullptr) return InvalidArgumentError("no sink");
  std::unique_ptr<PythonEvents> events(new PythonEvents(std::move(sink)));
  ETWBRIDGE_RETURN_IF_ERROR(events->Init());
  return events;
}

PythonEvents::PythonEvents(std::unique_ptr<Sink> sink)
    : sets_{{{kLevelInfo, kKeywordThread},
             {kLevelVerbose, kKeywordFunction},
             {kLevelVerbose, kKeywordMark},
             {kLevelVerbose, kKeywordStackSample},
             {kLevelVerbose, kKeywordFunctionPush},
             {kLevelVerbose, kKeywordFunctionPop}}},
      sink_(std::move(sink)) {}

PythonEvents::~PythonEvents() {
  sink_->SetEnableListener(nullptr);
  // sink_ is destroyed next (last member), unregistering before sets_ go.
}

Status PythonEvents::Init() {
  // The metadata of each event, from the generic builder; the payload
  // values here are placeholders and are not used.
  EventBuilder eb;
  const auto prepare = [&](PythonEvent event) {
    Prepared& p = prepared_[static_cast<size_t>(event)];
    p.descriptor = eb.descriptor();
    p.metadata.assign(eb.metadata().begin(), eb.metadata().end());
    p.eventheader_metadata.assign(eb.eventheader_metadata().begin(),
                                  eb.eventheader_metadata().end());
    return eb.status();
  };
  eb.Reset("PythonThread", kLevelInfo, kKeywordThread);
  eb.AddInt32("ThreadID", 0);
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kThread));

  eb.Reset("PythonFunction", kLevelVerbose, kKeywordFunction);
  eb.AddHexInt64("FunctionID", 0);
  eb.AddHexInt64("BeginAddress", 0);
  eb.AddHexInt64("EndAddress", 0);
  eb.AddInt32("LineNumber", 0);
  eb.AddUnicodeString("SourceFile", std::string_view());
  eb.AddUnicodeString("Name", std::string_view());
  eb.AddInt32("IsPythonCode", 0);
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kFunction));

  eb.Reset("PythonMark", kLevelVerbose, kKeywordMark);
  eb.AddUnicodeString("Mark", std::string_view());
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kMark));

  eb.Reset("PythonStackSample", kLevelVerbose, kKeywordStackSample);
  eb.AddUnicodeString("Mark", std::string_view());
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kStackSample));

  eb.Reset("PythonFunctionPush", kLevelVerbose, kKeywordFunctionPush);
  eb.AddHexInt64("FunctionID", 0);
  eb.AddHexInt64("Caller", 0);
  eb.AddUInt64("CallerLine", 0);
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kFunctionPush));

  eb.Reset("PythonFunctionPop", kLevelVerbose, kKeywordFunctionPop);
  eb.AddHexInt64("FunctionID", 0);
  ETWBRIDGE_RETURN_IF_ERROR(prepare(PythonEvent::kFunctionPop));

  for (EventSet& set : sets_) {
    ETWBRIDGE_RETURN_IF_ERROR(sink_->Register(&set));
  }
  sink_->SetEnableListener([this] { OnEnabled(); });
  return OkStatus();
}

bool PythonEvents::Emit(PythonEvent event, uint8_t opcode,
                        std::span<const std::byte> payload) {
  const size_t i = static_cast<size_t>(event);
  const Prepared& p = prepared_[i];
  EventView view;
  view.descriptor = p.descriptor;
  view.descriptor.opcode = opcode;
  view.metadata = p.metadata;
  view.eventheader_metadata = p.eventheader_metadata;
  view.payload = payload;
  if (sink_->Write(sets_[i], view) != 0) {
    failed_writes_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

bool PythonEvents::ThreadStart(int32_t thread_id) {
  if (!IsEnabled(PythonEvent::kThread)) return false;
  std::byte payload[4];
  Put(payload, thread_id);
  return Emit(PythonEvent::kThread, kOpcodeStart, payload);
}

bool PythonEvents::ThreadStop(int32_t thread_id) {
  if (!IsEnabled(PythonEvent::kThread)) return false;
  std::byte payload[4];
  Put(payload, thread_id);
  return Emit(PythonEvent::kThread, kOpcodeStop, payload);
}

bool PythonEvents::Function(uint64_t function_id, uint64_t begin_address,
                            uint64_t end_address, int32_t line_number,
                            std::string_view source_file, std::string_view name,
                            bool is_python_code) {
  if (!IsEnabled(PythonEvent::kFunction)) return false;
  PayloadBuffer buffer(3 * 8 + 4 + StringRoom(source_file) + StringRoom(name) +
                       4);
  std::byte* p = buffer.data();
  p = Put(p, function_id);
  p = Put(p, begin_address);
  p = Put(p, end_address);
  p = Put(p, line_number);
  p = PutString(p, source_file);
  p = PutString(p, name);
  p = Put(p, int32_t{is_python_code ? 1 : 0});
  return Emit(PythonEvent::kFunction, kOpcodeInfo,
              std::span<const std::byte>(buffer.data(), p));
}

bool PythonEvents::EmitStringEvent(PythonEvent event, uint8_t opcode,
                                   std::string_view text) {
  PayloadBuffer buffer(StringRoom(text));
  std::byte* end = PutString(buffer.data(), text);
  return Emit(event, opcode, std::span<const std::byte>(buffer.data(), end));
}

bool PythonEvents::Mark(std::string_view mark, uint8_t opcode) {
  if (!IsEnabled(PythonEvent::kMark)) return false;
  return EmitStringEvent(PythonEvent::kMark, opcode, mark);
}

bool PythonEvents::StackSample(std::string_view mark) {
  if (!IsEnabled(PythonEvent::kStackSample)) return false;
  return EmitStringEvent(PythonEvent::kStackSample, kOpcodeInfo, mark);
}

bool PythonEvents::Push(uint64_t function_id, uint64_t caller_id,
                        uint64_t caller_line) {
  if (!IsEnabled(PythonEvent::kFunctionPush)) return false;
  std::byte payload[24];
  std::byte* p = Put(payload, function_id);
  p = Put(p, caller_id);
  Put(p, caller_line);
  return Emit(PythonEvent::kFunctionPush, kOpcodeInfo, payload);
}

bool PythonEvents::Pop(uint64_t function_id) {
  if (!IsEnabled(PythonEvent::kFunctionPop)) return false;
  std::byte payload[8];
  Put(payload, function_id);
  return Emit(PythonEvent::kFunctionPop, kOpcodeInfo, payload);
}

void PythonEvents::SetRundownCallback(std::function<void()> callback) {
  auto shared =
      callback
          ? std::make_shared<const std::function<void()>>(std::move(callback))
          : nullptr;
  std::lock_guard<std::mutex> lock(rundown_mu_);
  rundown_ = std::move(shared);
}

void PythonEvents::OnEnabled() {
  generation_.fetch_add(1, std::memory_order_acq_rel);
  std::shared_ptr<const std::function<void()>> rundown;
  {
    std::lock_guard<std::mutex> lock(rundown_mu_);
    rundown = rundown_;
  }
  if (rundown) (*rundown)();
}

}  // namespace etwbridge
