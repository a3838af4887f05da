// SPDX-License-Identifier: Apache-2.0
// Blobs of a repository: stat, read, delete, mount from another repository, and installing a
// verified blob (an upload's data or a manifest body) with one shared copy in the content store.
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
  auto info = driver_->Stat(RepoBlobPath(repo, digest));
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

Status LayoutStore::InstallBlob(std::string_view repo, const Digest& digest,
                                std::string_view data_path) {
  OCIREG_RETURN_IF_ERROR(EnsureRepository(repo));
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  const std::string own(data_path);
  // Prefer the copy the store already has, so every repository shares one file.
  Status shared = driver_->Link(content, target);
  if (shared.ok()) return Status::Ok();
  if (IsAlreadyExists(shared)) return KeepLinked(repo, {content, own}, target);
  // No shared copy (or garbage collection just took it), or one that takes no more names
  // (EMLINK): the repository links our own file, which nobody else can remove.
  Status linked = driver_->Link(own, target);
  if (IsAlreadyExists(linked)) return KeepLinked(repo, {content, own}, target);
  OCIREG_RETURN_IF_ERROR(linked);
  // The content store learns of our file for later pushes.
  if (IsNotFound(shared)) return SeedContent(target, content);
  ReplaceContent(own, content);
  return Status::Ok();
}

Status LayoutStore::InstallBytes(std::string_view repo, const Digest& digest,
                                 std::string_view bytes) {
  const std::string content = ContentPath(digest);
  const std::string target = RepoBlobPath(repo, digest);
  Status linked = driver_->Link(content, target);
  if (IsNotFound(linked)) {
    OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(target, bytes));
    return SeedContent(target, content);
  }
  if (IsAlreadyExists(linked)) return Status::Ok();
  return linked;
}

Status LayoutStore::SeedContent(std::string_view blob, std::string_view content) {
  // Not flushed: a seed lost in a crash only costs a later push its deduplication.
  Status seeded = driver_->Link(blob, content, Durability::kCache);
  // Another push may have seeded it first, or the blob may be gone already: both are fine, the
  // content store is only a source for deduplication.
  if (IsAlreadyExists(seeded) || IsNotFound(seeded)) {
    return Status::Ok();
  }
  return seeded;
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
  Status linked = driver_->Link(own, target);
  if (!linked.ok() && !IsNotFound(linked) && !IsAlreadyExists(linked)) {
    // The source's file may take no more names (EMLINK); the content store's copy may be another
    // file (see ReplaceContent).
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
    if (driver_->Stat(RepoBlobPath(repo, digest)).ok()) found.push_back(repo);
  }
  return found;
}

}  // namespace ocireg::internal
