// SPDX-License-Identifier: Apache-2.0
// The checks over TLS: the registry's certificate is verified against --cacert, a certificate the
// client cannot verify stops the run before anything is pushed, and --insecure skips the check.
#include <string>

#include "catch.h"
#include "certificates.h"
#include "ocireg/check.h"
#include "status_macros.h"
#include "test_server.h"

namespace ocireg::testing {
namespace {

TEST_CASE("over TLS the checks verify the registry's certificate", "[check][tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server([&pki](Config& config, ServerHooks&) {
    config.tls.certificate = pki.server_certificate();
    config.tls.private_key = pki.server_key();
  });
  CheckOptions options;
  options.host = "127.0.0.1";
  options.port = server.port();
  options.tls = true;
  options.categories = {CheckCategory::kPull};

  SECTION("trusting the registry's CA, everything passes") {
    options.cacert = pki.ca();
    auto report = RunChecks(options);
    REQUIRE_OK(report);
    CHECK(report->target == "https://127.0.0.1:" + std::to_string(server.port()));
    for (const auto& r : report->results) {
      INFO(r.id << ": " << r.reason);
      CHECK(r.status == CheckStatus::kPass);
    }
  }
  SECTION("trusting another CA, the registry cannot be reached") {
    TestPki other(dir.path(), "other");
    options.cacert = other.ca();
    auto report = RunChecks(options);
    REQUIRE_OK(report);
    REQUIRE_FALSE(report->results.empty());
    for (const auto& r : report->results) {
      INFO(r.reason);
      CHECK(r.status == CheckStatus::kFail);
      CHECK(r.reason.find(
                "cannot be reached: GET /v2/ -> no response (TLS: the registry's certificate could "
                "not be verified)") != std::string::npos);
    }
  }
  SECTION("insecure, the certificate is not checked") {
    options.insecure = true;
    auto report = RunChecks(options);
    REQUIRE_OK(report);
    CHECK(report->AllPassed());
  }
}

}  // namespace
}  // namespace ocireg::testing
