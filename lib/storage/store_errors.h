// SPDX-License-Identifier: Apache-2.0
// The errors the registry operations of the layout store share, worded alike wherever they arise.
#pragma once

#include <string>
#include <string_view>

#include "ocireg/digest.h"
#include "ocireg/status.h"

namespace ocireg::internal {

inline Status UnknownRepository(std::string_view repo) {
  return NameUnknown("repository " + std::string(repo) + " is not known");
}

inline Status UnknownBlob(std::string_view repo, const Digest& digest) {
  return BlobUnknown("blob " + digest.ToString() + " is not in repository " + std::string(repo));
}

inline Status UnknownManifest(std::string_view repo, std::string_view reference) {
  return ManifestUnknown("manifest " + std::string(reference) + " is not in repository " +
                         std::string(repo));
}

}  // namespace ocireg::internal
