// SPDX-License-Identifier: Apache-2.0
// Descriptor: the OCI content descriptor (media type, digest, size and the optional fields we
// keep). A plain value: copy it freely, share it read-only between threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ocireg/digest.h"

namespace ocireg {

using Annotations = std::map<std::string, std::string>;

// A plain value, as in the image spec's descriptor.md. Fields absent in the JSON are empty.
struct Descriptor {
  std::string media_type;
  Digest digest = Digester::Of(DigestAlgorithm::kSha256, "");
  int64_t size = 0;
  std::string artifact_type;
  Annotations annotations;
  std::vector<std::string> urls;

  bool operator==(const Descriptor&) const = default;
};

}  // namespace ocireg
