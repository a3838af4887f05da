// SPDX-License-Identifier: Apache-2.0
// Paths of the store's tree, and the naming rules that keep repositories from colliding with it.
#include "storage/layout.h"

#include <openssl/rand.h>

#include <array>

#include "ocireg/reference.h"

namespace ocireg::internal {

bool IsLayoutEntry(std::string_view name) {
  return name == kLayoutMarker || name == kIndexFile || name == kBlobsDir;
}

Status ValidateStoreRepositoryName(std::string_view repo) {
  OCIREG_RETURN_IF_ERROR(ValidateRepositoryName(repo));
  // The first component sits in the store's root, which is no layout; later ones sit inside the
  // layout directory of their parent repository.
  size_t slash = repo.find('/');
  while (slash != std::string_view::npos) {
    size_t next = repo.find('/', slash + 1);
    std::string_view component = repo.substr(
        slash + 1, next == std::string_view::npos ? std::string_view::npos : next - slash - 1);
    if (IsLayoutEntry(component)) {
      return NameInvalid("repository name component '" + std::string(component) +
                         "' is reserved: it names an entry of the parent repository's OCI layout");
    }
    slash = next;
  }
  return Status::Ok();
}

std::string ContentAlgorithmDir(DigestAlgorithm algorithm) {
  return std::string(kContentDir) + "/" + std::string(AlgorithmName(algorithm));
}

std::string ContentPath(const Digest& digest) {
  return ContentAlgorithmDir(digest.algorithm()) + "/" + digest.hex();
}

std::string RepoBlobAlgorithmDir(std::string_view repo, DigestAlgorithm algorithm) {
  return std::string(repo) + "/" + std::string(kBlobsDir) + "/" +
         std::string(AlgorithmName(algorithm));
}

std::string RepoBlobPath(std::string_view repo, const Digest& d) {
  return RepoBlobAlgorithmDir(repo, d.algorithm()) + "/" + d.hex();
}

std::string RepoIndexPath(std::string_view repo) {
  return std::string(repo) + "/" + std::string(kIndexFile);
}

std::string RepoMarkerPath(std::string_view repo) {
  return std::string(repo) + "/" + std::string(kLayoutMarker);
}

bool IsValidUploadId(std::string_view id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    char c = id[i];
    if (dash_position ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

Result<std::string> NewUploadId() {
  // Session ids must not be guessable: they are the only handle on an upload in progress.
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    return Internal("no randomness available for an upload id");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) id += '-';
    id += kHex[bytes[i] >> 4];
    id += kHex[bytes[i] & 0xf];
  }
  return id;
}

std::string UploadDir(std::string_view id) {
  return std::string(kUploadsDir) + "/" + std::string(id);
}
std::string UploadDataPath(std::string_view id) { return UploadDir(id) + "/data"; }
std::string UploadInfoPath(std::string_view id) { return UploadDir(id) + "/info"; }

}  // namespace ocireg::internal
