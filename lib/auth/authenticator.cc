// SPDX-License-Identifier: Apache-2.0
// The chain of authentication methods, and the one built from a Config.
#include "ocireg/auth/authenticator.h"

#include <utility>

#include "ocireg/auth/htpasswd.h"
#include "ocireg/auth/ldap.h"

namespace ocireg {
namespace {

class Chain final : public Authenticator {
 public:
  explicit Chain(std::vector<std::shared_ptr<Authenticator>> methods)
      : methods_(std::move(methods)) {}

  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) override {
    for (const auto& method : methods_) {
      auto answer = method->Authenticate(credentials);
      if (!answer.ok() || answer->has_value()) return answer;
    }
    // A Basic header no method knows: the same answer as a wrong password, so that a client
    // cannot tell an unknown user from a known one.
    if (ParseBasicAuthorization(credentials.authorization)) {
      return Unauthorized("unknown user or wrong password");
    }
    return std::optional<Identity>();
  }

 private:
  std::vector<std::shared_ptr<Authenticator>> methods_;
};

class ClientCertificate final : public Authenticator {
 public:
  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) override {
    if (credentials.client_certificate.empty()) return std::optional<Identity>();
    return std::optional<Identity>(Identity{std::string(credentials.client_certificate), {}});
  }
};

}  // namespace

std::shared_ptr<Authenticator> ChainAuthenticators(
    std::vector<std::shared_ptr<Authenticator>> methods) {
  return std::make_shared<Chain>(std::move(methods));
}

std::shared_ptr<Authenticator> NewClientCertificateAuthenticator() {
  return std::make_shared<ClientCertificate>();
}

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
