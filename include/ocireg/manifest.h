// SPDX-License-Identifier: Apache-2.0
// ParseManifest: validates an image manifest or index and extracts what the registry needs from it.
//
// The body is never rewritten: the registry stores and serves the exact bytes it was given, and
// this parser only reads them. Accepted kinds: OCI image manifest, OCI image index, Docker image
// manifest v2 schema 2 and Docker manifest list. Docker schema 1 is refused with kManifestInvalid.
//
// Contract: ParseManifest is a pure function (thread-safe, no I/O); the parsed result owns copies
// of what it extracted and does not refer to the body. Errors: kManifestInvalid (malformed JSON, a
// contradicting media type, bad descriptors), kManifestTooLarge, kDigestInvalid.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/descriptor.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

namespace media_types {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciEmptyJson = "application/vnd.oci.empty.v1+json";
}  // namespace media_types

// The default limit on a manifest body, 4 MiB, as the spec suggests.
inline constexpr size_t kDefaultMaxManifestBytes = 4 * 1024 * 1024;

enum class ManifestKind { kOciManifest, kOciIndex, kDockerManifest, kDockerManifestList };

// Whether `kind` lists child manifests (an index or a manifest list) rather than config and layers.
inline bool IsIndexKind(ManifestKind kind) {
  return kind == ManifestKind::kOciIndex || kind == ManifestKind::kDockerManifestList;
}

// What the registry needs to know of a manifest.
struct OCIREG_EXPORT ManifestInfo {
  ManifestKind kind = ManifestKind::kOciManifest;
  // The media type the manifest is stored and served with: the Content-Type it was pushed with, or
  // the body's mediaType when no Content-Type was given.
  std::string media_type;
  std::optional<Descriptor> config;   // image manifests only
  std::vector<Descriptor> layers;     // image manifests only
  std::vector<Descriptor> manifests;  // indexes and manifest lists only
  std::optional<Descriptor> subject;
  std::string artifact_type;  // the body's artifactType, if any
  Annotations annotations;

  // The type a referrers response reports: artifactType, else the config's media type (image
  // manifests only), else empty.
  std::string ReferrerArtifactType() const;
  // Every descriptor the manifest points at except the subject: config, layers and child manifests.
  std::vector<Descriptor> References() const;
};

// Validates `body` as a manifest pushed with Content-Type `content_type` (may be empty).
// Errors:
//   kManifestTooLarge   the body is longer than `max_bytes`
//   kManifestInvalid    malformed JSON, schema violations, an unknown or schema 1 media type, a
//   body
//                       mediaType that contradicts `content_type`, a negative size
//   kDigestInvalid      a descriptor carries a malformed digest
OCIREG_EXPORT Result<ManifestInfo> ParseManifest(std::string_view content_type,
                                                 std::string_view body,
                                                 size_t max_bytes = kDefaultMaxManifestBytes);

}  // namespace ocireg
