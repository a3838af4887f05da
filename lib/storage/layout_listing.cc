// SPDX-License-Identifier: Apache-2.0
// Listing: the repositories of the store and the tags of a repository, a page at a time.
#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/store_errors.h"

namespace ocireg::internal {
namespace {

// The keys of sorted map `entries` after `last` (exclusive), at most `limit` (0: all), skipping
// those `keep` refuses.
template <typename Map, typename Keep>
Page PageAfter(const Map& entries, std::string_view last, size_t limit, Keep keep) {
  Page page;
  auto it = last.empty() ? entries.begin() : entries.upper_bound(last);
  for (; it != entries.end(); ++it) {
    if (!keep(it->second)) continue;
    if (limit != 0 && page.items.size() == limit) {
      page.more = true;
      break;
    }
    page.items.push_back(it->first);
  }
  return page;
}

}  // namespace

Page LayoutStore::ListRepositories(std::string_view last, size_t limit) {
  // A failed listing serves the repositories known so far.
  (void)RefreshRepositoryList();
  std::shared_lock lock(repos_mu_);
  // A state whose layout is not on disk yet is a repository being created, or a failed push.
  return PageAfter(repos_, last, limit, [](const auto& state) { return state->exists.load(); });
}

bool LayoutStore::RepositoryExists(std::string_view repo) { return FindState(repo) != nullptr; }

Result<Page> LayoutStore::ListTags(std::string_view repo, std::string_view last, size_t limit) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadForReadingLocked(lock, repo, *state));
  return PageAfter(state->index.tags(), last, limit, [](const Digest&) { return true; });
}

}  // namespace ocireg::internal
