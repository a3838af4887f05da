// SPDX-License-Identifier: Apache-2.0
// Builds manifest JSON for tests from blobs pushed to a store.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ocireg/digest.h"
#include "ocireg/manifest.h"

namespace ocireg::testing {

struct BlobRef {
  std::string media_type;
  Digest digest;
  uint64_t size;
};

inline std::string DescriptorJson(const BlobRef& b) {
  return R"({"mediaType":")" + b.media_type + R"(","digest":")" + b.digest.ToString() +
         R"(","size":)" + std::to_string(b.size) + "}";
}

inline BlobRef RefTo(std::string media_type, std::string_view content,
                     DigestAlgorithm algorithm = DigestAlgorithm::kSha256) {
  return BlobRef{std::move(media_type), Digester::Of(algorithm, content), content.size()};
}

// An OCI image manifest over `config` and `layers`, with an optional subject and artifactType.
inline std::string ImageManifest(const BlobRef& config, const std::vector<BlobRef>& layers,
                                 const std::optional<BlobRef>& subject = std::nullopt,
                                 const std::string& artifact_type = "",
                                 const std::string& annotation = "") {
  std::string json =
      R"({"schemaVersion":2,"mediaType":")" + std::string(media_types::kOciManifest) + R"(",)";
  if (!artifact_type.empty()) json += R"("artifactType":")" + artifact_type + R"(",)";
  json += R"("config":)" + DescriptorJson(config) + R"(,"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i) json += ",";
    json += DescriptorJson(layers[i]);
  }
  json += "]";
  if (subject) json += R"(,"subject":)" + DescriptorJson(*subject);
  if (!annotation.empty()) json += R"(,"annotations":{"test.note":")" + annotation + R"("})";
  json += "}";
  return json;
}

// An OCI image index over `manifests`.
inline std::string ImageIndex(const std::vector<BlobRef>& manifests) {
  std::string json = R"({"schemaVersion":2,"mediaType":")" + std::string(media_types::kOciIndex) +
                     R"(","manifests":[)";
  for (size_t i = 0; i < manifests.size(); ++i) {
    if (i) json += ",";
    json += DescriptorJson(manifests[i]);
  }
  return json + "]}";
}

}  // namespace ocireg::testing
