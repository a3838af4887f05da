// SPDX-License-Identifier: Apache-2.0
// The [listen] table: the address and port the server listens on.
#include "config/schema.h"

namespace ocireg::config_parse {

std::vector<SectionSpec> ListenSections() {
  return {{"listen",
           {OCIREG_FIELD(listen, address, ReadNonEmptyString(n)),
            OCIREG_FIELD(listen, port, ReadInteger<uint16_t>(n))}}};
}

}  // namespace ocireg::config_parse
