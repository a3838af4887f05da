// SPDX-License-Identifier: Apache-2.0
// What the manifests of a repository reference, read from their blobs once and cached in the
// repository's state: for deletes that must keep a referenced blob, garbage collection, scrub and
// referrers.
#include <algorithm>
#include <optional>
#include <string>

#include "ocireg/manifest.h"
#include "storage/layout.h"
#include "storage/layout_store.h"

namespace ocireg::internal {

ManifestFacts FactsOf(const ManifestInfo& info) {
  ManifestFacts facts;
  for (const Descriptor& d : info.References()) facts.references.push_back(d.digest);
  if (info.subject) facts.subject = info.subject->digest;
  facts.artifact_type = info.ReferrerArtifactType();
  facts.annotations = info.annotations;
  return facts;
}

std::optional<Digest> LayoutStore::ParentLocked(std::string_view repo, RepoState& state,
                                                const Digest& digest) {
  for (const RepoIndex* index : state.possible()) {
    for (const auto& [other, entry] : index->manifests()) {
      if (other == digest) continue;
      auto facts = FactsLocked(repo, state, entry);
      if (!facts.ok()) continue;  // unreadable: scrub reports it
      const auto& refs = (*facts)->references;
      if (std::find(refs.begin(), refs.end(), digest) != refs.end()) return other;
    }
  }
  return std::nullopt;
}

bool LayoutStore::MayBeReferencedLocked(std::string_view repo, RepoState& state,
                                        const Digest& digest) {
  for (const RepoIndex* index : state.possible()) {
    if (index->FindManifest(digest) != nullptr) return true;
    for (const auto& [other, entry] : index->manifests()) {
      auto facts = FactsLocked(repo, state, entry);
      if (!facts.ok()) return true;
      const auto& refs = (*facts)->references;
      if (std::find(refs.begin(), refs.end(), digest) != refs.end()) return true;
    }
  }
  return false;
}

Result<const ManifestFacts*> LayoutStore::FactsLocked(std::string_view repo, RepoState& state,
                                                      const IndexEntry& entry) {
  auto it = state.facts.find(entry.digest);
  if (it != state.facts.end()) return &it->second;
  auto body = driver_->ReadFile(RepoBlobPath(repo, entry.digest));
  OCIREG_RETURN_IF_ERROR(body);
  // Stored manifests were valid when pushed; no size limit applies to reading them back.
  auto info = ParseManifest(entry.media_type, *body, body->size());
  if (!info.ok()) {
    return Internal(std::string(repo) + ": stored manifest " + entry.digest.ToString() +
                    " no longer parses: " + info.status().message());
  }
  return &state.facts.emplace(entry.digest, FactsOf(*info)).first->second;
}

}  // namespace ocireg::internal
