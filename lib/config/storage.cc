// SPDX-License-Identifier: Apache-2.0
// The [storage] table: the root of the OCI layouts and the garbage collection timing.
#include "config/schema.h"

namespace ocireg::config_parse {

using std::chrono::seconds;

std::vector<SectionSpec> StorageSections() {
  return {{"storage",
           {OCIREG_FIELD(storage, root, ReadNonEmptyString(n)),
            OCIREG_FIELD(storage, gc_grace_period, ReadDuration(n)),
            OCIREG_FIELD(storage, gc_interval, ReadDuration(n)),
            OCIREG_FIELD(storage, upload_ttl, ReadDuration(n, seconds(1)))}}};
}

}  // namespace ocireg::config_parse
