// SPDX-License-Identifier: Apache-2.0
// Tests of RestartOnlyChanges: every restart-only setting is reported under its section's name, and
// nothing a reload applies (logins, access rules, the certificate and key) is.
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "catch.h"
#include "ocireg/config.h"

using ocireg::AccessConfig;
using ocireg::AccessRule;
using ocireg::Action;
using ocireg::ActionSet;
using ocireg::ClientAuth;
using ocireg::ClientIdentity;
using ocireg::Config;
using ocireg::LogFormat;
using ocireg::LogLevel;
using ocireg::RestartOnlyChanges;
using std::chrono::seconds;
using Strings = std::vector<std::string>;

namespace {

constexpr const char* kTls = "tls (on or off, client_ca, client_auth, client_identity)";
constexpr const char* kAuth = "auth (realm, login throttle and trusted proxies)";

// A running configuration with TLS, mutual TLS and both login methods on, so that each of their
// settings can change without turning anything on or off.
Config Running() {
  Config config;
  config.tls.certificate = "server.pem";
  config.tls.private_key = "server.key";
  config.tls.client_ca = "clients.pem";
  config.auth.htpasswd.file = "users.htpasswd";
  config.auth.ldap.url = "ldap://ldap.example.com:389";
  config.auth.ldap.user_base_dn = "ou=people,dc=example,dc=com";
  return config;
}

struct Change {
  const char* what;
  std::function<void(Config&)> apply;
};

}  // namespace

TEST_CASE("an unchanged configuration needs no restart", "[config][reload]") {
  CHECK(RestartOnlyChanges(Config{}, Config{}).empty());
  CHECK(RestartOnlyChanges(Running(), Running()).empty());
}

TEST_CASE("a change of any restart-only setting names its section", "[config][reload]") {
  struct Case {
    const char* section;
    std::vector<Change> changes;
  };
  const std::vector<Case> cases = {
      {"listen",
       {{"address", [](Config& c) { c.listen.address = "0.0.0.0"; }},
        {"port", [](Config& c) { c.listen.port = 5001; }}}},
      {"storage",
       {{"root", [](Config& c) { c.storage.root = "/srv/ocireg"; }},
        {"gc_grace_period", [](Config& c) { c.storage.gc_grace_period = seconds(1); }},
        {"gc_interval", [](Config& c) { c.storage.gc_interval = seconds(0); }},
        {"upload_ttl", [](Config& c) { c.storage.upload_ttl = seconds(60); }},
        {"driver", [](Config& c) { c.storage.driver = "s3"; }},
        {"s3.bucket", [](Config& c) { c.storage.s3.bucket = "other"; }},
        {"s3.prefix", [](Config& c) { c.storage.s3.prefix = "elsewhere"; }},
        {"s3 keys (a rotated credentials file)",
         [](Config& c) {
           c.storage.s3.credentials = {"AKIDNEW", "new-secret", ""};
         }},
        {"s3.part_size", [](Config& c) { c.storage.s3.part_size = uint64_t{32} << 20; }},
        {"s3 profile", [](Config& c) { c.storage.s3_credentials.profile = "ci"; }}}},
      {"limits",
       {{"max_manifest_bytes", [](Config& c) { c.limits.max_manifest_bytes = 1; }},
        {"max_blob_bytes", [](Config& c) { c.limits.max_blob_bytes = 1; }},
        {"max_connections", [](Config& c) { c.limits.max_connections = 1; }},
        {"max_open_connections", [](Config& c) { c.limits.max_open_connections = 1; }},
        {"keep_alive_max_requests", [](Config& c) { c.limits.keep_alive_max_requests = 1; }},
        {"keep_alive_timeout", [](Config& c) { c.limits.keep_alive_timeout = seconds(1); }},
        {"header_timeout", [](Config& c) { c.limits.header_timeout = seconds(1); }},
        {"read_timeout", [](Config& c) { c.limits.read_timeout = seconds(1); }},
        {"write_timeout", [](Config& c) { c.limits.write_timeout = seconds(1); }},
        {"shutdown_timeout", [](Config& c) { c.limits.shutdown_timeout = seconds(1); }},
        {"drain_delay", [](Config& c) { c.limits.drain_delay = seconds(5); }},
        {"max_uploads", [](Config& c) { c.limits.max_uploads = 1; }},
        {"max_uploads_per_client", [](Config& c) { c.limits.max_uploads_per_client = 1; }}}},
      {"features",
       {{"allow_delete", [](Config& c) { c.features.allow_delete = false; }},
        {"auto_mount", [](Config& c) { c.features.auto_mount = false; }}}},
      {"log",
       {{"format", [](Config& c) { c.log.format = LogFormat::kJson; }},
        {"level", [](Config& c) { c.log.level = LogLevel::kDebug; }},
        {"access_log", [](Config& c) { c.log.access_log = false; }}}},
      {kTls,
       {{"TLS off", [](Config& c) { c.tls = {}; }},
        {"client_ca", [](Config& c) { c.tls.client_ca = "other-clients.pem"; }},
        {"client_auth", [](Config& c) { c.tls.client_auth = ClientAuth::kOptional; }},
        {"client_identity", [](Config& c) { c.tls.client_identity = ClientIdentity::kSanEmail; }}}},
      {kAuth,
       {{"realm", [](Config& c) { c.auth.realm = "other"; }},
        {"failure_limit", [](Config& c) { c.auth.failure_limit = 0; }},
        {"failure_window", [](Config& c) { c.auth.failure_window = seconds(1); }},
        {"failure_delay", [](Config& c) { c.auth.failure_delay = seconds(2); }},
        {"failure_delay_max", [](Config& c) { c.auth.failure_delay_max = seconds(2); }},
        {"trusted_proxies", [](Config& c) { c.auth.trusted_proxies = {"10.0.0.0/8"}; }}}},
      {"docs",
       {{"enabled", [](Config& c) { c.docs.enabled = false; }},
        {"swagger_ui_dir", [](Config& c) { c.docs.swagger_ui_dir = "/srv/swagger-ui"; }}}},
      {"metrics", {{"enabled", [](Config& c) { c.metrics.enabled = false; }}}},
  };
  for (const Case& test : cases) {
    for (const Change& change : test.changes) {
      INFO(test.section << ": " << change.what);
      Config next = Running();
      change.apply(next);
      CHECK(RestartOnlyChanges(Running(), next) == Strings{test.section});
    }
  }
}

TEST_CASE("turning TLS on needs a restart", "[config][reload]") {
  Config next;
  next.tls.certificate = "server.pem";
  next.tls.private_key = "server.key";
  CHECK(RestartOnlyChanges(Config{}, next) == Strings{kTls});
}

TEST_CASE("what a reload applies is not reported", "[config][reload]") {
  const std::vector<Change> changes = {
      {"tls.certificate", [](Config& c) { c.tls.certificate = "rotated.pem"; }},
      {"tls.private_key", [](Config& c) { c.tls.private_key = "rotated.key"; }},
      {"auth.htpasswd.file", [](Config& c) { c.auth.htpasswd.file = "other.htpasswd"; }},
      {"auth.htpasswd off", [](Config& c) { c.auth.htpasswd = {}; }},
      {"auth.ldap.url", [](Config& c) { c.auth.ldap.url = "ldaps://ldap.example.com:636"; }},
      {"auth.ldap.bind_password", [](Config& c) { c.auth.ldap.bind_password = "secret"; }},
      {"auth.ldap.cache_ttl", [](Config& c) { c.auth.ldap.cache_ttl = seconds(0); }},
      {"auth.ldap off", [](Config& c) { c.auth.ldap = {}; }},
      {"an [access] table", [](Config& c) { c.access = AccessConfig{}; }},
      {"an access rule",
       [](Config& c) {
         c.access = AccessConfig{};
         c.access->anonymous.push_back(AccessRule{{"public/**"}, {}, {}, ActionSet{Action::kRead}});
       }},
      {"access.admins",
       [](Config& c) {
         c.access = AccessConfig{};
         c.access->admins = {"root"};
       }},
  };
  for (const Change& change : changes) {
    INFO(change.what);
    Config next = Running();
    change.apply(next);
    CHECK(!(next == Running()));
    CHECK(RestartOnlyChanges(Running(), next).empty());
  }
}

TEST_CASE("several changed sections are all named, in the file's order", "[config][reload]") {
  Config next = Running();
  next.auth.realm = "other";
  next.listen.port = 5001;
  next.log.level = LogLevel::kError;
  next.auth.htpasswd.file = "other.htpasswd";
  CHECK(RestartOnlyChanges(Running(), next) == Strings{"listen", "log", kAuth});
}
