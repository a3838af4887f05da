// SPDX-License-Identifier: Apache-2.0
// Garbage collection of the store: unreferenced repository blobs, unlinked content, idle uploads.
#include <algorithm>
#include <set>

#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/on_exit.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {

bool LayoutStore::OlderThan(const FileInfo& info, std::chrono::seconds age) const {
  return options_.now() - info.modified >= age;
}

Status LayoutStore::CollectRepository(const std::string& repo, RepoState& state, const Lease* lease,
                                      std::set<Digest>& linked, GcReport& report) {
  // Holding the repository's lock: no manifest can be put between reading the references and
  // removing what they do not name.
  std::unique_lock lock(state.mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, state));
  SettleLocked(lock, state);
  // Without every manifest's references nothing can be judged unreferenced: keep every blob
  // (and its content-store copy) and report why.
  auto keep_all = [&](const Status& why) {
    auto blobs = ListStoredBlobs(*driver_, RepoBlobDirs(repo));
    if (blobs.ok()) {
      for (const StoredBlob& blob : *blobs) {
        if (blob.digest) linked.insert(*blob.digest);
      }
    }
    return why;
  };
  // Pushes still pending keep their blobs too: their index may yet be written.
  std::set<Digest> referenced;
  for (const RepoIndex* index : state.possible()) {
    for (const auto& [digest, entry] : index->manifests()) {
      referenced.insert(digest);
      auto facts = FactsLocked(repo, state, entry);
      if (!facts.ok()) return keep_all(facts.status());
      referenced.insert((*facts)->references.begin(), (*facts)->references.end());
    }
  }
  auto blobs = ListStoredBlobs(*driver_, RepoBlobDirs(repo));
  OCIREG_RETURN_IF_ERROR(blobs);
  for (const StoredBlob& blob : *blobs) {
    if (!blob.digest) continue;  // not ours; scrub reports it
    if (referenced.contains(*blob.digest)) {
      linked.insert(*blob.digest);
      continue;
    }
    auto info = driver_->StatFile(blob.path);
    if (!info.ok() || !OlderThan(*info, options_.gc_grace_period)) {
      linked.insert(*blob.digest);
      continue;
    }
    auto removed = RemoveCollected(lease, blob.digest, blob.path);
    OCIREG_RETURN_IF_ERROR(removed);
    if (!*removed) {
      linked.insert(*blob.digest);  // another replica is about to rely on it
      continue;
    }
    ++report.blobs_removed;
  }
  ++report.repositories_scanned;
  return Status::Ok();
}

// Content is the one copy of a blob on an object store, where a repository's link does not keep it
// (driver.h): content is collected only when every repository was scanned.
Status LayoutStore::CollectContent(const std::set<Digest>& linked, const Lease* lease,
                                   GcReport& report) {
  auto blobs = ListStoredBlobs(*driver_, ContentAlgorithmDir);
  OCIREG_RETURN_IF_ERROR(blobs);
  for (const StoredBlob& blob : *blobs) {
    if (blob.digest && linked.contains(*blob.digest)) continue;
    std::lock_guard lock(content_mu_);
    if (blob.digest && installing_.contains(*blob.digest)) continue;
    // A link made after the repositories were scanned refreshes the modification time, so
    // content that was just linked is younger than the grace period and stays.
    auto info = driver_->StatFile(blob.path);
    if (!info.ok() || !OlderThan(*info, options_.gc_grace_period)) continue;
    // A file whose name is no digest is nothing a replica can rely on: no claim is needed.
    auto removed = RemoveCollected(blob.digest ? lease : nullptr, blob.digest, blob.path);
    OCIREG_RETURN_IF_ERROR(removed);
    if (*removed) report.bytes_reclaimed += info->size;
  }
  return Status::Ok();
}

Status LayoutStore::CollectUploads(GcReport& report) {
  auto ids = ListOrEmpty(*driver_, kUploadsDir);
  OCIREG_RETURN_IF_ERROR(ids);
  for (const std::string& id : *ids) {
    std::string dir = UploadDir(id);
    auto data = driver_->StatFile(UploadDataPath(id));
    auto info = data.ok() ? data : driver_->Stat(dir);
    if (!info.ok() || !OlderThan(*info, options_.upload_ttl)) continue;
    std::shared_ptr<UploadSession> session;
    {
      std::lock_guard lock(uploads_mu_);
      auto it = uploads_.find(id);
      if (it != uploads_.end()) session = it->second;
    }
    // A live session is ended under its own lock, so no append races with the removal.
    Status removed = session ? session->Expire() : driver_->RemoveTree(dir);
    if (!removed.ok()) {
      report.problems.push_back("upload " + id + ": not removed: " + removed.message());
      continue;
    }
    ++report.uploads_removed;
  }
  return Status::Ok();
}

// One entry that cannot be read must not stop the collection of everything else: each stage
// reports what it skipped and the next one runs.
Result<GcReport> LayoutStore::CollectGarbage() {
  if (!options_.coordination) return CollectGarbageUnder(nullptr);
  // One collection in the cluster at a time; its claims are fenced by the lease's token.
  auto lease = options_.coordination->AcquireLease("gc");
  if (!lease.ok()) {
    return Status(lease.status().code(),
                  "garbage collection not started: " + lease.status().message());
  }
  return CollectGarbageUnder(lease->get());
}

Result<GcReport> LayoutStore::CollectGarbageUnder(const Lease* lease) {
  {
    std::lock_guard uses(uses_mu_);
    if (collections_running_++ == 0) collection_started_ = options_.now();
  }
  OnExit ended([this] {
    std::lock_guard uses(uses_mu_);
    if (--collections_running_ == 0) collection_started_.reset();
  });
  GcReport report;
  report.problems = open_problems_;
  // On shared storage, repositories other processes made hold content too: without all of them
  // listed, nothing in the content store can be judged unreferenced.
  if (Status listed = RefreshRepositoryList(SharesStorage()); !listed.ok()) {
    report.problems.push_back("repositories: " + listed.message());
  }
  std::set<Digest> linked;
  uint64_t repositories = 0;
  for (const auto& [repo, state] : SnapshotRepositories()) {
    Status collected = CollectRepository(repo, *state, lease, linked, report);
    if (!collected.ok()) {
      report.problems.push_back(repo + ": skipped, nothing removed: " + collected.message());
    }
    Progress("repositories", ++repositories);
  }
  Progress("content", 0);
  const bool every_repository = report.problems.size() == open_problems_.size();
  Status content = every_repository
                       ? CollectContent(linked, lease, report)
                       : Unavailable("skipped, nothing removed: not every repository was scanned");
  if (!content.ok()) report.problems.push_back("content store: " + content.message());
  Progress("uploads", 0);
  Status uploads = CollectUploads(report);
  if (!uploads.ok()) report.problems.push_back("uploads: " + uploads.message());
  // What the driver keeps beside the files (an object store's abandoned multipart uploads) is
  // left alone as long as the session that made it may still be in use.
  const auto keep = std::max(options_.gc_grace_period, options_.upload_ttl);
  auto leftovers = driver_->CollectLeftovers(options_.now() - keep);
  if (!leftovers.ok()) report.problems.push_back("storage: " + leftovers.status().message());
  return report;
}

}  // namespace ocireg::internal
