// SPDX-License-Identifier: Apache-2.0
// The [metrics] table: GET /metrics on or off.
#include "config/schema.h"

namespace ocireg::config_parse {

std::vector<SectionSpec> MetricsSections() {
  return {{"metrics", {OCIREG_FIELD(metrics, enabled, ReadBool(n))}}};
}

}  // namespace ocireg::config_parse
