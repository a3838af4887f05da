// SPDX-License-Identifier: Apache-2.0
// Tests of the [cluster] table of ParseConfig: defaults, every key, and the "file:line:
// cluster.key:" messages of bad values.
#include <chrono>
#include <string>
#include <string_view>

#include "catch.h"
#include "ocireg/config.h"
#include "status_macros.h"

namespace ocireg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result<Config> Parse(std::string_view text) { return ParseConfig(text, "test.toml"); }

// The message of the error that parsing `text` must give.
std::string ErrorOf(std::string_view text) {
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  REQUIRE(!config.ok());
  CHECK(config.status().code() == ErrorCode::kInvalidArgument);
  return config.status().message();
}

// The message of parsing `[cluster]` with the one line `key_value` (on line 3, after a comment).
std::string ClusterErrorOf(std::string_view key_value) {
  return ErrorOf("# the cluster\n[cluster]\n" + std::string(key_value) + "\n");
}

TEST_CASE("[cluster] defaults: no Redis, prefix ocireg:, 1 s timeouts, 30 s leases", "[config]") {
  const ClusterConfig defaults;
  CHECK(defaults.node_name.empty());
  CHECK(defaults.redis_url.empty());
  CHECK(defaults.redis_password.empty());
  CHECK(defaults.redis_ca_file.empty());
  CHECK(defaults.redis_tls_verify);
  CHECK(defaults.key_prefix == "ocireg:");
  CHECK(defaults.connect_timeout == milliseconds(1000));
  CHECK(defaults.command_timeout == milliseconds(1000));
  CHECK(defaults.lease_ttl == seconds(30));

  Result<Config> empty = Parse("[cluster]\n");
  REQUIRE_OK(empty);
  CHECK(empty->cluster == defaults);
  Result<Config> none = Parse("");
  REQUIRE_OK(none);
  CHECK(none->cluster == defaults);
}

TEST_CASE("[cluster] reads every key", "[config]") {
  Result<Config> config = Parse(
      "[cluster]\n"
      "node_name = \"r1.zone-a:7\"\n"
      "redis_url = \"rediss://ocireg@redis.example.test:6380/2\"\n"
      "redis_password = \"p@ss word:/\"\n"
      "redis_ca_file = \"/etc/ocireg/redis-ca.pem\"\n"
      "redis_tls_verify = false\n"
      "key_prefix = \"registry-b:\"\n"
      "connect_timeout = \"250ms\"\n"
      "command_timeout = \"2s\"\n"
      "lease_ttl = \"1m\"\n");
  REQUIRE_OK(config);
  const ClusterConfig& cluster = config->cluster;
  CHECK(cluster.node_name == "r1.zone-a:7");
  CHECK(cluster.redis_url == "rediss://ocireg@redis.example.test:6380/2");
  CHECK(cluster.redis_password == "p@ss word:/");
  CHECK(cluster.redis_ca_file == "/etc/ocireg/redis-ca.pem");
  CHECK_FALSE(cluster.redis_tls_verify);
  CHECK(cluster.key_prefix == "registry-b:");
  CHECK(cluster.connect_timeout == milliseconds(250));
  CHECK(cluster.command_timeout == milliseconds(2000));
  CHECK(cluster.lease_ttl == seconds(60));

  SECTION("durations as plain seconds, and the shortest lease") {
    Result<Config> plain = Parse(
        "[cluster]\nredis_url = \"redis://127.0.0.1\"\nconnect_timeout = 3\n"
        "command_timeout = \"1ms\"\nlease_ttl = \"3s\"\n");
    REQUIRE_OK(plain);
    CHECK(plain->cluster.connect_timeout == milliseconds(3000));
    CHECK(plain->cluster.command_timeout == milliseconds(1));
    CHECK(plain->cluster.lease_ttl == seconds(3));
  }
  SECTION("URL forms: no port, IPv6, no database") {
    for (const char* url : {"redis://redis", "redis://[::1]:6379", "redis://10.0.0.5:6379/0",
                            "rediss://redis.example.test", "redis://user@host/15"}) {
      INFO(url);
      Result<Config> parsed = Parse("[cluster]\nredis_url = \"" + std::string(url) + "\"\n");
      CHECK_OK(parsed);
    }
  }
}

TEST_CASE("[cluster] redis_url: what is wrong is said at its line", "[config]") {
  struct Case {
    std::string url;
    std::string what;
  };
  const Case bad = GENERATE(
      Case{"redis://ocireg:secret@127.0.0.1:6379/0",
           "must not hold a password: set redis_password"},
      Case{"redis://:secret@127.0.0.1:6379", "must not hold a password: set redis_password"},
      Case{"http://127.0.0.1:6379", "must start with redis:// or rediss://"},
      Case{"127.0.0.1:6379", "must start with redis:// or rediss://"},
      Case{"redis://127.0.0.1:0", "has a bad port: 0"},
      Case{"redis://127.0.0.1:65536", "has a bad port: 65536"},
      Case{"redis://127.0.0.1:port", "has a bad port: port"},
      Case{"redis://127.0.0.1:", "has a bad port: "},
      Case{"redis://127.0.0.1:6379/db", "has a bad database number: db"},
      Case{"redis:///0", "names no host"},
      Case{"redis://127.0.0.1:6379/0?timeout=1", "takes no query or fragment"},
      Case{"redis://[::1:6379", "has an unclosed [ in its host"});
  const std::string message = ClusterErrorOf("redis_url = \"" + bad.url + "\"");
  INFO(message);
  CHECK(message.starts_with("test.toml:3: cluster.redis_url: "));
  CHECK(message.find(bad.what) != std::string::npos);
  // A password that came in the URL is not repeated in the message.
  CHECK(message.find("secret") == std::string::npos);
}

TEST_CASE("[cluster] bad values name the key and its line", "[config]") {
  CHECK(ClusterErrorOf("lease_ttl = \"1s\"") ==
        "test.toml:3: cluster.lease_ttl: must be at least 3s, got 1s");
  CHECK(ClusterErrorOf("lease_ttl = 2") ==
        "test.toml:3: cluster.lease_ttl: must be at least 3s, got 2s");
  CHECK(ClusterErrorOf("lease_ttl = \"500ms\"").starts_with("test.toml:3: cluster.lease_ttl: "));
  CHECK(ClusterErrorOf("node_name = \"replica one\"") ==
        "test.toml:3: cluster.node_name: may hold only letters, digits and - _ . :");
  CHECK(ClusterErrorOf("node_name = \"r\\\"1\"") ==
        "test.toml:3: cluster.node_name: may hold only letters, digits and - _ . :");
  CHECK(ClusterErrorOf("node_name = \"" + std::string(129, 'n') + "\"") ==
        "test.toml:3: cluster.node_name: must be at most 128 characters");
  CHECK(ClusterErrorOf("connect_timeout = \"0ms\"")
            .starts_with("test.toml:3: cluster.connect_timeout: must be at least"));
  CHECK(ClusterErrorOf("command_timeout = \"soon\"")
            .starts_with("test.toml:3: cluster.command_timeout: invalid duration \"soon\""));
  CHECK(ClusterErrorOf("redis_tls_verify = \"no\"") ==
        "test.toml:3: cluster.redis_tls_verify: expected a boolean, got a string");
  CHECK(ClusterErrorOf("redis_password = 1234") ==
        "test.toml:3: cluster.redis_password: expected a string, got an integer");
  CHECK(ClusterErrorOf("redis_host = \"127.0.0.1\"") ==
        "test.toml:3: cluster.redis_host: unknown key");
}

TEST_CASE("[cluster] keys that need a Redis, or TLS, are refused without one", "[config]") {
  const std::string no_url = ErrorOf("[cluster]\nredis_password = \"secret\"\n");
  INFO(no_url);
  CHECK(no_url.starts_with("test.toml:1: cluster: "));
  CHECK(no_url.find("need redis_url") != std::string::npos);
  CHECK(no_url.find("secret") == std::string::npos);

  CHECK(ErrorOf("[cluster]\nredis_ca_file = \"/ca.pem\"\n")
            .starts_with("test.toml:1: cluster: redis_password and redis_ca_file need redis_url"));
  CHECK(ErrorOf("[cluster]\nredis_url = \"redis://127.0.0.1\"\nredis_ca_file = \"/ca.pem\"\n") ==
        "test.toml:1: cluster: redis_ca_file needs a rediss:// redis_url");
  // An empty URL is no Redis, as when the key is absent.
  Result<Config> off = Parse("[cluster]\nredis_url = \"\"\n");
  REQUIRE_OK(off);
  CHECK(off->cluster.redis_url.empty());
}

}  // namespace
}  // namespace ocireg
