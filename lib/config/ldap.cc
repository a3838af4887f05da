// SPDX-License-Identifier: Apache-2.0
// The [auth.ldap] table: LDAP logins, the user and group searches, checked together.
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::seconds;

Status CheckLdap(const Config& c) {
  const LdapConfig& ldap = c.auth.ldap;
  if (ldap.url.empty()) return Status::Ok();
  if (!ldap.url.starts_with("ldap://") && !ldap.url.starts_with("ldaps://")) {
    return InvalidArgument(
        fmt::format("url must start with ldap:// or ldaps://, got \"{}\"", ldap.url));
  }
  if (ldap.start_tls && ldap.url.starts_with("ldaps://")) {
    return InvalidArgument("start_tls applies to ldap:// URLs; ldaps:// is TLS already");
  }
  if (ldap.user_base_dn.empty()) return InvalidArgument("user_base_dn is required when url is set");
  if (ldap.user_filter.find("{user}") == std::string::npos) {
    return InvalidArgument("user_filter must contain {user}");
  }
  return Status::Ok();
}

}  // namespace

std::vector<SectionSpec> LdapSections() {
  return {{"auth.ldap",
           {OCIREG_FIELD(auth.ldap, url, ReadString(n)),
            OCIREG_FIELD(auth.ldap, start_tls, ReadBool(n)),
            OCIREG_FIELD(auth.ldap, ca_file, ReadString(n)),
            OCIREG_FIELD(auth.ldap, bind_dn, ReadString(n)),
            OCIREG_FIELD(auth.ldap, bind_password, ReadString(n)),
            OCIREG_FIELD(auth.ldap, user_base_dn, ReadString(n)),
            OCIREG_FIELD(auth.ldap, user_filter, ReadNonEmptyString(n)),
            OCIREG_FIELD(auth.ldap, group_attribute, ReadString(n)),
            OCIREG_FIELD(auth.ldap, group_base_dn, ReadString(n)),
            OCIREG_FIELD(auth.ldap, group_filter, ReadNonEmptyString(n)),
            OCIREG_FIELD(auth.ldap, group_name_attribute, ReadNonEmptyString(n)),
            OCIREG_FIELD(auth.ldap, timeout, ReadDuration(n, seconds(1))),
            OCIREG_FIELD(auth.ldap, cache_ttl, ReadDuration(n))},
           nullptr,
           nullptr,
           CheckLdap}};
}

}  // namespace ocireg::config_parse
