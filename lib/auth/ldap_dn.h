// SPDX-License-Identifier: Apache-2.0
// Distinguished names as LDAP writes them (RFC 4514): syntax checks and the value of the first RDN.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ocireg::internal {

struct LdapLibrary;

// Both parse with the OpenLDAP client library, which `ldap` holds (see LoadLdapLibrary).

// Whether `dn` is a DN in RFC 4514 string form. The empty DN (the root) is one.
bool IsLdapDn(const LdapLibrary& ldap, std::string_view dn);

// The value of the first attribute of the first RDN, unescaped: "cn=dev\,ops,ou=groups" gives
// "dev,ops". nullopt when `dn` is not a DN, is the empty DN, or that value is given in binary
// (#hex) form.
std::optional<std::string> FirstRdnValue(const LdapLibrary& ldap, std::string_view dn);

}  // namespace ocireg::internal
