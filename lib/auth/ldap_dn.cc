// SPDX-License-Identifier: Apache-2.0
// DN parsing through the OpenLDAP client library, which knows every escaping rule of RFC 4514.
#include "auth/ldap_dn.h"

#include <ldap.h>

#include <memory>
#include <string>

#include "auth/ldap_library.h"

namespace ocireg::internal {
namespace {

struct DnFree {
  const LdapLibrary* ldap;
  void operator()(LDAPDN dn) const { ldap->ldap_dnfree(dn); }
};
using DnPtr = std::unique_ptr<LDAPRDN, DnFree>;

// libldap 2.5's ldap_bv2dn reads past the length it is given when the text ends inside an
// attribute type: it scans the type on up to a '=' ("cn=a,dc" followed in memory by "=x" parses
// as "cn=a,dc="). It is given a copy with NULs after the end, where such a scan stops.
constexpr size_t kDnPadding = 16;

// nullptr when `text` is not a DN. The empty DN parses to nullptr as well, so `ok` tells them
// apart.
DnPtr ParseDn(const LdapLibrary& ldap, std::string_view text, bool& ok) {
  std::string padded(text);
  padded.append(kDnPadding, '\0');
  // ldap_bv2dn takes a length, so a NUL inside `text` is a syntax error, not an early end.
  berval value{static_cast<ber_len_t>(text.size()), padded.data()};
  LDAPDN dn = nullptr;
  ok = ldap.ldap_bv2dn(&value, &dn, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS;
  return DnPtr(ok ? dn : nullptr, DnFree{&ldap});
}

}  // namespace

bool IsLdapDn(const LdapLibrary& ldap, std::string_view dn) {
  bool ok = false;
  ParseDn(ldap, dn, ok);
  return ok;
}

std::optional<std::string> FirstRdnValue(const LdapLibrary& ldap, std::string_view dn) {
  bool ok = false;
  DnPtr parsed = ParseDn(ldap, dn, ok);
  if (!parsed || parsed.get()[0] == nullptr || parsed.get()[0][0] == nullptr) return std::nullopt;
  const LDAPAVA& ava = *parsed.get()[0][0];
  if ((ava.la_flags & LDAP_AVA_BINARY) != 0) return std::nullopt;
  return std::string(ava.la_value.bv_val, ava.la_value.bv_len);
}

}  // namespace ocireg::internal
