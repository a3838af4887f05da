// SPDX-License-Identifier: Apache-2.0
// LdapAuthenticator: Basic credentials checked against an LDAP directory with the OpenLDAP
// client library: a service bind searches the user (its name escaped into auth.ldap.user_filter),
// then a bind as the user's DN checks the password; groups come from an attribute of the user
// entry or from a group search. Successful logins are cached for cache_ttl.
//
// Thread-safe: every login that misses the cache opens a connection of its own (none is shared or
// pooled), so concurrent logins run in parallel, each blocking its calling thread for up to
// `timeout` per connect and per operation; the cache is shared under a lock. Create copies the
// settings; the caller owns the result (ServerHooks takes it as a std::shared_ptr).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "ocireg/auth/authenticator.h"
#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

class OCIREG_EXPORT LdapAuthenticator : public Authenticator {
 public:
  // Checks the settings without connecting. Errors (kInvalidArgument): a URL that is not
  // ldap:// or ldaps://, start_tls with ldaps://, an empty user_base_dn, a user_filter without
  // {user}, an unreadable ca_file. The first call loads the OpenLDAP client library (a process
  // that never calls Create never maps it): kUnavailable when it is not installed.
  static Result<std::unique_ptr<LdapAuthenticator>> Create(const LdapConfig& config);

  // No Basic header: nullopt. A user the search does not find (or finds more than once): nullopt.
  // An empty password or a failed user bind: kUnauthorized. The server unreachable, a failed
  // service bind or TLS failure: kUnavailable (never cached).
  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) override;

  ~LdapAuthenticator() override;

 private:
  struct State;
  explicit LdapAuthenticator(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

// RFC 4515 escaping of a value for an LDAP search filter: '*', '(', ')', '\\' and NUL become
// \2a, \28, \29, \5c and \00.
OCIREG_EXPORT std::string EscapeLdapFilterValue(std::string_view value);

}  // namespace ocireg
