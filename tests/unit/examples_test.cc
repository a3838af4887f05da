// SPDX-License-Identifier: Apache-2.0
// Every configuration in examples/ parses, and each example sets up what its comments promise.
#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "catch.h"
#include "ocireg/config.h"
#include "status_macros.h"

using ocireg::Action;
using ocireg::ClientAuth;
using ocireg::ClientIdentity;
using ocireg::Config;
using ocireg::Result;

namespace {

// The examples/ folder at the top of the source tree.
std::filesystem::path ExamplesDir() {
  return (std::filesystem::path(OCIREG_TEST_DATA_DIR) / ".." / ".." / "examples")
      .lexically_normal();
}

Config LoadExample(std::string_view name) {
  const std::string path = (ExamplesDir() / name).string();
  Result<Config> config = ocireg::LoadConfig(path);
  INFO(path << ": " << config.status().message());
  REQUIRE_OK(config);
  return *config;
}

}  // namespace

TEST_CASE("every examples/*.toml parses", "[config][examples]") {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(ExamplesDir())) {
    if (entry.path().extension() == ".toml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  for (const char* expected : {"ldap.toml", "minimal.toml", "mtls.toml", "ocireg.toml",
                               "policies.toml", "secure.toml", "tls-htpasswd.toml"}) {
    INFO("examples/" << expected);
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
  }
  for (const std::string& name : names) {
    INFO("examples/" << name);
    LoadExample(name);
  }
}

TEST_CASE("examples/minimal.toml: no TLS, no logins, storage in /var/lib/ocireg",
          "[config][examples]") {
  const Config config = LoadExample("minimal.toml");
  CHECK(config.tls.certificate.empty());
  CHECK(config.auth.htpasswd.file.empty());
  CHECK(config.auth.ldap.url.empty());
  CHECK_FALSE(config.access.has_value());
  CHECK(config.storage.root == "/var/lib/ocireg");
}

TEST_CASE("examples/tls-htpasswd.toml: TLS and an htpasswd file, implicit rules",
          "[config][examples]") {
  const Config config = LoadExample("tls-htpasswd.toml");
  CHECK_FALSE(config.tls.certificate.empty());
  CHECK_FALSE(config.tls.private_key.empty());
  CHECK(config.tls.client_ca.empty());
  CHECK(config.auth.htpasswd.file == "/etc/ocireg/htpasswd");
  CHECK_FALSE(config.access.has_value());
}

TEST_CASE("examples/ldap.toml: ldaps with memberOf groups and group rules", "[config][examples]") {
  const Config config = LoadExample("ldap.toml");
  CHECK(config.auth.ldap.url.rfind("ldaps://", 0) == 0);
  CHECK(config.auth.ldap.group_attribute == "memberOf");
  CHECK(config.auth.htpasswd.file.empty());
  REQUIRE(config.access.has_value());
  CHECK(config.access->admin_groups == std::vector<std::string>{"registry-admins"});
  REQUIRE(config.access->policy.size() == 1);
  CHECK(config.access->policy[0].groups == std::vector<std::string>{"developers"});
}

TEST_CASE("examples/mtls.toml: required client certificates named by their DNS SAN",
          "[config][examples]") {
  const Config config = LoadExample("mtls.toml");
  CHECK_FALSE(config.tls.client_ca.empty());
  CHECK(config.tls.client_auth == ClientAuth::kRequired);
  CHECK(config.tls.client_identity == ClientIdentity::kSanDns);
  CHECK(config.auth.htpasswd.file.empty());
  CHECK(config.auth.ldap.url.empty());
  REQUIRE(config.access.has_value());
  REQUIRE(config.access->policy.size() == 1);
  CHECK_FALSE(config.access->policy[0].actions.contains(Action::kDelete));
}

TEST_CASE("examples/policies.toml: every kind of rule", "[config][examples]") {
  const Config config = LoadExample("policies.toml");
  REQUIRE(config.access.has_value());
  CHECK(config.access->admins == std::vector<std::string>{"admin"});
  CHECK(config.access->anonymous.size() == 1);
  CHECK(config.access->authenticated.size() == 2);
  REQUIRE(config.access->policy.size() == 2);
  CHECK(config.access->policy[1].actions == ocireg::ActionSet{Action::kCreate});
}
