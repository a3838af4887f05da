// SPDX-License-Identifier: Apache-2.0
// What the store tells and asks the other replicas of a cluster (StoreOptions::coordination):
// change marks, content in use, and the claims of garbage collection.
#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/repository_discovery.h"

namespace ocireg::internal {
namespace {

// Directories listed at once while the list of repositories is read again.
constexpr size_t kRediscoveryParallelism = 8;

}  // namespace

std::vector<DriverCounter> LayoutStore::DriverCounters() {
  std::vector<DriverCounter> counters = driver_->Counters();
  if (options_.coordination) {
    for (DriverCounter& counter : options_.coordination->Counters()) {
      counters.push_back(std::move(counter));
    }
  }
  return counters;
}

std::string LayoutStore::MarkNow(std::string_view scope) {
  if (!options_.coordination) return "";
  auto mark = options_.coordination->ChangeMark(scope);
  return mark.ok() ? *mark : "";
}

Status LayoutStore::Announce(std::string_view scope) {
  if (!options_.coordination) return Status::Ok();
  Status published = options_.coordination->PublishChange(scope);
  if (published.ok()) return published;
  return Unavailable("cannot tell the other replicas of the change (" + published.message() + ")");
}

Status LayoutStore::AnnounceUse(const Digest& digest) {
  RecordLocalUse(digest);
  if (!options_.coordination) return Status::Ok();
  Status used = options_.coordination->UseContent(digest);
  if (used.ok()) return used;
  return Unavailable("cannot announce " + digest.ToString() + " in use to the other replicas (" +
                     used.message() + ")");
}

Status LayoutStore::RefreshRepositoryList(bool always) {
  if (!options_.coordination && !always) return Status::Ok();
  std::lock_guard lock(catalog_mu_);
  const std::string mark = MarkNow("");
  if (!always && !mark.empty() && mark == catalog_mark_) return Status::Ok();
  std::vector<std::string> problems;
  auto names = DiscoverRepositoryNames(*driver_, kRediscoveryParallelism, problems);
  // A listing that failed keeps the repositories known so far, and the next call tries again.
  OCIREG_RETURN_IF_ERROR(names);
  if (!problems.empty()) return Unavailable("repositories not all listed: " + problems.front());
  {
    std::unique_lock repos_lock(repos_mu_);
    for (std::string& name : *names) {
      auto [it, inserted] = repos_.try_emplace(std::move(name), nullptr);
      if (inserted) it->second = std::make_shared<RepoState>();
      it->second->exists = true;
    }
  }
  catalog_mark_ = mark;
  return Status::Ok();
}

void LayoutStore::RecordLocalUse(const Digest& digest) {
  const auto now = options_.now();
  std::lock_guard lock(uses_mu_);
  local_uses_.insert_or_assign(digest, now);
  // Trimmed every so often, not on every call: a scan of the map.
  constexpr size_t kTrimEvery = 1024;
  if (++uses_since_trim_ < kTrimEvery) return;
  uses_since_trim_ = 0;
  const auto since = std::min(now, collection_started_.value_or(now)) - LocalUseWindow();
  std::erase_if(local_uses_, [&](const auto& entry) { return entry.second < since; });
}

bool LayoutStore::UsedLocallyLocked(const Digest& digest) const {
  auto it = local_uses_.find(digest);
  if (it == local_uses_.end()) return false;
  const auto now = options_.now();
  return it->second >= std::min(now, collection_started_.value_or(now)) - LocalUseWindow();
}

Result<bool> LayoutStore::RemoveCollected(const Lease* lease, const std::optional<Digest>& digest,
                                          const std::string& path) {
  // Held from the check to the removal: an announcement in this process waits for the removal,
  // and the one who announced then finds the file gone.
  std::lock_guard uses(uses_mu_);
  if (digest && UsedLocallyLocked(*digest)) return false;
  if (lease != nullptr && !digest) lease = nullptr;  // nothing anybody can rely on by name
  if (lease != nullptr) {
    auto claimed = options_.coordination->ClaimContent(*lease, *digest);
    OCIREG_RETURN_IF_ERROR(claimed);
    if (!*claimed) return false;
  }
  Status removed = driver_->Remove(path);
  if (lease != nullptr) options_.coordination->ReleaseContent(*digest);
  if (!removed.ok() && !IsNotFound(removed)) return removed;
  return true;
}

}  // namespace ocireg::internal
