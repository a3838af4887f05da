// SPDX-License-Identifier: Apache-2.0
// The storage engine: repositories as OCI image layouts, blobs deduplicated through one content
// store. This file opens the store and keeps the in-memory state of its repositories; the files
// holding the rest of LayoutStore are listed in layout_store.h.
#include "storage/layout_store.h"

#include <utility>
#include <vector>

#include "storage/layout.h"
#include "storage/on_exit.h"
#include "storage/repository_discovery.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {
namespace {

// Directories listed at once while the store opens (see DiscoverRepositoryNames).
constexpr size_t kDiscoveryParallelism = 8;

}  // namespace

// --- Opening --------------------------------------------------------------------------------

LayoutStore::LayoutStore(std::unique_ptr<StorageDriver> driver, StoreOptions options)
    : driver_(std::move(driver)), options_(std::move(options)) {
  if (!options_.now) options_.now = [] { return std::chrono::system_clock::now(); };
}

LayoutStore::~LayoutStore() = default;

Result<std::unique_ptr<LayoutStore>> LayoutStore::Open(std::unique_ptr<StorageDriver> driver,
                                                       StoreOptions options) {
  auto store = std::make_unique<LayoutStore>(std::move(driver), std::move(options));
  OCIREG_RETURN_IF_ERROR(store->DiscoverRepositories());
  return store;
}

Status LayoutStore::DiscoverRepositories() {
  auto names = DiscoverRepositoryNames(*driver_, kDiscoveryParallelism, open_problems_);
  OCIREG_RETURN_IF_ERROR(names);
  std::unique_lock lock(repos_mu_);
  for (std::string& name : *names) {
    auto state = std::make_shared<RepoState>();
    state->exists = true;
    repos_.emplace(std::move(name), std::move(state));
  }
  return Status::Ok();
}

// --- Repository state -------------------------------------------------------------------------

std::shared_ptr<RepoState> LayoutStore::FindState(std::string_view repo) {
  {
    std::shared_lock lock(repos_mu_);
    auto it = repos_.find(repo);
    if (it != repos_.end() && it->second->exists) return it->second;
  }
  if (options_.shared_refresh.count() == 0) return nullptr;
  // Another process may have made it: its marker says so (as at discovery).
  if (!driver_->StatFile(RepoMarkerPath(repo)).ok()) return nullptr;
  auto state = GetOrCreateState(repo);
  state->exists = true;
  return state;
}

std::shared_ptr<RepoState> LayoutStore::GetOrCreateState(std::string_view repo) {
  {
    std::shared_lock lock(repos_mu_);
    auto it = repos_.find(repo);
    if (it != repos_.end()) return it->second;
  }
  std::unique_lock lock(repos_mu_);
  auto [it, inserted] = repos_.try_emplace(std::string(repo), nullptr);
  if (inserted) it->second = std::make_shared<RepoState>();
  return it->second;
}

void LayoutStore::ForgetIfAbsent(std::string_view repo, const std::shared_ptr<RepoState>& state) {
  if (state->exists) return;
  std::unique_lock lock(repos_mu_);
  auto it = repos_.find(repo);
  // Copies of the pointer are taken from the map only under repos_mu_, so with it held a count of
  // two (the map's and ours) means no other call is creating this repository.
  if (it != repos_.end() && it->second == state && state.use_count() == 2 && !state->exists) {
    repos_.erase(it);
  }
}

size_t LayoutStore::TEST_StateCount() {
  std::shared_lock lock(repos_mu_);
  return repos_.size();
}

std::vector<std::pair<std::string, std::shared_ptr<RepoState>>>
LayoutStore::SnapshotRepositories() {
  std::shared_lock lock(repos_mu_);
  std::vector<std::pair<std::string, std::shared_ptr<RepoState>>> out;
  for (const auto& [name, state] : repos_) {
    if (state->exists) out.emplace_back(name, state);
  }
  return out;
}

Status LayoutStore::LoadLocked(std::string_view repo, RepoState& state, bool* deferred) {
  const auto now = std::chrono::steady_clock::now();
  // Read before the index: a change announced after this read moves the mark again, so the copy
  // read now is trusted only until then.
  std::string mark = MarkNow(repo);
  if (state.loaded) {
    const bool timely =
        options_.shared_refresh.count() == 0 || now - state.loaded_at < options_.shared_refresh;
    const bool unchanged = !options_.coordination || (!mark.empty() && mark == state.mark);
    if (timely && unchanged) return Status::Ok();
    // This process's own changes under way are written onto whatever is newer then: an index
    // read now would be overwritten by the one they were built on.
    if (state.writing || state.pending) {
      if (deferred != nullptr) *deferred = true;
      return Status::Ok();
    }
    return RefreshLocked(repo, state, now, std::move(mark));
  }
  auto json = driver_->ReadVersioned(RepoIndexPath(repo));
  if (json.ok()) {
    OCIREG_RETURN_IF_ERROR(AdoptIndexLocked(repo, state, std::move(*json)));
  } else if (!IsNotFound(json.status())) {
    return json.status();
  }
  state.loaded = true;
  state.loaded_at = now;
  state.mark = std::move(mark);
  return Status::Ok();
}

Status LayoutStore::LoadForReadingLocked(std::unique_lock<std::mutex>& lock, std::string_view repo,
                                         RepoState& state) {
  bool deferred = false;
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, state, &deferred));
  if (!deferred || !options_.coordination) return Status::Ok();
  // Another replica changed the repository while this one writes its index: what it
  // acknowledged is read once this process's writes are done (or, should they keep coming, after
  // kReadWaitForWrites, from the index as it then stands).
  state.index_written.wait_for(lock, kReadWaitForWrites,
                               [&] { return !state.writing && !state.pending; });
  return LoadLocked(repo, state);
}

Status LayoutStore::RefreshLocked(std::string_view repo, RepoState& state,
                                  std::chrono::steady_clock::time_point now, std::string mark) {
  auto changed = driver_->ReadVersionedIfChanged(RepoIndexPath(repo), state.version);
  // A failed refresh keeps serving the copy it has, and the next use tries again.
  if (!changed.ok()) return Status::Ok();
  if (changed->has_value()) {
    OCIREG_RETURN_IF_ERROR(AdoptIndexLocked(repo, state, std::move(**changed)));
  }
  state.loaded_at = now;
  state.mark = std::move(mark);
  return Status::Ok();
}

Status LayoutStore::AdoptIndexLocked(std::string_view repo, RepoState& state, VersionedFile json) {
  auto index = RepoIndex::Parse(json.data);
  if (!index.ok()) return Internal(std::string(repo) + "/index.json: " + index.status().message());
  state.index = std::move(*index);
  state.version = std::move(json.version);
  return Status::Ok();
}

Status LayoutStore::CreateLayoutLocked(std::string_view repo, RepoState& state) {
  if (state.exists) return Status::Ok();
  // A crash between the two writes leaves a marker without an index, which reads as empty.
  OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(RepoMarkerPath(repo), kLayoutMarkerContent));
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, state));
  // Only where there is no index yet: another process sharing the storage may have made the
  // repository since this one looked.
  if (state.version.empty()) {
    auto written = driver_->ReplaceFile(RepoIndexPath(repo), state.index.Serialize(), "");
    if (IsAlreadyExists(written.status())) {
      state.loaded = false;
      OCIREG_RETURN_IF_ERROR(LoadLocked(repo, state));
    } else {
      OCIREG_RETURN_IF_ERROR(written);
      state.version = std::move(*written);
    }
  }
  state.exists = true;
  // Other replicas list the repository from the next catalog request on.
  return Announce("");
}

Status LayoutStore::EnsureRepository(std::string_view repo) {
  auto state = GetOrCreateState(repo);
  if (state->exists) return Status::Ok();
  OnExit forget([&] { ForgetIfAbsent(repo, state); });
  std::lock_guard lock(state->mu);
  return CreateLayoutLocked(repo, *state);
}

}  // namespace ocireg::internal

namespace ocireg {

Result<std::unique_ptr<Store>> OpenStore(std::unique_ptr<StorageDriver> driver,
                                         StoreOptions options) {
  if (driver == nullptr) return InvalidArgument("OpenStore needs a driver");
  auto store = internal::LayoutStore::Open(std::move(driver), std::move(options));
  OCIREG_RETURN_IF_ERROR(store);
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace ocireg
