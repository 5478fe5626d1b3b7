// Problems: deduplicated, counted by kind, summarized one line per kind.

#include "tracestore/problems.h"

#include "absl/strings/str_cat.h"

namespace tracestore {

const char* ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kUnreadable:
      return "unreadable stores (left out)";
    case ProblemKind::kTruncated:
      return "truncated stores (read up to where the file ends)";
    case ProblemKind::kChecksum:
      return "checksum mismatches";
    case ProblemKind::kHeader:
      return "trace header problems";
  }
  return "problems";
}

const char* ProblemKindKey(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kUnreadable:
      return "unreadable";
    case ProblemKind::kTruncated:
      return "truncated";
    case ProblemKind::kChecksum:
      return "checksum";
    case ProblemKind::kHeader:
      return "header";
  }
  return "problem";
}

bool ParseProblemKind(std::string_view key, ProblemKind* kind) {
  for (int k = 0; k < kProblemKinds; ++k) {
    if (key == ProblemKindKey(static_cast<ProblemKind>(k))) {
      *kind = static_cast<ProblemKind>(k);
      return true;
    }
  }
  return false;
}

void Problems::Add(ProblemKind kind, std::string message) {
  if (!seen_.insert(message).second) return;
  ++counts_[static_cast<int>(kind)];
  all_.push_back({kind, std::move(message)});
}

void Problems::Append(const Problems& other) {
  for (const Problem& p : other.all_) Add(p.kind, p.message);
}

std::vector<std::string> Problems::messages() const {
  std::vector<std::string> out;
  out.reserve(all_.size());
  for (const Problem& p : all_) out.push_back(p.message);
  return out;
}

std::vector<std::string> Problems::Summary(size_t examples) const {
  std::vector<std::string> lines;
  for (int k = 0; k < kProblemKinds; ++k) {
    if (counts_[k] == 0) continue;
    std::string line = absl::StrCat(
        ProblemKindName(static_cast<ProblemKind>(k)), " (", counts_[k], "): ");
    size_t shown = 0;
    for (const Problem& p : all_) {
      if (static_cast<int>(p.kind) != k) continue;
      if (shown == examples) break;
      absl::StrAppend(&line, shown ? "; " : "", p.message);
      ++shown;
    }
    if (counts_[k] > shown)
      absl::StrAppend(&line, " (and ", counts_[k] - shown, " more)");
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace tracestore
