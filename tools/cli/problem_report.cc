// ReportProblems: the one way the commands print a reader's problems.

#include "problem_report.h"

#include <cstdio>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "commands.h"

namespace tracestore::cli {

int ReportProblems(const char* command, const Problems& problems) {
  if (problems.empty()) return kExitOk;
  for (const std::string& line : problems.Summary())
    std::fprintf(stderr, "tracestore %s: warning: %s\n", command, line.c_str());
  std::fprintf(stderr,
               "tracestore %s: the trace is damaged: the answer is partial "
               "(exit status %d)\n",
               command, kExitPartial);
  return kExitPartial;
}

std::vector<std::string> GroupMessages(const std::vector<std::string>& messages,
                                       size_t examples) {
  struct Group {
    std::vector<const std::string*> first;
    size_t count = 0;
  };
  std::vector<Group> groups;
  absl::flat_hash_map<std::string, size_t> by_shape;
  for (const std::string& m : messages) {
    std::string shape;
    shape.reserve(m.size());
    for (size_t i = 0; i < m.size(); ++i) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(m[i]))) {
        shape += m[i];
        continue;
      }
      shape += '#';
      while (i + 1 < m.size() &&
             absl::ascii_isdigit(static_cast<unsigned char>(m[i + 1])))
        ++i;
    }
    auto [it, fresh] = by_shape.try_emplace(std::move(shape), groups.size());
    if (fresh) groups.emplace_back();
    Group& g = groups[it->second];
    ++g.count;
    if (g.first.size() < examples) g.first.push_back(&m);
  }
  std::vector<std::string> lines;
  for (const Group& g : groups) {
    if (g.count == 1) {
      lines.push_back(*g.first[0]);
      continue;
    }
    std::string line = absl::StrCat(g.count, " like: ");
    for (size_t i = 0; i < g.first.size(); ++i)
      absl::StrAppend(&line, i ? "; " : "", *g.first[i]);
    if (g.count > g.first.size())
      absl::StrAppend(&line, " (and ", g.count - g.first.size(), " more)");
    lines.push_back(std::move(line));
  }
  return lines;
}

}  // namespace tracestore::cli
