// SPDX-License-Identifier: Apache-2.0
// Password logins over HTTP: what a refused login tells the client, and how often a request
// runs the authenticator.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "catch.h"
#include "login_support.h"
#include "oci_checks.h"
#include "ocireg/auth/authenticator.h"
#include "test_server.h"

using namespace ocireg::testing;

TEST_CASE("A refused login reads the same for a known user and an unknown one",
          "[integration][login]") {
  TempDir files;
  const std::string htpasswd = WriteAliceBobHtpasswd(files.path());
  TestServer server(
      [&](ocireg::Config& config, ocireg::ServerHooks&) { config.auth.htpasswd.file = htpasswd; });
  auto known = GetBaseRaw(server.port(), "alice", "wrong");
  auto unknown = GetBaseRaw(server.port(), "nobody", "wrong");
  REQUIRE(known);
  REQUIRE(unknown);
  CHECK(known->status == 401);
  CHECK(unknown->status == 401);
  CHECK(ErrorCodeOf(known->body) == "UNAUTHORIZED");
  CHECK(known->body == unknown->body);
  CHECK(known->body.find("alice") == std::string::npos);
}

namespace {

// Accepts alice:alice-pw and counts its calls.
class CountingAuthenticator final : public ocireg::Authenticator {
 public:
  ocireg::Result<std::optional<ocireg::Identity>> Authenticate(
      const ocireg::Credentials& credentials) override {
    ++calls;
    auto basic = ocireg::ParseBasicAuthorization(credentials.authorization);
    if (!basic) return std::optional<ocireg::Identity>();
    if (basic->user != "alice" || basic->password != "alice-pw") {
      return ocireg::Status(ocireg::ErrorCode::kUnauthorized, "no");
    }
    return std::optional<ocireg::Identity>(ocireg::Identity{"alice", {}});
  }
  std::atomic<int> calls{0};
};

}  // namespace

TEST_CASE("A manifest PUT with Expect: 100-continue authenticates once", "[integration][login]") {
  auto authenticator = std::make_shared<CountingAuthenticator>();
  TestServer server([&](ocireg::Config&, ocireg::ServerHooks& hooks) {
    hooks.authenticator = authenticator;
    hooks.authorize = [](const ocireg::Caller& caller, std::string_view, ocireg::Action) {
      return caller.anonymous() ? ocireg::Status(ocireg::ErrorCode::kUnauthorized, "log in")
                                : ocireg::Status::Ok();
    };
  });
  auto client = server.Client();
  client->set_basic_auth("alice", "alice-pw");
  const std::string config = "{}";
  const std::string config_digest = PushBlob(*client, "a/b", config);
  const std::string layer_digest = PushBlob(*client, "a/b", "layer");
  const std::string manifest =
      ImageManifest(config_digest, config.size(), {{layer_digest, std::string("layer").size()}});
  authenticator->calls = 0;

  RawConnection raw(server.port());
  const std::string head =
      "HTTP/1.1\r\nHost: x\r\nAuthorization: " + BasicAuthorization("alice", "alice-pw") + "\r\n";
  REQUIRE(raw.Send("PUT /v2/a/b/manifests/v1 " + head + "Content-Type: " + kOciManifestType +
                   "\r\nContent-Length: " + std::to_string(manifest.size()) +
                   "\r\nExpect: 100-continue\r\n\r\n"));
  auto proceed = raw.ReadResponse();
  REQUIRE(proceed);
  REQUIRE(proceed->status == 100);
  REQUIRE(raw.Send(manifest));
  auto put = raw.ReadResponse();
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(authenticator->calls == 1);

  SECTION("the next request on the connection authenticates for itself") {
    REQUIRE(
        raw.Send("GET /v2/a/b/manifests/v1 HTTP/1.1\r\nHost: x\r\n"
                 "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n"));  // alice:wrong
    auto get = raw.ReadResponse();
    REQUIRE(get);
    CHECK(get->status == 401);
    CHECK(authenticator->calls == 2);
  }
}
