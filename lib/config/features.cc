// SPDX-License-Identifier: Apache-2.0
// The [features] table: DELETE, automatic cross-repository mounts and sparse image indexes.
#include "config/schema.h"

namespace ocireg::config_parse {

std::vector<SectionSpec> FeaturesSections() {
  return {{"features",
           {OCIREG_FIELD(features, allow_delete, ReadBool(n)),
            OCIREG_FIELD(features, auto_mount, ReadBool(n)),
            OCIREG_FIELD(features, sparse_indexes, ReadBool(n))}}};
}

}  // namespace ocireg::config_parse
