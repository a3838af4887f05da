// SPDX-License-Identifier: Apache-2.0
// The [auth] table (realm, login throttle, trusted proxies) and [auth.htpasswd].
#include "config/schema.h"

namespace ocireg::config_parse {

using std::chrono::seconds;

std::vector<SectionSpec> AuthSections() {
  return {{"auth",
           {OCIREG_FIELD(auth, realm, ReadNonEmptyString(n)),
            OCIREG_FIELD(auth, failure_limit, ReadInteger<uint32_t>(n)),
            OCIREG_FIELD(auth, failure_window, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(auth, failure_delay, ReadDuration(n)),
            OCIREG_FIELD(auth, failure_delay_max, ReadDuration(n)),
            OCIREG_FIELD(auth, trusted_proxies, ReadAddressRanges(n))}},
          {"auth.htpasswd", {OCIREG_FIELD(auth.htpasswd, file, ReadString(n))}}};
}

}  // namespace ocireg::config_parse
