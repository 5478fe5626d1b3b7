// SessionCache: one ProcessTree per path and connection.

#include "session.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tracestore::sql::internal {

absl::StatusOr<std::shared_ptr<Session>> SessionCache::Get(
    const std::string& path) {
  if (path.empty())
    return absl::InvalidArgumentError("the trace path is empty (or NULL)");
  auto it = std::find_if(sessions_.begin(), sessions_.end(),
                         [&](const auto& s) { return s->path == path; });
  std::shared_ptr<Session> session;
  if (it != sessions_.end()) {
    session = *it;
    sessions_.erase(it);
    // A new recording at the same path: start over, unless a scan of the
    // old one is under way (then the statement keeps reading one snapshot).
    // Cursors still holding the old session keep it alive.
    if (session->active == 0 && session->tree->Replaced()) {
      session.reset();
    }
  }
  if (!session) {
    auto tree = ProcessTree::Open(path);
    if (!tree.ok()) return tree.status();
    session = std::make_shared<Session>();
    session->path = path;
    session->tree = *std::move(tree);
  }
  sessions_.push_back(session);
  EvictIdle();
  return session;
}

void SessionCache::EvictIdle() {
  // Only sessions no cursor holds (the cache's reference is the only one).
  size_t idle = 0;
  for (const auto& s : sessions_) idle += s.use_count() == 1;
  for (auto it = sessions_.begin(); idle > kMaxIdle && it != sessions_.end();) {
    if (it->use_count() == 1) {
      it = sessions_.erase(it);
      --idle;
    } else {
      ++it;
    }
  }
}

}  // namespace tracestore::sql::internal
