// SPDX-License-Identifier: Apache-2.0
// Scrub: every blob re-hashed against its digest, every manifest's references checked.
#include <set>

#include "ocireg/manifest.h"
#include "storage/file_digest.h"
#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {

void LayoutStore::ScrubBlob(const std::string& where, const std::string& path, const Digest& digest,
                            ScrubReport& report) {
  ++report.blobs_checked;
  Digester digester(digest.algorithm());
  auto hashed = HashFile(*driver_, path, digester);
  if (!hashed.ok() && IsNotFound(hashed.status())) return;  // collected since it was listed
  if (!hashed.ok()) {
    report.problems.push_back(where + ": blob " + digest.ToString() +
                              " cannot be read: " + hashed.status().message());
    return;
  }
  Digest actual = digester.Finish();
  if (actual != digest) {
    report.problems.push_back(where + ": blob " + digest.ToString() + " has content " +
                              actual.ToString());
  }
}

Status LayoutStore::ScrubRepository(const std::string& repo, RepoState& state,
                                    std::set<Digest>& linked, ScrubReport& report) {
  auto blobs = ListStoredBlobs(*driver_, RepoBlobDirs(repo));
  if (!blobs.ok()) {
    report.problems.push_back(repo + ": blobs cannot be listed: " + blobs.status().message());
    blobs = std::vector<StoredBlob>{};
  }
  for (const StoredBlob& blob : *blobs) {
    if (!blob.digest) {
      report.problems.push_back(repo + ": unexpected file " + blob.path);
      continue;
    }
    linked.insert(*blob.digest);
    ScrubBlob(repo, blob.path, *blob.digest, report);
  }
  const bool sparse_indexes = AcceptsSparseIndexes(repo);  // asked with no lock held
  std::unique_lock lock(state.mu);
  Status loaded = LoadLocked(repo, state);
  if (!loaded.ok()) {
    report.problems.push_back(repo + ": " + loaded.message());
    return Status::Ok();
  }
  SettleLocked(lock, state);
  for (const auto& [digest, entry] : state.index.manifests()) {
    ++report.manifests_checked;
    auto facts = FactsLocked(repo, state, entry);
    if (!facts.ok()) {
      report.problems.push_back(repo + ": manifest " + digest.ToString() + ": " +
                                facts.status().message());
      continue;
    }
    const bool is_index = entry.media_type == media_types::kOciIndex ||
                          entry.media_type == media_types::kDockerManifestList;
    const bool sparse = is_index && sparse_indexes;
    for (const Digest& ref : (*facts)->references) {
      if (state.index.FindManifest(ref) != nullptr) continue;
      if (sparse) continue;  // absent children are allowed, and answer 404
      if (is_index) {
        // A child must be a manifest of the repository, or pulling it by digest fails.
        report.problems.push_back(repo + ": index " + digest.ToString() + " lists " +
                                  ref.ToString() + ", which is not a manifest of the repository");
        continue;
      }
      if (!driver_->StatFile(RepoBlobPath(repo, ref)).ok()) {
        report.problems.push_back(repo + ": manifest " + digest.ToString() + " references " +
                                  ref.ToString() + ", which is missing");
      }
    }
  }
  return Status::Ok();
}

Result<ScrubReport> LayoutStore::Scrub() {
  // One scrub in the cluster at a time: each reads every blob, which is the storage's whole load.
  std::unique_ptr<Lease> lease;
  if (options_.coordination) {
    auto taken = options_.coordination->AcquireLease("scrub");
    if (!taken.ok()) {
      return Status(taken.status().code(), "scrub not started: " + taken.status().message());
    }
    lease = std::move(*taken);
  }
  ScrubReport report;
  if (Status listed = RefreshRepositoryList(SharesStorage()); !listed.ok()) {
    report.problems.push_back("repositories created by other processes may be missed: " +
                              listed.message());
  }
  report.problems = open_problems_;
  std::set<Digest> linked;
  uint64_t repositories = 0;
  for (const auto& [repo, state] : SnapshotRepositories()) {
    OCIREG_RETURN_IF_ERROR(ScrubRepository(repo, *state, linked, report));
    Progress("repositories", ++repositories);
  }
  Progress("content", 0);
  // Content no repository links is checked too: it may be linked again by a later push.
  auto blobs = ListStoredBlobs(*driver_, ContentAlgorithmDir);
  OCIREG_RETURN_IF_ERROR(blobs);
  for (const StoredBlob& blob : *blobs) {
    if (!blob.digest) {
      report.problems.push_back("content store: unexpected file " + blob.path);
      continue;
    }
    if (!linked.contains(*blob.digest)) ScrubBlob("content store", blob.path, *blob.digest, report);
  }
  return report;
}

}  // namespace ocireg::internal
