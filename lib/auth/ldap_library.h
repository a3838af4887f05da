// SPDX-License-Identifier: Apache-2.0
// LdapLibrary: the OpenLDAP client library (libldap, liblber), loaded with dlopen when LDAP is
// first configured rather than linked. Linked, it maps GnuTLS, p11-kit, nettle, gmp and more into
// every process and runs their constructors, some 2.6 MiB of resident pages, even when no
// [auth.ldap] is set. <ldap.h> still gives the types and constants at compile time.
#pragma once

#include <ldap.h>

#include "ocireg/status.h"

namespace ocireg::internal {

// Every libldap and liblber symbol the library uses. libocireg does not link libldap, so a call
// that bypasses this table fails to link: add the symbol here instead.
#define OCIREG_LDAP_SYMBOLS(X) \
  X(ber_pvt_opt_on)            \
  X(ber_sockbuf_ctrl)          \
  X(ldap_bv2dn)                \
  X(ldap_dnfree)               \
  X(ldap_err2string)           \
  X(ldap_first_entry)          \
  X(ldap_free_urldesc)         \
  X(ldap_get_dn)               \
  X(ldap_get_option)           \
  X(ldap_get_values_len)       \
  X(ldap_initialize)           \
  X(ldap_memfree)              \
  X(ldap_msgfree)              \
  X(ldap_next_entry)           \
  X(ldap_sasl_bind_s)          \
  X(ldap_search_ext_s)         \
  X(ldap_set_option)           \
  X(ldap_start_tls_s)          \
  X(ldap_unbind_ext_s)         \
  X(ldap_url_parse)            \
  X(ldap_value_free_len)

// One pointer per symbol, named like it and typed by its declaration in <ldap.h>:
// `ldap.ldap_search_ext_s(...)` calls ldap_search_ext_s. ber_pvt_opt_on is a variable, whose
// address is what the LDAP_OPT_ON macro stands for. Never changes once loaded, so any thread may
// read it.
struct LdapLibrary {
// NOLINTNEXTLINE(bugprone-macro-parentheses): `name` is a declarator, not an expression.
#define OCIREG_LDAP_POINTER(name) decltype(&::name) name = nullptr;
  OCIREG_LDAP_SYMBOLS(OCIREG_LDAP_POINTER)
#undef OCIREG_LDAP_POINTER
};

// The library, loaded by the first call and shared by all later ones (thread-safe; the outcome,
// success or failure, is the same for the life of the process). It stays loaded: GnuTLS and
// libldap keep global state that an unload would leave dangling. kUnavailable, naming the
// sonames tried and why each failed, when no OpenLDAP client library with every symbol above is
// installed.
Result<const LdapLibrary*> LoadLdapLibrary();

}  // namespace ocireg::internal
