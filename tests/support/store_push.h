// SPDX-License-Identifier: Apache-2.0
// Pushes blobs and images into a Store for tests, reporting failure instead of asserting.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "manifest_builder.h"
#include "ocireg/reference.h"
#include "ocireg/status.h"
#include "ocireg/storage/store.h"

namespace ocireg::testing {

inline constexpr std::string_view kTestConfigType = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kTestLayerType = "application/vnd.oci.image.layer.v1.tar+gzip";

// Uploads `content` to `repo` in one append and commits it. Catch2 assertions are not
// thread-safe, so threads call this and check the result on the main thread.
inline Result<BlobRef> TryPushBlob(Store& store, std::string_view repo, std::string_view content,
                                   std::string_view media_type = kTestLayerType) {
  auto upload = store.StartUpload(repo, DigestAlgorithm::kSha256);
  if (!upload.ok()) return upload.status();
  OCIREG_RETURN_IF_ERROR((*upload)->Append(std::span<const char>(content.data(), content.size())));
  BlobRef ref = RefTo(std::string(media_type), content);
  auto committed = (*upload)->Commit(ref.digest);
  if (!committed.ok()) return committed.status();
  return ref;
}

// Pushes a config and one layer derived from `seed`, and returns an image manifest over them
// (not yet put).
inline Result<std::string> TryPushImageBlobs(Store& store, std::string_view repo,
                                             const std::string& seed) {
  auto config = TryPushBlob(store, repo, R"({"seed":")" + seed + R"("})", kTestConfigType);
  if (!config.ok()) return config.status();
  auto layer = TryPushBlob(store, repo, "layer of " + seed);
  if (!layer.ok()) return layer.status();
  return ImageManifest(*config, {*layer});
}

// Pushes an image's blobs and puts its manifest under `tag`; returns the manifest.
inline Result<std::string> TryPushTaggedImage(Store& store, std::string_view repo,
                                              const std::string& seed, std::string_view tag) {
  auto manifest = TryPushImageBlobs(store, repo, seed);
  if (!manifest.ok()) return manifest.status();
  auto put =
      store.PutManifest(repo, *Reference::Parse(tag), {}, media_types::kOciManifest, *manifest);
  if (!put.ok()) return put.status();
  return manifest;
}

}  // namespace ocireg::testing
