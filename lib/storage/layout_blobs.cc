// SPDX-License-Identifier: Apache-2.0
// Blobs of a repository: stat, read, delete, mount from another repository, and installing a
// blob (an upload committed to the content store, or a manifest body) by linking its one shared
// copy in the content store.
#include <algorithm>
#include <string>
#include <vector>

#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/store_errors.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {

Result<BlobInfo> LayoutStore::StatBlob(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto info = driver_->StatFile(RepoBlobPath(repo, digest));
  if (!info.ok()) return IsNotFound(info.status()) ? UnknownBlob(repo, digest) : info.status();
  return BlobInfo{digest, info->size};
}

Result<std::unique_ptr<FileReader>> LayoutStore::OpenBlob(std::string_view repo,
                                                          const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto reader = driver_->OpenReader(RepoBlobPath(repo, digest));
  if (!reader.ok() && IsNotFound(reader.status())) return UnknownBlob(repo, digest);
  return reader;
}

Status LayoutStore::DeleteBlob(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownBlob(repo, digest);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  SettleLocked(lock, *state);
  const auto possible = state->possible();
  if (std::any_of(possible.begin(), possible.end(),
                  [&](const RepoIndex* index) { return index->FindManifest(digest) != nullptr; })) {
    return Unsupported(digest.ToString() + " is a manifest of " + std::string(repo) +
                       ": delete it through the manifests endpoint");
  }
  Status removed = driver_->Remove(RepoBlobPath(repo, digest));
  if (IsNotFound(removed)) return UnknownBlob(repo, digest);
  return removed;
}

LayoutStore::InstallGuard::~InstallGuard() {
  std::lock_guard lock(store_.content_mu_);
  store_.installing_.erase(store_.installing_.find(digest_));
}

std::unique_ptr<LayoutStore::InstallGuard> LayoutStore::GuardInstall(const Digest& digest) {
  std::lock_guard lock(content_mu_);
  installing_.insert(digest);
  return std::make_unique<InstallGuard>(*this, digest);
}

Status LayoutStore::InstallBlob(std::string_view repo, const Digest& digest, BlobWriter& writer) {
  OCIREG_RETURN_IF_ERROR(EnsureRepository(repo));
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  auto guard = GuardInstall(digest);
  OCIREG_RETURN_IF_ERROR(AnnounceUse(digest));
  // kAlreadyExists: the content store had the blob (its time is refreshed); ours is dropped.
  Status committed = writer.Commit(content);
  if (!committed.ok() && !IsAlreadyExists(committed)) return committed;
  Status linked = driver_->Link(content, target);
  if (IsAlreadyExists(linked)) return KeepLinked(repo, {content}, target);
  return linked;
}

Status LayoutStore::InstallBytes(std::string_view repo, const Digest& digest,
                                 std::string_view bytes) {
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  auto guard = GuardInstall(digest);
  OCIREG_RETURN_IF_ERROR(AnnounceUse(digest));
  Status linked = driver_->Link(content, target);
  if (IsNotFound(linked)) {
    // The content store has no copy: write one (the same bytes as any copy written meanwhile,
    // since the name is their digest), then link it.
    OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(content, bytes));
    linked = driver_->Link(content, target);
  }
  // An existing blob of the repository has had its time refreshed by the link.
  if (IsAlreadyExists(linked)) return Status::Ok();
  return linked;
}

Result<BlobInfo> LayoutStore::MountBlob(std::string_view repo, const Digest& digest,
                                        std::string_view from) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(from));
  auto source = StatBlob(from, digest);
  OCIREG_RETURN_IF_ERROR(source);
  OCIREG_RETURN_IF_ERROR(EnsureRepository(repo));
  const std::string own = RepoBlobPath(from, digest);
  const std::string shared = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  OCIREG_RETURN_IF_ERROR(AnnounceUse(digest));
  Status linked = driver_->Link(own, target);
  if (!linked.ok() && !IsNotFound(linked) && !IsAlreadyExists(linked)) {
    // The source's file may take no more names (EMLINK); the content store's copy may be another
    // file (a commit replaces a copy crowded with names).
    Status copy = driver_->Link(shared, target);
    if (copy.ok() || IsAlreadyExists(copy)) linked = copy;
  }
  if (IsAlreadyExists(linked)) linked = KeepLinked(repo, {own, shared}, target);
  if (IsNotFound(linked)) return UnknownBlob(from, digest);
  OCIREG_RETURN_IF_ERROR(linked);
  return *source;
}

std::vector<std::string> LayoutStore::FindBlob(const Digest& digest) {
  std::vector<std::string> found;
  for (const auto& [repo, state] : SnapshotRepositories()) {
    if (driver_->StatFile(RepoBlobPath(repo, digest)).ok()) found.push_back(repo);
  }
  return found;
}

}  // namespace ocireg::internal
