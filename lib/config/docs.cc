// SPDX-License-Identifier: Apache-2.0
// The [docs] table: the OpenAPI document and the Swagger UI page.
#include "config/schema.h"

namespace ocireg::config_parse {

std::vector<SectionSpec> DocsSections() {
  return {{"docs",
           {OCIREG_FIELD(docs, enabled, ReadBool(n)),
            OCIREG_FIELD(docs, swagger_ui_dir, ReadString(n))}}};
}

}  // namespace ocireg::config_parse
