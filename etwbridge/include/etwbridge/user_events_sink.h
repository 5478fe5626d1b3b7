// The Linux sink: the same events through user_events, in the EventHeader
// format of Microsoft's LinuxTracepoints, so `perf record -e
// user_events:Python_L5K400` captures them and `perf-decode` turns them
// into JSON.
//
//   auto sink = etwbridge::UserEventsSink::Open("Python");
//   if (!sink.ok()) puts(sink.status().message().c_str());
//   // "user_events is not available on this kernel (no
//   //  /sys/kernel/tracing/user_events_data)"
//
// One tracepoint per EventSet, named "<provider>_L<level>K<keyword>" (hex,
// lower case), registered with the DIAG_IOCSREG ioctl and the command
//   "<name> u8 eventheader_flags; u8 version; u16 id; u16 tag; u8 opcode;
//    u8 level"
// The kernel sets bit 0 of the set's enable word while a session records the
// tracepoint. Each event is one writev:
//   u32 write_index
//   eventheader:  u8 flags (0x01 pointer64 | 0x02 little-endian |
//                 0x04 extension), u8 version, u16 id, u16 tag, u8 opcode,
//                 u8 level
//   extension:    u16 size, u16 kind (1 = metadata), then the EventHeader
//                 metadata ("EventName\0", then per field: name "\0",
//                 u8 encoding [| 0x80], [u8 format [| 0x80]], [u16 tag])
//   payload:      the same bytes as the TraceLogging payload.
//
// The kernel interface sits behind UserEventsFile so the framing is tested
// in memory on machines (and Windows builds) without user_events.
//
// Thread-safety: as Sink. user_events has no enable callback: call Poll()
// now and then to run the enable listener after a session starts.

#ifndef ETWBRIDGE_USER_EVENTS_SINK_H_
#define ETWBRIDGE_USER_EVENTS_SINK_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "etwbridge/sink.h"
#include "etwbridge/status.h"
#include "etwbridge/tracelogging.h"

namespace etwbridge {

// One piece of a gathered write (struct iovec without the POSIX header).
struct IoSlice {
  const void* data;
  size_t size;
};

// The kernel's user_events_data file.
class UserEventsFile {
 public:
  virtual ~UserEventsFile() = default;
  // DIAG_IOCSREG: registers `command` ("<name> <fields>") and asks the
  // kernel to set bit 0 of *enable_word (4 bytes) while the tracepoint is
  // enabled. Stores the write index. Returns 0 or an errno value.
  virtual int Register(const std::string& command,
                       std::atomic<uint32_t>* enable_word,
                       uint32_t* write_index) = 0;
  // DIAG_IOCSUNREG for the same word. Returns 0 or an errno value.
  virtual int Unregister(std::atomic<uint32_t>* enable_word) = 0;
  // writev of the slices, the first being the u32 write index. Returns 0 or
  // an errno value.
  virtual int Write(std::span<const IoSlice> slices) = 0;
};

// Opens /sys/kernel/tracing/user_events_data (or the one under
// /sys/kernel/debug/tracing). Unavailable when the kernel has none,
// PermissionDenied when it may not be opened; Unimplemented off Linux.
StatusOr<std::unique_ptr<UserEventsFile>> OpenUserEventsFile();

// "<provider>_L<level>K<keyword>", level and keyword in lower-case hex
// without leading zeros, e.g. "Python_L5K400".
std::string TracepointName(std::string_view provider, uint8_t level,
                           uint64_t keyword);
// The DIAG_IOCSREG command for a tracepoint name.
std::string TracepointCommand(std::string_view tracepoint_name);

// The bytes of one event after the write index: eventheader, metadata
// extension, metadata, payload. What UserEventsSink::Write sends (it
// gathers the parts instead of copying them).
std::vector<std::byte> EncodeEventHeaderEvent(const EventView& event);

class UserEventsSink final : public Sink {
 public:
  // OpenUserEventsFile, then the sink over it.
  static StatusOr<std::unique_ptr<UserEventsSink>> Open(
      std::string_view provider_name, const Guid* group = nullptr);
  // Over any UserEventsFile (tests: an in-memory one). The provider name
  // may hold only [A-Za-z0-9_].
  static StatusOr<std::unique_ptr<UserEventsSink>> Create(
      std::string_view provider_name, std::unique_ptr<UserEventsFile> file,
      const Guid* group = nullptr);
  // Unregisters every tracepoint.
  ~UserEventsSink() override;

  Status Register(EventSet* set) override;
  int Write(const EventSet& set, const EventView& event) override;
  void Poll() override;

 private:
  UserEventsSink(std::string_view provider_name,
                 std::unique_ptr<UserEventsFile> file, const Guid* group);

  struct Registered {
    EventSet* set;
    bool was_enabled;
  };

  const std::unique_ptr<UserEventsFile> file_;
  std::mutex mu_;
  std::vector<Registered> registered_;
};

}  // namespace etwbridge

#endif  // ETWBRIDGE_USER_EVENTS_SINK_H_
