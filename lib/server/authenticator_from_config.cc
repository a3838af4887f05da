// SPDX-License-Identifier: Apache-2.0
// NewAuthenticator: the login methods a Config enables, chained. It sits with the server's wiring
// so that the Authenticator interface (ocireg/auth/authenticator.h) needs no Config.
#include <memory>
#include <utility>
#include <vector>

#include "ocireg/auth/authenticator.h"
#include "ocireg/auth/htpasswd.h"
#include "ocireg/auth/ldap.h"
#include "ocireg/config.h"
#include "ocireg/server.h"

namespace ocireg {

Result<std::shared_ptr<Authenticator>> NewAuthenticator(const Config& config) {
  std::vector<std::shared_ptr<Authenticator>> methods;
  if (!config.tls.client_ca.empty()) methods.push_back(NewClientCertificateAuthenticator());
  if (!config.auth.htpasswd.file.empty()) {
    auto htpasswd = HtpasswdAuthenticator::Load(config.auth.htpasswd.file);
    if (!htpasswd.ok()) return htpasswd.status();
    methods.push_back(std::move(*htpasswd));
  }
  if (!config.auth.ldap.url.empty()) {
    auto ldap = LdapAuthenticator::Create(config.auth.ldap);
    if (!ldap.ok()) return ldap.status();
    methods.push_back(std::move(*ldap));
  }
  if (methods.empty()) return std::shared_ptr<Authenticator>();
  return ChainAuthenticators(std::move(methods));
}

}  // namespace ocireg
