// SPDX-License-Identifier: Apache-2.0
// Listing the blob files of a repository or of the content store, for maintenance and usage.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/digest.h"
#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg::internal {

// Entries of `path`, or none when it does not exist.
Result<std::vector<std::string>> ListOrEmpty(StorageDriver& driver, std::string_view path);

// A file of a blob directory, with its digest when its name is a well-formed one.
struct StoredBlob {
  std::string path;
  std::optional<Digest> digest;
};

// The files of the blob directories `dir_of(algorithm)` for every supported algorithm.
Result<std::vector<StoredBlob>> ListStoredBlobs(
    StorageDriver& driver, const std::function<std::string(DigestAlgorithm)>& dir_of);

// The blob directories of repository `repo`, for ListStoredBlobs.
std::function<std::string(DigestAlgorithm)> RepoBlobDirs(const std::string& repo);

}  // namespace ocireg::internal
