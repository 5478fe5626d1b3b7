// The names of the files inside a trace directory (format.h documents them).

#ifndef TRACESTORE_STORE_PATHS_H_
#define TRACESTORE_STORE_PATHS_H_

#include <cstdint>
#include <string>

namespace tracestore {

inline constexpr char kTraceHeaderFile[] = "trace.header";
inline constexpr char kFunctionsFile[] = "functions.store";
inline constexpr char kStringsFile[] = "strings.store";
inline constexpr char kStringBytesFile[] = "strbytes.store";
inline constexpr char kThreadsFile[] = "threads.store";
inline constexpr char kMarksFile[] = "marks.store";
// Optional: created on the first code range (TraceWriter::AddCodeRange).
inline constexpr char kCodeRangesFile[] = "coderanges.store";
// Version 2 traces: which thread wrote which records of which event store.
inline constexpr char kSegmentsFile[] = "segments.store";

// "events.<N>.store": event store N (version 1 traces: thread index N)
inline std::string EventsFileName(uint32_t store) {
  std::string name = "events.";
  name += std::to_string(store);
  name += ".store";
  return name;
}

}  // namespace tracestore

#endif  // TRACESTORE_STORE_PATHS_H_
