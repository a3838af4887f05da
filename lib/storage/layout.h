// SPDX-License-Identifier: Apache-2.0
// The one place that maps the store's concepts onto driver paths (the tree is drawn in store.h).
#pragma once

#include <string>
#include <string_view>

#include "ocireg/digest.h"
#include "ocireg/status.h"

namespace ocireg::internal {

// Store-wide directories. Repository components never start with '_', so these cannot collide.
inline constexpr std::string_view kContentDir = "_blobs";
inline constexpr std::string_view kUploadsDir = "_uploads";

// Entries of an OCI image layout directory.
inline constexpr std::string_view kLayoutMarker = "oci-layout";
inline constexpr std::string_view kIndexFile = "index.json";
inline constexpr std::string_view kBlobsDir = "blobs";
inline constexpr std::string_view kLayoutMarkerContent = R"({"imageLayoutVersion":"1.0.0"})";

// Whether `name` is an entry of a layout directory, so no nested repository may use it.
bool IsLayoutEntry(std::string_view name);

// The spec's grammar plus the store's rule that no component after the first names a layout entry.
// kNameInvalid otherwise.
Status ValidateStoreRepositoryName(std::string_view repo);

std::string ContentPath(const Digest& digest);                     // _blobs/<alg>/<hex>
std::string ContentAlgorithmDir(DigestAlgorithm algorithm);        // _blobs/<alg>
std::string RepoBlobPath(std::string_view repo, const Digest& d);  // <repo>/blobs/<alg>/<hex>
std::string RepoBlobAlgorithmDir(std::string_view repo, DigestAlgorithm algorithm);
std::string RepoIndexPath(std::string_view repo);   // <repo>/index.json
std::string RepoMarkerPath(std::string_view repo);  // <repo>/oci-layout

// Upload ids are UUIDs in lowercase hex (8-4-4-4-12), which keeps them safe as path components.
bool IsValidUploadId(std::string_view id);
// kInternal when the system has no randomness to give.
Result<std::string> NewUploadId();
std::string UploadDir(std::string_view id);       // _uploads/<id>
std::string UploadDataPath(std::string_view id);  // _uploads/<id>/data, the blob writer
std::string UploadInfoPath(std::string_view id);  // _uploads/<id>/info

}  // namespace ocireg::internal
