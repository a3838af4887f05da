// SPDX-License-Identifier: Apache-2.0
// RepoIndex: a repository's manifests and tags, as kept in its OCI layout's index.json.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/descriptor.h"
#include "ocireg/digest.h"
#include "ocireg/status.h"

namespace ocireg::internal {

// A manifest of the repository: what index.json says of it.
struct IndexEntry {
  Digest digest;
  std::string media_type;
  uint64_t size = 0;
  std::string artifact_type;
};

// The annotation that names a tag in index.json (image-layout.md, annotations.md).
inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";

// In-memory model of index.json. Every manifest is listed, once per tag, or once without a tag
// when it has none, so that untagged manifests stay visible to OCI-layout tools. A plain value;
// the store serialises access.
class RepoIndex {
 public:
  // kInternal for a corrupt index.json (the store wrote it; anything else is damage).
  static Result<RepoIndex> Parse(std::string_view json);
  // Deterministic: tagged entries by tag, then untagged manifests by digest.
  std::string Serialize() const;

  const IndexEntry* FindManifest(const Digest& digest) const;
  const Digest* FindTag(std::string_view tag) const;
  const std::map<Digest, IndexEntry>& manifests() const { return manifests_; }
  const std::map<std::string, Digest, std::less<>>& tags() const { return tags_; }

  void PutManifest(IndexEntry entry);
  // Points `tag` at `digest`, which must be a manifest of the index.
  void SetTag(std::string_view tag, const Digest& digest);
  // False when the tag does not exist.
  bool RemoveTag(std::string_view tag);
  // Removes the manifest and its tags. False when it does not exist.
  bool RemoveManifest(const Digest& digest);

 private:
  std::map<Digest, IndexEntry> manifests_;
  std::map<std::string, Digest, std::less<>> tags_;
};

}  // namespace ocireg::internal
