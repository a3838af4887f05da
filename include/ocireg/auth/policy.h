// SPDX-License-Identifier: Apache-2.0
// AccessPolicy: who may do what to which repository, from the [access] table of the config.
//
//   ocireg::AccessPolicy policy = ocireg::AccessPolicy::FromConfig(config);
//   hooks.authorize = policy.AsAuthorizeFn();
//
// A caller's rights on a repository are the union of: the anonymous rules; for authenticated
// callers also the authenticated rules and the policy rules naming the user or one of its groups;
// everything for admins. Rules grant, nothing denies.
//
// A value whose rules never change after construction: copies share them (copying is cheap), and
// every method may be called from any number of threads at once. The function AsAuthorizeFn
// returns holds its own copy, so it may outlive the policy. To change the rules, build a new
// policy and hand its function to the handler (RegistryHandler::SetAccess). No method fails
// except as documented; none blocks.
#pragma once

#include <memory>
#include <string_view>

#include "ocireg/auth/access.h"
#include "ocireg/config.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// Whether repository `name` matches glob `pattern`: "*" matches any run of characters within one
// path component, "**" any run across components, "?" one character other than "/"; everything
// else matches itself. "team/**" matches "team/a" and "team/a/b" but not "team". Thread-safe.
OCIREG_EXPORT bool MatchRepositoryPattern(std::string_view pattern, std::string_view name);

class OCIREG_EXPORT AccessPolicy {
 public:
  // `access` as written; `password_login` says whether clients can log in with a password (then
  // anonymous callers of GET /v2/ get 401, which tells clients to send their credentials).
  AccessPolicy(AccessConfig access, bool password_login);

  // The effective policy of `config`, including the implicit one when it has no [access] table
  // (see Config::access).
  static AccessPolicy FromConfig(const Config& config);

  // What `caller` may do to `repository`.
  ActionSet Allowed(const Caller& caller, std::string_view repository) const;

  // Ok; kUnauthorized for an anonymous caller without the right (it should log in); kDenied for
  // an authenticated one. An empty `repository` means the registry itself (GET /v2/): allowed,
  // except to anonymous callers when password login is possible.
  Status Check(const Caller& caller, std::string_view repository, Action action) const;

  // Check, as the HTTP layer's hook; the function shares this policy's rules.
  AuthorizeFn AsAuthorizeFn() const;

 private:
  std::shared_ptr<const AccessConfig> access_;
  bool password_login_;
};

}  // namespace ocireg
