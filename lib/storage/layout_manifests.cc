// SPDX-License-Identifier: Apache-2.0
// Manifests of a repository: put (with its tags), resolve, read, delete, untag, and referrers.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ocireg/manifest.h"
#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/on_exit.h"
#include "storage/store_errors.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {
namespace {

// A foreign (non-distributable) layer lives at its URLs, not in the registry.
bool IsExternal(const Descriptor& d) { return !d.urls.empty(); }

bool IsChildManifest(const ManifestInfo& info, const Digest& digest) {
  return std::any_of(info.manifests.begin(), info.manifests.end(),
                     [&](const Descriptor& child) { return child.digest == digest; });
}

}  // namespace

Status LayoutStore::CheckReferencesLocked(std::string_view repo, RepoState& state,
                                          const ManifestInfo& info, bool sparse) {
  for (const Descriptor& d : info.References()) {
    if (IsExternal(d)) continue;
    if (state.latest().FindManifest(d.digest) != nullptr) continue;
    // Before the check: a collection on another replica then either keeps the blob or has
    // removed it by the time it is looked for.
    OCIREG_RETURN_IF_ERROR(AnnounceUse(d.digest));
    auto blob = driver_->StatFile(RepoBlobPath(repo, d.digest));
    if (!blob.ok()) {
      if (!IsNotFound(blob.status())) return blob.status();
      if (sparse && IsChildManifest(info, d.digest)) continue;
      return ManifestBlobUnknown("manifest references " + d.digest.ToString() +
                                 ", which is not in repository " + std::string(repo));
    }
    if (d.size >= 0 && static_cast<uint64_t>(d.size) != blob->size) {
      return ManifestInvalid("descriptor of " + d.digest.ToString() + " gives size " +
                             std::to_string(d.size) + " but the blob has " +
                             std::to_string(blob->size) + " bytes");
    }
  }
  return Status::Ok();
}

Result<PutManifestResult> LayoutStore::PutManifest(std::string_view repo,
                                                   const Reference& reference,
                                                   std::span<const std::string> extra_tags,
                                                   std::string_view content_type,
                                                   std::string_view body) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  std::vector<std::string> tags;
  if (!reference.is_digest()) tags.push_back(reference.tag());
  for (const std::string& tag : extra_tags) {
    OCIREG_RETURN_IF_ERROR(ValidateTag(tag));
    tags.push_back(tag);
  }
  auto info = ParseManifest(content_type, body, options_.max_manifest_bytes);
  OCIREG_RETURN_IF_ERROR(info);
  DigestAlgorithm algorithm =
      reference.is_digest() ? reference.digest().algorithm() : DigestAlgorithm::kSha256;
  Digest digest = Digester::Of(algorithm, body);
  if (reference.is_digest() && digest != reference.digest()) {
    return DigestInvalid("manifest body has digest " + digest.ToString() + ", not " +
                         reference.digest().ToString());
  }

  const bool sparse = AcceptsSparseIndexes(repo);
  auto state = GetOrCreateState(repo);
  OnExit forget([&] { ForgetIfAbsent(repo, state); });  // after `lock` is released
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  OCIREG_RETURN_IF_ERROR(CheckReferencesLocked(repo, *state, *info, sparse));
  OCIREG_RETURN_IF_ERROR(CreateLayoutLocked(repo, *state));
  // The body becomes visible as a blob first and in the index last, so a crash in between leaves
  // an unreferenced blob for garbage collection, never an index entry without its manifest.
  OCIREG_RETURN_IF_ERROR(InstallBytes(repo, digest, body));
  const IndexEntry entry{digest, info->media_type, body.size(), info->artifact_type};
  OCIREG_RETURN_IF_ERROR(CommitIndexLocked(lock, repo, *state, [&](RepoIndex& index) {
    index.PutManifest(entry);
    for (const std::string& tag : tags) index.SetTag(tag, digest);
    return Status::Ok();
  }));
  state->facts.insert_or_assign(digest, FactsOf(*info));
  manifest_cache_.Insert(digest, body);

  PutManifestResult result{digest, std::nullopt};
  if (info->subject) result.subject = info->subject->digest;
  return result;
}

Result<ManifestRecord> LayoutStore::ResolveManifest(std::string_view repo,
                                                    const Reference& reference) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadForReadingLocked(lock, repo, *state));
  const Digest* digest =
      reference.is_digest() ? &reference.digest() : state->index.FindTag(reference.tag());
  const IndexEntry* entry = digest ? state->index.FindManifest(*digest) : nullptr;
  if (entry == nullptr) return UnknownManifest(repo, reference.ToString());
  return ManifestRecord{entry->digest, entry->media_type, entry->size};
}

Result<std::string> LayoutStore::ReadManifest(std::string_view repo, const Digest& digest) {
  auto record = ResolveManifest(repo, Reference::FromDigest(digest));
  OCIREG_RETURN_IF_ERROR(record);
  if (std::optional<std::string> cached = manifest_cache_.Find(digest)) return std::move(*cached);
  auto body = driver_->ReadFile(RepoBlobPath(repo, digest));
  if (!body.ok() && IsNotFound(body.status())) return UnknownManifest(repo, digest.ToString());
  // Damaged bytes go to the client as stored (it checks the digest; scrub reports them), but
  // are not kept.
  if (body.ok() && Digester::Of(digest.algorithm(), *body) == digest) {
    manifest_cache_.Insert(digest, *body);
  }
  return body;
}

Status LayoutStore::DeleteManifest(std::string_view repo, const Digest& digest) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  if (state->latest().FindManifest(digest) == nullptr) {
    return UnknownManifest(repo, digest.ToString());
  }
  // A child of an index cannot go while the index lists it: the index would no longer pull.
  if (auto parent = ParentLocked(repo, *state, digest)) {
    return Unsupported(digest.ToString() + " is listed by index " + parent->ToString() + " of " +
                       std::string(repo) + ": delete the index first");
  }
  OCIREG_RETURN_IF_ERROR(CommitIndexLocked(lock, repo, *state, [&](RepoIndex& index) {
    if (!index.RemoveManifest(digest)) return UnknownManifest(repo, digest.ToString());
    return Status::Ok();
  }));
  state->facts.erase(digest);
  // The blob is garbage now, unless the index lists it again (pushed meanwhile) or as a child:
  // then it stays, so that the index remains whole, until garbage collection finds it
  // unreferenced. Pushes still pending count too, since they may be either.
  SettleLocked(lock, *state);
  if (MayBeReferencedLocked(repo, *state, digest)) return Status::Ok();
  Status removed = driver_->Remove(RepoBlobPath(repo, digest));
  if (!removed.ok() && !IsNotFound(removed)) return removed;
  return Status::Ok();
}

Status LayoutStore::DeleteTag(std::string_view repo, std::string_view tag) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto state = FindState(repo);
  if (state == nullptr) return UnknownRepository(repo);
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadLocked(repo, *state));
  return CommitIndexLocked(lock, repo, *state, [&](RepoIndex& index) {
    if (!index.RemoveTag(tag)) return UnknownManifest(repo, tag);
    return Status::Ok();
  });
}

Result<std::vector<Descriptor>> LayoutStore::ListReferrers(std::string_view repo,
                                                           const Digest& subject,
                                                           std::string_view artifact_type) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  std::vector<Descriptor> referrers;
  auto state = FindState(repo);
  if (state == nullptr) return referrers;
  std::unique_lock lock(state->mu);
  OCIREG_RETURN_IF_ERROR(LoadForReadingLocked(lock, repo, *state));
  for (const auto& [digest, entry] : state->index.manifests()) {
    auto facts = FactsLocked(repo, *state, entry);
    // A manifest that cannot be read is skipped (scrub reports it): the others still answer.
    if (!facts.ok()) continue;
    const ManifestFacts& f = **facts;
    if (f.subject != subject) continue;
    if (!artifact_type.empty() && f.artifact_type != artifact_type) continue;
    Descriptor d;
    d.media_type = entry.media_type;
    d.digest = digest;
    d.size = static_cast<int64_t>(entry.size);
    d.artifact_type = f.artifact_type;
    d.annotations = f.annotations;
    referrers.push_back(std::move(d));
  }
  return referrers;
}

}  // namespace ocireg::internal
