// SPDX-License-Identifier: Apache-2.0
// The content a run pushes: random blobs and the manifests over them, generated per run so that
// runs never share a digest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ocireg/digest.h"

namespace ocireg::internal::check {

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kOciEmpty = "application/vnd.oci.empty.v1+json";
// What a client accepts when it pulls a manifest.
constexpr const char* kManifestAccept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

// Content with its digest and media type: a blob, or a manifest.
struct Content {
  std::string bytes;
  Digest digest = Digester::Of(DigestAlgorithm::kSha256, "");
  std::string media_type;
  uint64_t size() const { return bytes.size(); }
};

// The optional parts of an image manifest.
struct ManifestExtras {
  std::optional<Content> subject;  // only its descriptor is used
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
};

// Makes a run's content. Not thread-safe.
class ContentMaker {
 public:
  explicit ContentMaker(uint64_t seed) : rng_(seed) {}

  // `size` random bytes as a layer, hashed with `algorithm`.
  Content Layer(size_t size, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
  // A small image configuration, unique to this call.
  Content Config();
  // The empty JSON object "{}" of artifacts without configuration.
  static Content Empty();
  // An image manifest over `config` and `layers`. The JSON is indented unusually and ends in a
  // newline, so a registry that re-serializes manifests changes their bytes.
  Content ImageManifest(const Content& config, const std::vector<Content>& layers,
                        const ManifestExtras& extras = {});
  // An image index over `manifests` (each given an amd64 or arm64 platform in turn).
  Content ImageIndex(const std::vector<Content>& manifests);
  // `count` random lowercase hex digits.
  std::string Hex(size_t count);

 private:
  std::mt19937_64 rng_;
};

}  // namespace ocireg::internal::check
