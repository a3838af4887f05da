// SPDX-License-Identifier: Apache-2.0
// The chain of authentication methods, and the client-certificate method.
#include "ocireg/auth/authenticator.h"

#include <utility>

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

}  // namespace ocireg
