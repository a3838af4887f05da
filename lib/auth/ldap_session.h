// SPDX-License-Identifier: Apache-2.0
// LdapSession: one connection to the directory of an LdapConfig, with the few operations a login
// needs (bind, search). Not thread-safe: each authentication opens its own.
#pragma once

#include <ldap.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/ldap_library.h"
#include "auth/ldap_watchdog.h"
#include "ocireg/config.h"
#include "ocireg/status.h"

namespace ocireg::internal {

struct LdapEntry {
  std::string dn;
  std::vector<std::string> values;  // of the attribute the search asked for
};

struct LdapSearchResult {
  std::vector<LdapEntry> entries;
  bool truncated = false;  // the size limit cut the answer short
};

class LdapSession {
 public:
  // Sets LDAPv3, no referral chasing, the timeouts and, for ldaps:// and StartTLS, a TLS context
  // that demands a server certificate valid for the URL's host (signed by config.ca_file when
  // set). Runs StartTLS when configured; ldaps:// connects at the first operation.
  // kUnavailable when the server cannot be reached or TLS fails. Every libldap call goes
  // through `ldap`, which must outlive the session.
  static Result<std::unique_ptr<LdapSession>> Open(const LdapLibrary& ldap,
                                                   const LdapConfig& config);

  ~LdapSession();
  LdapSession(const LdapSession&) = delete;
  LdapSession& operator=(const LdapSession&) = delete;

  // A simple bind. kUnauthorized: the server refused these credentials. kUnavailable: it could
  // not be reached or could not decide. The password never appears in a message.
  Status Bind(const std::string& dn, std::string_view password);

  // A subtree search under `base` returning the values of `attribute` ("" for none) of at most
  // `size_limit` entries (0: as many as the server allows). kUnavailable on any error.
  Result<LdapSearchResult> Search(const std::string& base, const std::string& filter,
                                  const std::string& attribute, int size_limit);

 private:
  LdapSession(const LdapLibrary& ldap, LDAP* ld, std::string url, std::chrono::seconds timeout);
  // libldap's connect callback (callbacks_): gives each new connection's socket to the watchdog.
  static int OnConnect(LDAP* ld, Sockbuf* sb, LDAPURLDesc* url, sockaddr* address,
                       ldap_conncb* callbacks);
  // Arms the watchdog for one call into libldap, which may connect (TCP, then TLS) and then wait
  // for an answer, each bounded by `timeout_` if libldap keeps its word.
  void Arm() { watchdog_.Arm(2 * timeout_); }
  // "<LDAP error text> (<server's diagnostic message>)", for `rc` just returned on this handle.
  std::string Describe(int rc);
  // kUnavailable naming the server, `what` failed and why.
  Status CallFailed(std::string_view what, int rc);

  const LdapLibrary& ldap_;
  LDAP* ld_;
  const std::string url_;
  const std::chrono::seconds timeout_;
  LdapWatchdog watchdog_;
  ldap_conncb callbacks_;  // registered with ld_, which keeps a pointer to it
};

}  // namespace ocireg::internal
