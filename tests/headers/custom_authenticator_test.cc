// SPDX-License-Identifier: Apache-2.0
// A custom Authenticator written against ocireg/auth/authenticator.h alone, as an embedding
// program writes one: the interface needs status.h and the identity types, not the configuration.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.h"
#include "ocireg/auth/authenticator.h"

// Were ocireg::Config declared by what authenticator.h includes (ocireg/config.h back among its
// includes, or a forward declaration), this alias would clash with it and the file would not
// compile.
namespace ocireg {
using Config = int;
}  // namespace ocireg

namespace {

using ocireg::Credentials;
using ocireg::Identity;
using ocireg::Result;

// Bearer tokens from a fixed table: "good" is the robot of the ci group, "revoked" is refused,
// any other header is not this method's.
class TokenAuthenticator final : public ocireg::Authenticator {
 public:
  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) override {
    if (credentials.authorization == "Bearer good") {
      return std::optional<Identity>(Identity{"robot", {"ci"}});
    }
    if (credentials.authorization == "Bearer revoked") {
      return ocireg::Status(ocireg::ErrorCode::kUnauthorized, "revoked token");
    }
    return std::optional<Identity>();
  }
};

Result<std::optional<Identity>> Login(ocireg::Authenticator& authenticator,
                                      std::string_view authorization) {
  Credentials credentials;
  credentials.authorization = authorization;
  return authenticator.Authenticate(credentials);
}

// The three answers of TokenAuthenticator, through `authenticator`.
void CheckTokenLogins(ocireg::Authenticator& authenticator) {
  auto good = Login(authenticator, "Bearer good");
  REQUIRE(good.ok());
  REQUIRE(good->has_value());
  CHECK((*good)->user == "robot");
  CHECK((*good)->groups == std::vector<std::string>{"ci"});

  auto revoked = Login(authenticator, "Bearer revoked");
  REQUIRE_FALSE(revoked.ok());
  CHECK(revoked.status().code() == ocireg::ErrorCode::kUnauthorized);

  auto none = Login(authenticator, "");
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());
}

}  // namespace

TEST_CASE("a custom Authenticator answers on its own", "[authenticator]") {
  TokenAuthenticator tokens;
  CheckTokenLogins(tokens);
}

TEST_CASE("a custom Authenticator answers inside a chain", "[authenticator]") {
  std::vector<std::shared_ptr<ocireg::Authenticator>> methods;
  methods.push_back(std::make_shared<TokenAuthenticator>());
  auto chain = ocireg::ChainAuthenticators(std::move(methods));
  REQUIRE(chain != nullptr);
  CheckTokenLogins(*chain);
}
