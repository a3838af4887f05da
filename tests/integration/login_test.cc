// SPDX-License-Identifier: Apache-2.0
// Password logins over HTTP: what a refused login tells the client, and how often a request
// runs the authenticator.
#include <string>

#include "catch.h"
#include "login_support.h"
#include "oci_checks.h"
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
