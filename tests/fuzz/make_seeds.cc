// Writes the fuzz seeds: real traces made by the real writer, each encoded
// in the fuzz input format (fuzz_trace.h), and with --regressions, each
// finding of issue 14 as an input (a real trace with that damage).
//
//   fuzz_make_seeds OUTDIR                 # seeds, from traces written now
//   fuzz_make_seeds --regressions OUTDIR   # tests/fuzz/regressions

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "fuzz_trace.h"
#include "tracestore/format.h"
#include "tracestore/trace_writer.h"

namespace {

using namespace tracestore;

struct Shape {
  const char* name;
  uint32_t threads;
  uint32_t events_per_thread;
  bool close;  // else the writer "dies" (a child that _exits)
  bool ranges;
  uint32_t other_thread_events = 0;  // threads after the first; 0: the same
  uint64_t max_event_bytes = 0;      // a flight recorder: ring event stores
};

void Record(const std::string& path, const Shape& s) {
  TraceOptions o;
  o.path = path;
  o.event_chunk_shift = 12;  // 4 KiB: sealed chunks with few events
  o.metadata_chunk_shift = 12;
  o.quiet = true;
  o.max_event_bytes = s.max_event_bytes;
  o.properties = {{"command_line", "seed.py"}, {"created_by", "fuzz seeds"}};
  auto w = TraceWriter::Create(o);
  if (!w.ok()) {
    std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
    std::exit(1);
  }
  constexpr uint32_t kFunctions = 6;
  for (uint32_t i = 0; i < kFunctions; ++i) {
    const uint32_t f = (*w)->AddFunction(
        {"app.mod", absl::StrCat("f", i), "app/mod.py", 10 * i + 1,
         i == 5 ? 0u : format::kFunctionIsPython | format::kFunctionTraced,
         0x1000 + i});
    if (s.ranges) (*w)->AddCodeRange(f, 0x7f0000000000 + i * 64, 64);
  }
  for (uint32_t t = 0; t < s.threads; ++t) {
    EventWriter* e = (*w)->StartThread(1000 + t, absl::StrCat("thread-", t));
    if (e == nullptr) break;
    // Nested calls of every kind: call f0 > call f1 > line, c_call f5 /
    // c_return, yield/resume, unwind, return.
    uint64_t ticks = 10;
    const uint32_t n = t > 0 && s.other_thread_events ? s.other_thread_events
                                                      : s.events_per_thread;
    for (uint32_t i = 0; i + 8 <= n; i += 8) {
      using K = format::EventKind;
      e->AppendAt(ticks++, K::kCall, 1, 3);
      e->AppendAt(ticks++, K::kCall, 2, 4);
      e->AppendAt(ticks++, K::kLine, 2, 5);
      e->AppendAt(ticks++, K::kCCall, 6, 5);
      e->AppendAt(ticks++, K::kCReturn, 6, 5);
      e->AppendAt(ticks++, i % 16 ? K::kYield : K::kUnwind, 2, 6);
      e->AppendAt(ticks++, K::kReturn, 1, 7);
      ticks += i % 5;
      if (i == 8) (*w)->AddMark(t, "phase", format::MarkKind::kStart, i);
      e->AppendAt(ticks++, K::kMark, 0, 0);
    }
    (*w)->AddMark(t, "phase", format::MarkKind::kStop, 1);
    if (t % 2 == 1) (*w)->EndThread(e);
  }
  if (s.close) {
    (void)(*w)->Close();
  } else {
    std::fflush(nullptr);
    ::_exit(0);  // as a killed writer leaves it
  }
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string Entry(uint32_t file, uint8_t mode, const std::string& bytes) {
  std::string out;
  out.push_back(static_cast<char>(file));
  out.push_back(static_cast<char>(mode));
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  out.append(reinterpret_cast<const char*>(&n), 4);
  return out + bytes;
}
std::string U32(uint32_t v) { return std::string(reinterpret_cast<char*>(&v), 4); }

// The encoded trace with the entry for `file` changed by `edit` (its bytes
// in the compact form: header fields first).
template <class Edit>
std::string EditEntry(const std::string& encoded, uint32_t file, Edit edit) {
  std::string out;
  size_t at = 0;
  while (at + 6 <= encoded.size()) {
    uint32_t n;
    std::memcpy(&n, encoded.data() + at + 2, 4);
    std::string bytes = encoded.substr(at + 6, n);
    if (static_cast<uint8_t>(encoded[at]) == file) edit(bytes);
    out += encoded.substr(at, 2) + U32(static_cast<uint32_t>(bytes.size())) +
           bytes;
    at += 6 + n;
  }
  return out;
}
// The encoded trace without the entries of files >= `first_file` (the
// events stores, for 7).
std::string DropFrom(const std::string& encoded, uint32_t first_file) {
  std::string out;
  size_t at = 0;
  while (at + 6 <= encoded.size()) {
    uint32_t n;
    std::memcpy(&n, encoded.data() + at + 2, 4);
    if (static_cast<uint8_t>(encoded[at]) < first_file)
      out += encoded.substr(at, 6 + n);
    at += 6 + n;
  }
  return out;
}

template <class T>
void Put(std::string& bytes, size_t offset, T v) {
  if (bytes.size() < offset + sizeof(v)) bytes.resize(offset + sizeof(v));
  std::memcpy(bytes.data() + offset, &v, sizeof(v));
}

}  // namespace

int main(int argc, char** argv) {
  const bool regressions = argc == 3 && std::strcmp(argv[1], "--regressions") == 0;
  if (argc != 2 && !regressions) {
    std::fprintf(stderr, "usage: fuzz_make_seeds [--regressions] OUTDIR\n");
    return 2;
  }
  const std::string out = argv[argc - 1];
  ::mkdir(out.c_str(), 0755);
  char tmpl[] = "/tmp/tsseeds.XXXXXX";
  const std::string tmp = ::mkdtemp(tmpl);
  const Shape shapes[] = {
      {"seed-one-thread", 1, 600, true, false},
      {"seed-three-threads", 3, 300, true, true},
      {"seed-writer-died", 2, 300, false, true},
      {"seed-empty", 0, 0, true, false},
      // The regressions' base: small, one sealed chunk in events.0.
      {"seed-small", 3, 264, true, true, 16},
      // Ring event stores (issue 17): slot table, version 2 stores.
      {"seed-ring", 2, 1200, true, false, 0, uint64_t{4} << 20},
  };
  std::vector<std::pair<std::string, std::string>> seeds;
  for (const Shape& s : shapes) {
    const std::string path = tmp + "/" + s.name;
    const pid_t child = ::fork();
    if (child == 0) {
      Record(path, s);
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    seeds.emplace_back(s.name, fuzz::EncodeTrace(path));
    std::system(absl::StrCat("rm -rf ", path).c_str());
  }
  ::rmdir(tmp.c_str());
  if (!regressions) {
    for (const auto& [name, bytes] : seeds) WriteFile(out + "/" + name, bytes);
    std::printf("wrote %zu seeds to %s\n", seeds.size(), out.c_str());
    return 0;
  }
  // Each finding of issue 14, on the three-thread trace (file ids:
  // fuzz_trace.h; store header fields: format.h).
  const std::string base = seeds[4].second;
  constexpr uint32_t kHeader = 0, kFunctions = 1, kStrings = 2, kThreads = 4,
                     kMarks = 5, kEvents0 = 7;
  struct Case {
    const char* name;
    std::string input;
  };
  std::vector<Case> cases;
  // 1: a trace.header shorter than 64 KiB (SIGBUS in verify).
  cases.push_back({"short-header", base + Entry(kHeader, 3, U32(4269))});
  // 2: a FIFO in place of a store, and of the header (a hang in open()).
  cases.push_back({"fifo-strings", base + Entry(kStrings, 4, "")});
  cases.push_back({"fifo-header", base + Entry(kHeader, 4, "")});
  cases.push_back({"fifo-events", base + Entry(kEvents0, 4, "")});
  // 3: threads.store claiming 20,000 threads (hostile_test: 100,000), no events stores.
  {
    std::string in = EditEntry(base, kThreads, [](std::string& b) {
      Put<uint64_t>(b, offsetof(format::StoreHeader, committed), 20000);
    });
    in = DropFrom(in, kEvents0);
    in += Entry(kThreads, 3, U32(format::kStoreHeaderBytes + 20000 * 32));
    cases.push_back({"huge-threads", in});
  }
  // 5: damaged stores of each kind, and a flipped byte in a sealed chunk.
  cases.push_back({"record-bytes-zero", EditEntry(base, kFunctions, [](std::string& b) {
                     Put<uint32_t>(b, offsetof(format::StoreHeader, record_bytes), 0);
                   })});
  cases.push_back({"wrong-kind", EditEntry(base, kMarks, [](std::string& b) {
                     Put<uint32_t>(b, offsetof(format::StoreHeader, kind), 2);
                   })});
  cases.push_back({"committed-beyond-file", EditEntry(base, kStrings, [](std::string& b) {
                     Put<uint64_t>(b, offsetof(format::StoreHeader, committed), 1u << 30);
                   })});
  cases.push_back({"truncated-mid-chunk",
                   base + Entry(kEvents0, 3, U32(format::kStoreHeaderBytes + 4096 + 100))});
  cases.push_back({"flipped-chunk-byte", EditEntry(base, kEvents0, [](std::string& b) {
                     // compact: 176 field bytes, u16 n, n checksums, records
                     uint16_t n;
                     std::memcpy(&n, b.data() + 176, 2);
                     b[176 + 2 + n * 8 + 100] ^= 4;
                   })});
  // 7: the smaller ones.
  cases.push_back({"chunk-shift-30", EditEntry(base, kMarks, [](std::string& b) {
                     Put<uint32_t>(b, offsetof(format::StoreHeader, chunk_shift), 30);
                   })});
  cases.push_back({"sealed-below-full", EditEntry(base, kEvents0, [](std::string& b) {
                     Put<uint64_t>(b, offsetof(format::StoreHeader, sealed_chunks), 0);
                   })});
  cases.push_back({"ticks-per-second-1", EditEntry(base, kHeader, [](std::string& b) {
                     Put<uint64_t>(b, offsetof(format::TraceHeader, ticks_per_second), 1);
                   })});
  cases.push_back({"slow-tsc-huge-ticks", EditEntry(
                     EditEntry(base, kHeader, [](std::string& b) {
                       Put<uint64_t>(b, offsetof(format::TraceHeader, ticks_per_second), 1000000);
                     }),
                     kEvents0, [](std::string& b) {
                       uint16_t n;
                       std::memcpy(&n, b.data() + 176, 2);
                       Put<uint64_t>(b, 176 + 2 + n * 8 + 16 * 5,
                                     format::PackTimeKind((uint64_t{1} << 56) - 1,
                                                          format::EventKind::kReturn));
                     })});
  for (const Case& c : cases) WriteFile(out + "/" + c.name, c.input);
  std::printf("wrote %zu regression inputs to %s\n", cases.size(), out.c_str());
  return 0;
}
