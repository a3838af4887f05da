// SPDX-License-Identifier: Apache-2.0
// The [limits] table: sizes, connection counts, timeouts and upload quotas.
#include "config/schema.h"

namespace ocireg::config_parse {

using std::chrono::seconds;

std::vector<SectionSpec> LimitsSections() {
  return {{"limits",
           {OCIREG_FIELD(limits, max_manifest_bytes, ReadSize(n, 1)),
            OCIREG_FIELD(limits, max_blob_bytes, ReadSize(n)),
            OCIREG_FIELD(limits, max_connections, ReadInteger<uint32_t>(n, 1)),
            OCIREG_FIELD(limits, max_open_connections, ReadInteger<uint32_t>(n, 1)),
            OCIREG_FIELD(limits, keep_alive_max_requests, ReadInteger<uint32_t>(n, 1)),
            OCIREG_FIELD(limits, keep_alive_timeout, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(limits, header_timeout, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(limits, read_timeout, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(limits, write_timeout, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(limits, shutdown_timeout, ReadDuration(n)),
            OCIREG_FIELD(limits, drain_delay, ReadDuration(n)),
            OCIREG_FIELD(limits, max_uploads, ReadInteger<uint32_t>(n, 1)),
            OCIREG_FIELD(limits, max_uploads_per_client, ReadInteger<uint32_t>(n))}}};
}

}  // namespace ocireg::config_parse
