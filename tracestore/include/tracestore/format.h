// The on-disk format of a trace: the one header shared by writer and reader.
//
// A trace is a directory. It holds one trace header file and one store file
// per kind of record (and one event store per traced thread):
//
//   trace.header            TraceHeader + properties text
//   events.<N>.store        EventRecord: event store N, shared in turn by
//                           the threads whose segments name it (version 2;
//                           in version 1, the events of thread index N)
//   segments.store          SegmentRecord: which thread wrote which records
//                           of which event store (version 2 only)
//   functions.store         FunctionRecord
//   strings.store           StringRecord (interned, deduplicated by xxHash64)
//   strbytes.store          the UTF-8 bytes the StringRecords point into
//   threads.store           ThreadRecord
//   marks.store             MarkRecord
//   coderanges.store        CodeRangeRecord (optional: only traces that
//                           recorded a range have it)
//
// Every store file starts with a StoreHeader region of kStoreHeaderBytes, then
// its records back to back. All fields are little-endian fixed width; every
// record size is a power of two so a chunk holds a whole number of records.
// docs/FORMAT.md describes every field; keep the two in step.
//
// Example (reader side):
//   const auto* h = reinterpret_cast<const format::StoreHeader*>(map);
//   if (std::memcmp(h->magic, format::kStoreMagic, 8) != 0) ...

#ifndef TRACESTORE_FORMAT_H_
#define TRACESTORE_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace tracestore::format {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the trace format is little-endian; add byte swapping first");

// The version of the store files (StoreHeader::version). Version 2 is an
// events store in ring mode (kStoreRing: a flight recorder's bounded store,
// see "Ring event stores" below); every other store is version 1. Readers
// read both.
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint32_t kRingFormatVersion = 2;
// The version of the trace layout (TraceHeader::version). Version 1: one
// event store per thread, events.<thread index>.store, no segments.store.
// Version 2: event stores are pooled, a thread's events are one segment of
// one store, and segments.store says which (SegmentRecord). Version 3: as 2,
// and event stores may be rings (TraceHeader::max_event_bytes != 0). Readers
// read all three; writers write kTraceVersion.
inline constexpr uint32_t kTraceVersionOneStorePerThread = 1;
inline constexpr uint32_t kTraceVersionPooled = 2;
inline constexpr uint32_t kTraceVersion = 3;
inline constexpr char kTraceMagic[8] = {'T', 'S', 'T', 'R', 'A', 'C', 'E', 0};
inline constexpr char kStoreMagic[8] = {'T', 'S', 'S', 'T', 'O', 'R', 'E', 0};

// ---------------------------------------------------------------------------
// Trace header file (trace.header)
// ---------------------------------------------------------------------------

enum class ClockSource : uint32_t {
  kTsc = 1,        // rdtsc on a CPU with an invariant TSC
  kMonotonic = 2,  // CLOCK_MONOTONIC in nanoseconds (ticks_per_second = 1e9)
};

enum class TraceState : uint32_t {
  kRecording = 1,  // a writer has it open (or died without closing it)
  kClosed = 2,     // closed cleanly: close anchor and tail checksums are set
};

// Why recording stopped early, if it did.
enum class StopReason : uint32_t {
  kNone = 0,
  kDiskFull = 1,   // ENOSPC (or a mapping that could not be backed)
  kIoError = 2,    // any other error growing a store
};

// How the process that wrote the trace ended (TraceHeader::end_kind),
// written into the header after the trace was closed, when it is known: at
// exit(status) (end_value: the status) or when the recorder dies of a
// signal it handles (end_value: the signal number). 0 while running, and
// for an ending nobody saw (SIGKILL, os._exit, a crash).
enum class EndKind : uint32_t {
  kUnknown = 0,
  kExited = 1,    // end_value = exit status
  kSignaled = 2,  // end_value = signal number
};

// One simultaneous reading of the trace clock and the system clocks.
struct ClockAnchor {
  uint64_t ticks;         // raw trace clock (TSC, or monotonic ns)
  uint64_t monotonic_ns;  // CLOCK_MONOTONIC
  uint64_t realtime_ns;   // CLOCK_REALTIME, ns since the Unix epoch
};
static_assert(std::is_trivially_copyable_v<ClockAnchor> &&
              sizeof(ClockAnchor) == 24);

inline constexpr uint32_t kTraceHeaderBytes = 4096;
inline constexpr uint32_t kMaxPropertiesBytes = 60 * 1024;
// The file is kTraceHeaderBytes + kMaxPropertiesBytes long.
inline constexpr uint32_t kTraceFileBytes =
    kTraceHeaderBytes + kMaxPropertiesBytes;

struct TraceHeader {
  char magic[8];                // kTraceMagic
  uint32_t version;             // kTraceVersion (1 or 2, see above)
  uint32_t header_bytes;        // kTraceHeaderBytes
  uint32_t state;               // TraceState; written last at close
  uint32_t clock_source;        // ClockSource
  uint64_t ticks_per_second;    // calibrated at start (1 ms), refined in
                                // place after 100 ms and at close
  ClockAnchor start;            // ticks == tick 0 of every time in the trace
  ClockAnchor close;            // all zero until closed
  uint64_t pid;                 // process that wrote the trace
  uint32_t properties_bytes;    // bytes of properties text after the header
  uint32_t stop_reason;         // StopReason
  // Version 3 (zero before): the flight recorder's budget for all event
  // stores together, in bytes of their files (0: unbounded, no rings), and
  // the threads it could not record because the budget had no room left
  // for one more store (counted, never silent).
  uint64_t max_event_bytes;
  uint64_t unrecorded_threads;
  uint32_t end_kind;            // EndKind; written after close (end_value
  uint32_t end_value;           // first, then end_kind with release)
  uint64_t reserved[29];
  uint8_t padding[kTraceHeaderBytes - 8 - 4 * 4 - 8 - 2 * 24 - 8 - 2 * 4 -
                  2 * 4 - 31 * 8];
};
static_assert(std::is_trivially_copyable_v<TraceHeader> &&
              sizeof(TraceHeader) == kTraceHeaderBytes);
static_assert(offsetof(TraceHeader, max_event_bytes) == 96);
static_assert(offsetof(TraceHeader, end_kind) == 112);
// The properties text follows at kTraceHeaderBytes: UTF-8 "key\0value\0"
// pairs, properties_bytes long in all. Well-known keys: "command_line",
// "interpreter", "include", "exclude", "created_by".

// ---------------------------------------------------------------------------
// Store files (*.store)
// ---------------------------------------------------------------------------

enum class StoreKind : uint32_t {
  kEvents = 1,
  kFunctions = 2,
  kStrings = 3,
  kStringBytes = 4,
  kThreads = 5,
  kMarks = 6,
  kCodeRanges = 7,
  kSegments = 8,
};

// The header region at the start of every store file. The first 4 KiB hold
// the fields; the rest is the table of chunk checksums.
inline constexpr uint32_t kStoreHeaderBytes = 64 * 1024;
inline constexpr uint32_t kStoreFieldsBytes = 4096;
inline constexpr uint32_t kMaxSealedChunks =
    (kStoreHeaderBytes - kStoreFieldsBytes) / sizeof(uint64_t);

// Ring event stores (kStoreRing). The file holds `ring_slots` chunk-sized
// slots after the header; logical chunk c (records [c * per_chunk,
// (c + 1) * per_chunk) of the store's ever-growing record sequence) lives in
// slot c % ring_slots. While ring_slots is 0 the store is still growing and
// chunk c lives in slot c (the same thing for every c below the final ring
// size). The checksum region holds one RingSlot per slot instead of one
// checksum per chunk:
//
//   chunk    c + 1 of the logical chunk the slot holds, or is about to hold;
//            0: never used. Stored (release) by the writer *before* any
//            byte of chunk c is written into the slot. A reader loads it
//            before and after copying the chunk (seqlock): a change means
//            the slot was reused meanwhile and the copy is discarded.
//   sealed   c + 1 once `checksum` holds chunk c's xxHash64 (release,
//            after the checksum).
//
// The window a reader sees is the newest run of chunks whose slots still
// hold them, ending at `committed`; its first record is
// (oldest such chunk) * per_chunk.
struct RingSlot {
  uint64_t chunk;
  uint64_t sealed;
  uint64_t checksum;
  uint64_t reserved;
};
inline constexpr uint32_t kMaxRingSlots =
    (kStoreHeaderBytes - kStoreFieldsBytes) / sizeof(RingSlot);

struct StoreHeader {
  char magic[8];           // kStoreMagic
  uint32_t version;        // kFormatVersion
  uint32_t kind;           // StoreKind
  uint32_t record_bytes;   // size of one record; a power of two
  uint32_t chunk_shift;    // a chunk is (1 << chunk_shift) bytes of records
  uint32_t thread_index;   // events stores: N of events.<N>.store (in a
                           // version 1 trace, also the thread); others: 0
  uint32_t flags;          // kStore* flags
  uint64_t data_offset;    // kStoreHeaderBytes: where record 0 starts
  uint64_t reserved0[3];
  // The fields below change while recording; each sits on its own cache line
  // so the writer's stores do not share a line with read-mostly fields.
  alignas(64) uint64_t committed;  // records committed: written by the one
                                   // writer with release semantics, read by
                                   // readers with acquire semantics
  alignas(64) uint64_t sealed_chunks;  // chunks [0, n) have a checksum in
                                       // chunk_checksums (release)
  uint64_t waited;         // appends that waited for the next chunk
  uint64_t dropped;        // appends dropped (recording stopped)
  uint32_t closed;         // 1 once the writer closed this store cleanly
  uint32_t reserved1;
  uint64_t tail_records;   // at close: records in the last partial chunk
  uint64_t tail_checksum;  // at close: xxHash64 of those records
  // Ring stores: the number of slots once the ring stopped growing (release;
  // 0 while it grows). Other stores: 0.
  uint64_t ring_slots;
  uint8_t padding[kStoreFieldsBytes - 184];
  union {
    // xxHash64 (seed 0) of each full chunk's bytes, in chunk order.
    uint64_t chunk_checksums[kMaxSealedChunks];
    // Ring stores (kStoreRing) instead: one entry per slot.
    RingSlot ring[kMaxRingSlots];
  };
};
// StoreHeader::flags: records are rewritten in place (threads.store: end
// time), so its chunks carry no checksums.
inline constexpr uint32_t kStoreMutableRecords = 1u << 0;
// StoreHeader::flags: an events store in ring mode (version 2, RingSlot).
inline constexpr uint32_t kStoreRing = 1u << 1;

static_assert(std::is_trivially_copyable_v<StoreHeader> &&
              sizeof(StoreHeader) == kStoreHeaderBytes);
static_assert(offsetof(StoreHeader, committed) == 64);
static_assert(offsetof(StoreHeader, sealed_chunks) == 128);
static_assert(offsetof(StoreHeader, tail_checksum) == 168);
static_assert(offsetof(StoreHeader, ring_slots) == 176);
static_assert(offsetof(StoreHeader, chunk_checksums) == kStoreFieldsBytes);

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

// What an event says happened. Fits in the low 8 bits of EventRecord.
enum class EventKind : uint8_t {
  kCall = 1,      // function entered; value = caller's line at the call site
  kReturn = 2,    // function returned normally; value = line of the return
  kUnwind = 3,    // function left by an exception; value = line
  kResume = 4,    // generator/coroutine resumed; value = call-site line
  kYield = 5,     // generator/coroutine suspended; value = line
  kLine = 6,      // a new line started in a traced function; value = line
  kCCall = 7,     // a C function called; function = its id; value = line
  kCReturn = 8,   // the C function returned (or raised)
  kMark = 9,      // a point of interest; value = mark index in marks store
};
inline constexpr int kEventKindBits = 8;

// One event: 16 bytes. The time and the kind share one word so that an
// append is two 8-byte stores.
struct EventRecord {
  uint64_t time_kind;  // bits 0-7: EventKind; bits 8-63: ticks since
                       // TraceHeader::start.ticks (2^56 ticks is > 250 days
                       // at 3 GHz)
  uint32_t function;   // FunctionRecord id (1-based), 0 = none
  uint32_t value;      // meaning depends on kind (see EventKind)
};
static_assert(std::is_trivially_copyable_v<EventRecord> &&
              sizeof(EventRecord) == 16);

inline constexpr uint64_t PackTimeKind(uint64_t ticks, EventKind kind) {
  return (ticks << kEventKindBits) | static_cast<uint8_t>(kind);
}
inline constexpr uint64_t EventTicks(const EventRecord& e) {
  return e.time_kind >> kEventKindBits;
}
inline constexpr EventKind GetEventKind(const EventRecord& e) {
  return static_cast<EventKind>(e.time_kind & 0xff);
}

// Function flags.
inline constexpr uint32_t kFunctionIsPython = 1u << 0;  // else a C function
inline constexpr uint32_t kFunctionTraced = 1u << 1;    // passed the filter

// A function. Its id is its index in the store + 1. Strings are StringRecord
// ids (0 = empty).
struct FunctionRecord {
  uint32_t id;
  uint32_t module;     // module name ("pkg.mod"), or __module__ of a builtin
  uint32_t qualname;   // qualified name ("Class.method")
  uint32_t file;       // source file path
  uint32_t first_line;
  uint32_t flags;      // kFunction*
  uint64_t code_addr;  // opaque identity (code object address); may repeat
};
static_assert(std::is_trivially_copyable_v<FunctionRecord> &&
              sizeof(FunctionRecord) == 32);

// An interned string. Its id is its index in the store + 1; id 0 is the
// empty string and is never stored.
struct StringRecord {
  uint64_t offset;  // byte offset into strbytes.store's records
  uint32_t length;  // bytes (UTF-8, no terminator)
  uint32_t hash32;  // low 32 bits of the xxHash64 of the bytes
};
static_assert(std::is_trivially_copyable_v<StringRecord> &&
              sizeof(StringRecord) == 16);

// A traced thread. Its index is its position in the store; its events are
// its segment (version 2) or events.<index>.store (version 1). end_ticks is written in place (8-byte aligned store) when
// the thread stops; name may be replaced in place when the thread is renamed.
struct ThreadRecord {
  uint32_t index;
  uint32_t name;         // string id
  uint64_t os_tid;       // gettid()
  uint64_t start_ticks;  // since TraceHeader::start.ticks
  uint64_t end_ticks;    // 0 while running
};
static_assert(std::is_trivially_copyable_v<ThreadRecord> &&
              sizeof(ThreadRecord) == 32);

enum class MarkKind : uint32_t {
  kPoint = 0,
  kStart = 1,
  kStop = 2,
};

struct MarkRecord {
  uint64_t ticks;   // since TraceHeader::start.ticks
  uint32_t thread;  // thread index
  uint32_t name;    // string id
  uint32_t kind;    // MarkKind
  uint32_t reserved;
  uint64_t value;   // caller-defined (0 if unused)
};
static_assert(std::is_trivially_copyable_v<MarkRecord> &&
              sizeof(MarkRecord) == 32);

// The native code range a function runs through (stack mode: its
// trampoline slot). A function may have several ranges; ranges never overlap.
// The writer commits a function's record before any of its ranges, so a
// reader that reads ranges before functions never sees a dangling id.
struct CodeRangeRecord {
  uint64_t begin;     // first byte (an address in the recording process)
  uint32_t size;      // bytes; the range is [begin, begin + size)
  uint32_t function;  // FunctionRecord id
};
static_assert(std::is_trivially_copyable_v<CodeRangeRecord> &&
              sizeof(CodeRangeRecord) == 16);

// One thread's stretch of an event store (version 2 traces). Event stores
// are pooled: a thread takes a free store when it starts and gives it back
// when it ends, so a trace holds as many event stores as threads were ever
// alive at once, however many threads it recorded. The thread's events are
// records [first, end) of events.<store>.store, in time order.
//
// The writer commits the ThreadRecord, then this record, then the thread's
// first event. At thread end (or at close) it stores `end`, then `ended` = 1
// (release); only then can the store go to another thread. So a reader that
// loads a store's committed count *before* it loads this record's `ended`
// (acquire) knows: ended == 0 -> the thread's events are [first, committed);
// ended == 1 -> [first, end). segments.store is a mutable-records store.
struct SegmentRecord {
  uint64_t first;   // index of the thread's first record in the store
  uint64_t end;     // one past its last record; valid once ended == 1
  uint32_t store;   // N of events.<N>.store
  uint32_t thread;  // ThreadRecord index
  uint32_t ended;   // 0 while the thread runs; 1 once `end` is set
  uint32_t flags;   // kSegment* (version 3; 0 before)
};
// SegmentRecord::flags: the thread's events before `first` were lost to a
// ring's window (a snapshot of a flight-recorder trace writes this), so
// its first events may close calls that opened before them.
inline constexpr uint32_t kSegmentStartsInWindow = 1u << 0;
static_assert(std::is_trivially_copyable_v<SegmentRecord> &&
              sizeof(SegmentRecord) == 32);

// Record size and chunk size of each kind of store.
constexpr uint32_t RecordBytes(StoreKind kind) {
  switch (kind) {
    case StoreKind::kEvents: return sizeof(EventRecord);
    case StoreKind::kFunctions: return sizeof(FunctionRecord);
    case StoreKind::kStrings: return sizeof(StringRecord);
    case StoreKind::kStringBytes: return 1;
    case StoreKind::kThreads: return sizeof(ThreadRecord);
    case StoreKind::kMarks: return sizeof(MarkRecord);
    case StoreKind::kCodeRanges: return sizeof(CodeRangeRecord);
    case StoreKind::kSegments: return sizeof(SegmentRecord);
  }
  return 0;
}

}  // namespace tracestore::format

#endif  // TRACESTORE_FORMAT_H_
