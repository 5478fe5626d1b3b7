// Problems: what a reader found wrong with a trace, by kind, each described
// once. The one place every reader (info, verify, query, export, top, the
// SQL tables) takes its damage report from, so they all say the same thing.
//
//   Problems p = reader->problems();
//   if (!p.empty())
//     for (const std::string& line : p.Summary()) fprintf(stderr, "%s\n", ...);
//
// A reader with problems still answers from what it could read: the answer
// is partial, and every command says so (README: exit status 3).
//
// Add() is O(1) (a hash set removes repeats), so a trace with a million
// damaged stores costs a million entries, not a million squared.

#ifndef TRACESTORE_PROBLEMS_H_
#define TRACESTORE_PROBLEMS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"

namespace tracestore {

enum class ProblemKind {
  kUnreadable = 0,  // a store missing or unusable: left out entirely
  kTruncated = 1,   // a store shorter than its committed count: read in part
  kChecksum = 2,    // a sealed chunk (or closed tail) fails its checksum
  kHeader = 3,      // the trace header is damaged but usable
};
inline constexpr int kProblemKinds = 4;

// How a summary line names a kind ("unreadable stores (left out)").
const char* ProblemKindName(ProblemKind kind);
// A short key for a kind: "unreadable", "truncated", "checksum", "header"
// (the SQL table's kind column); ParseProblemKind reads it back.
const char* ProblemKindKey(ProblemKind kind);
bool ParseProblemKind(std::string_view key, ProblemKind* kind);

struct Problem {
  ProblemKind kind;
  std::string message;  // names the file and what is wrong with it
};

class Problems {
 public:
  // Adds a problem unless the same message is there already.
  void Add(ProblemKind kind, std::string message);
  void Append(const Problems& other);

  bool empty() const { return all_.empty(); }
  size_t size() const { return all_.size(); }
  size_t count(ProblemKind kind) const {
    return counts_[static_cast<int>(kind)];
  }
  // In the order found.
  const std::vector<Problem>& all() const { return all_; }
  // Messages only, in the order found.
  std::vector<std::string> messages() const;

  // One line per kind present: "<kind> (<count>): <first>; <second>;
  // <third> (and N more)". At most `examples` messages per line.
  std::vector<std::string> Summary(size_t examples = 3) const;

 private:
  std::vector<Problem> all_;
  absl::flat_hash_set<std::string> seen_;
  size_t counts_[kProblemKinds] = {};
};

}  // namespace tracestore

#endif  // TRACESTORE_PROBLEMS_H_
