// SPDX-License-Identifier: Apache-2.0
// Listing blob directories through the driver.
#include "storage/stored_blobs.h"

#include "storage/layout.h"

namespace ocireg::internal {

Result<std::vector<std::string>> ListOrEmpty(StorageDriver& driver, std::string_view path) {
  auto names = driver.List(path);
  if (!names.ok() && IsNotFound(names.status())) return std::vector<std::string>{};
  return names;
}

Result<std::vector<StoredBlob>> ListStoredBlobs(
    StorageDriver& driver, const std::function<std::string(DigestAlgorithm)>& dir_of) {
  std::vector<StoredBlob> blobs;
  for (DigestAlgorithm algorithm : {DigestAlgorithm::kSha256, DigestAlgorithm::kSha512}) {
    const std::string dir = dir_of(algorithm);
    auto names = ListOrEmpty(driver, dir);
    OCIREG_RETURN_IF_ERROR(names);
    for (const std::string& hex : *names) {
      auto digest = Digest::Parse(std::string(AlgorithmName(algorithm)) + ":" + hex);
      blobs.push_back({dir + "/" + hex, digest.ok() ? std::optional(*digest) : std::nullopt});
    }
  }
  return blobs;
}

std::function<std::string(DigestAlgorithm)> RepoBlobDirs(const std::string& repo) {
  return [repo](DigestAlgorithm algorithm) { return RepoBlobAlgorithmDir(repo, algorithm); };
}

}  // namespace ocireg::internal
