// SPDX-License-Identifier: Apache-2.0
// UpstreamClient and the Docker token flow: a distribution with token auth behind the tests' own
// token server (ES256 JWTs with an x5c certificate). Anonymous clients are refused, credentials
// get a token, the token is reused, renewed when it expires and when the registry refuses it.
#include <chrono>
#include <string>
#include <thread>

#include "catch.h"
#include "distribution.h"
#include "mirror/upstream_client.h"
#include "status_macros.h"
#include "temp_dir.h"
#include "token_server.h"

namespace ocireg::internal {
namespace {

using testing::Distribution;
using testing::TokenServer;

struct TokenSetup {
  TokenSetup()
      : tokens(dir.path(), "bob", "hunter2"),
        registry(Distribution::Auth{.token_realm = tokens.realm(),
                                    .token_service = TokenServer::kService,
                                    .token_issuer = TokenServer::kIssuer,
                                    .token_certificate = tokens.certificate()}),
        image(testing::PushImage(registry.port(),
                                 "Bearer " + tokens.Mint({"repository:team/app:pull,push"}),
                                 "team/app", "v1", 5000)) {}
  std::unique_ptr<UpstreamClient> Client(std::string user, std::string password) const {
    auto client = UpstreamClient::Create({.base_url = registry.url(),
                                          .username = std::move(user),
                                          .password = std::move(password),
                                          .request_timeout = std::chrono::seconds(10)});
    REQUIRE_OK(client);
    return std::move(*client);
  }

  testing::TempDir dir;
  TokenServer tokens;
  Distribution registry;
  testing::PushedImage image;
};

TEST_CASE("Token flow: anonymous refused, credentials get a token that is reused",
          "[mirror][token]") {
  TokenSetup setup;
  INFO(setup.registry.log());

  auto anonymous = setup.Client("", "");
  CHECK_CODE(anonymous->GetManifest("team/app", "v1").status(), ErrorCode::kUnauthorized);

  auto client = setup.Client("bob", "hunter2");
  const int before = setup.tokens.requests();
  auto manifest = client->GetManifest("team/app", "v1");
  REQUIRE_OK(manifest);
  CHECK(manifest->bytes == setup.image.manifest);
  CHECK(setup.tokens.requests() == before + 1);
  CHECK(client->counters().token_requests == 1);

  // The same repository again: the cached token, no token request, one registry request each.
  const uint64_t requests = client->counters().requests;
  REQUIRE_OK(client->HeadManifest("team/app", "v1"));
  std::string blob;
  REQUIRE_OK(client->GetBlob("team/app", setup.image.layer_ref.digest.ToString(),
                             {.on_data = [&blob](std::string_view piece) {
                               blob.append(piece);
                               return true;
                             }}));
  CHECK(blob == setup.image.layer);
  auto tags = client->ListTags("team/app");
  REQUIRE_OK(tags);
  CHECK(*tags == std::vector<std::string>{"v1"});
  CHECK(setup.tokens.requests() == before + 1);
  CHECK(client->counters().requests == requests + 3);

  // /v2/ itself has a challenge without scope: a token of its own.
  CHECK_OK(client->Ping());
  CHECK(setup.tokens.requests() == before + 2);
}

TEST_CASE("Token flow: wrong credentials are denied", "[mirror][token]") {
  TokenSetup setup;
  auto client = setup.Client("bob", "not-his-password");
  auto refused = client->GetManifest("team/app", "v1");
  CHECK_CODE(refused.status(), ErrorCode::kDenied);
  CHECK(refused.status().message().find("not-his-password") == std::string::npos);
  CHECK(refused.status().message().find("Bearer") == std::string::npos);
}

TEST_CASE("Token flow: an expired token is renewed before use", "[mirror][token]") {
  TokenSetup setup;
  setup.tokens.set_expires_in(2);
  auto client = setup.Client("bob", "hunter2");
  REQUIRE_OK(client->HeadManifest("team/app", "v1"));
  CHECK(client->counters().token_requests == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));
  // Known challenge, expired token: a new token first, then one registry request, no 401.
  const uint64_t requests = client->counters().requests;
  REQUIRE_OK(client->HeadManifest("team/app", "v1"));
  CHECK(client->counters().token_requests == 2);
  CHECK(client->counters().requests == requests + 1);
}

TEST_CASE("Token flow: a token the registry refuses is renewed once", "[mirror][token]") {
  TokenSetup setup;
  auto client = setup.Client("bob", "hunter2");
  // The token server hands out tokens the registry finds expired, while saying they live 300 s.
  setup.tokens.issue_expired(true);
  CHECK_CODE(client->HeadManifest("team/app", "v1").status(), ErrorCode::kDenied);
  const uint64_t token_requests = client->counters().token_requests;
  CHECK(token_requests == 1);  // anonymous 401, a token, 401 again: no endless loop

  // That token stays cached (it claimed 300 s): the next call sends it, meets a 401, fetches a
  // new token once and retries with it.
  setup.tokens.issue_expired(false);
  const uint64_t requests = client->counters().requests;
  auto manifest = client->GetManifest("team/app", "v1");
  REQUIRE_OK(manifest);
  CHECK(manifest->bytes == setup.image.manifest);
  CHECK(client->counters().token_requests == token_requests + 1);
  CHECK(client->counters().requests == requests + 2);
}

}  // namespace
}  // namespace ocireg::internal
