// SPDX-License-Identifier: Apache-2.0
// Finding the repositories of a store: the directories that hold an OCI layout marker.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg::internal {

// Walks the driver's tree from its root and returns the names of the directories that hold an
// oci-layout marker and are valid repository names, in no particular order. A nested
// repository sits inside its parent's layout directory, so the walk goes on below repositories.
//
// Each directory costs one listing and, on a cold cache, a disk read or two; the walk lists up
// to `parallelism` directories at once, because a store of 10,000 repositories is 10,000
// directories and the disk serves several reads at once far faster than one after another.
// Entries that are not directories list as empty (the driver says kNotFound) and are skipped.
// A directory below the root that cannot be listed (`lost+found`, owned by another user) is
// skipped too, with a line in `skipped`; only an unreadable root is an error.
Result<std::vector<std::string>> DiscoverRepositoryNames(StorageDriver& driver, size_t parallelism,
                                                         std::vector<std::string>& skipped);

}  // namespace ocireg::internal
