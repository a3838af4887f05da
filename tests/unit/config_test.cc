// SPDX-License-Identifier: Apache-2.0
// Tests of ParseConfig/LoadConfig: defaults, every key, and the file:line: key: messages of errors.
#include "ocireg/config.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::AccessConfig;
using ocireg::AccessRule;
using ocireg::Action;
using ocireg::ActionSet;
using ocireg::ClientAuth;
using ocireg::ClientIdentity;
using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::LogFormat;
using ocireg::LogLevel;
using ocireg::Result;
using std::chrono::seconds;
using Strings = std::vector<std::string>;

namespace {

void CheckSameRules(const std::vector<AccessRule>& got, const std::vector<AccessRule>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("rule " << i + 1);
    CHECK(got[i].repositories == want[i].repositories);
    CHECK(got[i].users == want[i].users);
    CHECK(got[i].groups == want[i].groups);
    CHECK(got[i].actions == want[i].actions);
  }
}

void CheckSameAccess(const std::optional<AccessConfig>& got,
                     const std::optional<AccessConfig>& want) {
  REQUIRE(got.has_value() == want.has_value());
  if (!got) return;
  CHECK(got->admins == want->admins);
  CHECK(got->admin_groups == want->admin_groups);
  {
    INFO("access.anonymous");
    CheckSameRules(got->anonymous, want->anonymous);
  }
  {
    INFO("access.authenticated");
    CheckSameRules(got->authenticated, want->authenticated);
  }
  {
    INFO("access.policy");
    CheckSameRules(got->policy, want->policy);
  }
}

// Compares every field, so a default that drifts from DefaultConfigText() names itself.
void CheckSameConfig(const Config& got, const Config& want) {
  CHECK(got.listen.address == want.listen.address);
  CHECK(got.listen.port == want.listen.port);
  CHECK(got.storage.driver == want.storage.driver);
  CHECK(got.storage.root == want.storage.root);
  CHECK(got.storage.gc_grace_period == want.storage.gc_grace_period);
  CHECK(got.storage.gc_interval == want.storage.gc_interval);
  CHECK(got.storage.upload_ttl == want.storage.upload_ttl);
  CHECK(got.storage.s3 == want.storage.s3);
  CHECK(got.storage.s3_credentials == want.storage.s3_credentials);
  CHECK(got.limits.max_manifest_bytes == want.limits.max_manifest_bytes);
  CHECK(got.limits.max_blob_bytes == want.limits.max_blob_bytes);
  CHECK(got.limits.max_connections == want.limits.max_connections);
  CHECK(got.limits.keep_alive_max_requests == want.limits.keep_alive_max_requests);
  CHECK(got.limits.keep_alive_timeout == want.limits.keep_alive_timeout);
  CHECK(got.limits.read_timeout == want.limits.read_timeout);
  CHECK(got.limits.header_timeout == want.limits.header_timeout);
  CHECK(got.limits.max_open_connections == want.limits.max_open_connections);
  CHECK(got.limits.write_timeout == want.limits.write_timeout);
  CHECK(got.limits.shutdown_timeout == want.limits.shutdown_timeout);
  CHECK(got.limits.drain_delay == want.limits.drain_delay);
  CHECK(got.limits.max_uploads == want.limits.max_uploads);
  CHECK(got.limits.max_uploads_per_client == want.limits.max_uploads_per_client);
  CHECK(got.features.allow_delete == want.features.allow_delete);
  CHECK(got.features.auto_mount == want.features.auto_mount);
  CHECK(got.features.sparse_indexes == want.features.sparse_indexes);
  CHECK(got.log.format == want.log.format);
  CHECK(got.log.level == want.log.level);
  CHECK(got.log.access_log == want.log.access_log);
  CHECK(got.tls.certificate == want.tls.certificate);
  CHECK(got.tls.private_key == want.tls.private_key);
  CHECK(got.tls.client_ca == want.tls.client_ca);
  CHECK(got.tls.client_auth == want.tls.client_auth);
  CHECK(got.tls.client_identity == want.tls.client_identity);
  CHECK(got.auth.realm == want.auth.realm);
  CHECK(got.auth.failure_limit == want.auth.failure_limit);
  CHECK(got.auth.failure_window == want.auth.failure_window);
  CHECK(got.auth.failure_delay == want.auth.failure_delay);
  CHECK(got.auth.failure_delay_max == want.auth.failure_delay_max);
  CHECK(got.auth.trusted_proxies == want.auth.trusted_proxies);
  CHECK(got.auth.htpasswd.file == want.auth.htpasswd.file);
  CHECK(got.auth.ldap.url == want.auth.ldap.url);
  CHECK(got.auth.ldap.start_tls == want.auth.ldap.start_tls);
  CHECK(got.auth.ldap.ca_file == want.auth.ldap.ca_file);
  CHECK(got.auth.ldap.bind_dn == want.auth.ldap.bind_dn);
  CHECK(got.auth.ldap.bind_password == want.auth.ldap.bind_password);
  CHECK(got.auth.ldap.user_base_dn == want.auth.ldap.user_base_dn);
  CHECK(got.auth.ldap.user_filter == want.auth.ldap.user_filter);
  CHECK(got.auth.ldap.group_attribute == want.auth.ldap.group_attribute);
  CHECK(got.auth.ldap.group_base_dn == want.auth.ldap.group_base_dn);
  CHECK(got.auth.ldap.group_filter == want.auth.ldap.group_filter);
  CHECK(got.auth.ldap.group_name_attribute == want.auth.ldap.group_name_attribute);
  CHECK(got.auth.ldap.timeout == want.auth.ldap.timeout);
  CHECK(got.auth.ldap.cache_ttl == want.auth.ldap.cache_ttl);
  CHECK(got.docs.enabled == want.docs.enabled);
  CHECK(got.mirrors == want.mirrors);
  CHECK(got.docs.swagger_ui_dir == want.docs.swagger_ui_dir);
  CHECK(got.metrics.enabled == want.metrics.enabled);
  CheckSameAccess(got.access, want.access);
}

Result<Config> Parse(std::string_view text) { return ocireg::ParseConfig(text, "test.toml"); }

// The message of the error that parsing `text` must give.
std::string ErrorOf(std::string_view text) {
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  REQUIRE(!config.ok());
  CHECK(config.status().code() == ErrorCode::kInvalidArgument);
  return config.status().message();
}

// Parses one `key = value` line in `[table]`, which must succeed.
Config ParseOne(std::string_view table, std::string_view key_value) {
  const std::string text = "[" + std::string(table) + "]\n" + std::string(key_value) + "\n";
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  INFO("error: " << config.status().message());
  REQUIRE_OK(config);
  return *config;
}

// The examples/ folder sits at the top of the source tree; lexically_normal() resolves the ".."
// without needing tests/data to exist on disk.
std::string ExampleConfigPath(std::string_view name) {
  const std::filesystem::path path =
      std::filesystem::path(OCIREG_TEST_DATA_DIR) / ".." / ".." / "examples" / name;
  return path.lexically_normal().string();
}

AccessRule Rule(Strings repositories, ActionSet actions, Strings users = {}, Strings groups = {}) {
  return AccessRule{std::move(repositories), std::move(users), std::move(groups), actions};
}

}  // namespace

TEST_CASE("Config{} holds the documented defaults", "[config]") {
  const Config config;
  CHECK(config.listen.address == "127.0.0.1");
  CHECK(config.listen.port == 5000);
  CHECK(config.storage.root == "./ocireg-data");
  CHECK(config.storage.gc_grace_period == std::chrono::hours(24));
  CHECK(config.limits.max_manifest_bytes == 4 * 1024 * 1024);
  CHECK(config.limits.max_blob_bytes == 0);
  CHECK(config.limits.max_uploads == 1000);
  CHECK(config.limits.max_uploads_per_client == 100);
  CHECK(config.log.format == LogFormat::kText);
  CHECK(config.log.level == LogLevel::kInfo);
  CHECK(config.tls.certificate.empty());
  CHECK(config.tls.client_auth == ClientAuth::kRequired);
  CHECK(config.tls.client_identity == ClientIdentity::kCommonName);
  CHECK(config.auth.realm == "ocireg");
  CHECK(config.auth.failure_limit == 5);
  CHECK(config.auth.failure_window == std::chrono::minutes(5));
  CHECK(config.auth.htpasswd.file.empty());
  CHECK(config.auth.ldap.url.empty());
  CHECK(config.auth.ldap.user_filter == "(uid={user})");
  CHECK(config.auth.ldap.group_filter == "(member={dn})");
  CHECK(config.auth.ldap.timeout == seconds(5));
  CHECK(!config.access.has_value());
}

TEST_CASE("the embedded default text parses to Config{}", "[config]") {
  const std::string_view text = ocireg::DefaultConfigText();
  REQUIRE(!text.empty());
  Result<Config> config = ocireg::ParseConfig(text, "<default>");
  INFO(config.status().message());
  REQUIRE_OK(config);
  CheckSameConfig(*config, Config{});
}

TEST_CASE("the example file parses to Config{}", "[config]") {
  const std::string path = ExampleConfigPath("ocireg.toml");
  INFO(path);
  Result<Config> config = ocireg::LoadConfig(path);
  INFO(config.status().message());
  REQUIRE_OK(config);
  CheckSameConfig(*config, Config{});
}

TEST_CASE("an empty config and missing keys keep the defaults", "[config]") {
  SECTION("empty text") {
    Result<Config> config = Parse("");
    REQUIRE_OK(config);
    CheckSameConfig(*config, Config{});
  }
  SECTION("only comments and empty tables") {
    Result<Config> config = Parse("# nothing here\n[listen]\n[storage]\n[limits]\n[log]\n");
    REQUIRE_OK(config);
    CheckSameConfig(*config, Config{});
  }
  SECTION("one key set, every other field default") {
    Config want;
    want.listen.port = 8080;
    CheckSameConfig(ParseOne("listen", "port = 8080"), want);
  }
}

TEST_CASE("a config setting every key is read field by field", "[config]") {
  constexpr std::string_view kText = R"toml(
[listen]
address = "::1"
port = 0

[storage]
root = "/srv/ocireg"
gc_grace_period = "2d"
gc_interval = 0
upload_ttl = "90m"

[limits]
max_manifest_bytes = "512KiB"
max_blob_bytes = "2GiB"
max_connections = 16
max_open_connections = 64
keep_alive_max_requests = 7
keep_alive_timeout = 3
header_timeout = "4s"
read_timeout = "2m"
write_timeout = "45s"
shutdown_timeout = "0s"
drain_delay = "15s"
max_uploads = 50
max_uploads_per_client = 0

[features]
allow_delete = false
auto_mount = false

[log]
format = "json"
level = "debug"
access_log = false
)toml";
  Result<Config> parsed = Parse(kText);
  INFO(parsed.status().message());
  REQUIRE_OK(parsed);
  const Config& config = *parsed;
  CHECK(config.listen.address == "::1");
  CHECK(config.listen.port == 0);
  CHECK(config.storage.root == "/srv/ocireg");
  CHECK(config.storage.gc_grace_period == seconds(2 * 86400));
  CHECK(config.storage.gc_interval == seconds(0));
  CHECK(config.storage.upload_ttl == seconds(90 * 60));
  CHECK(config.limits.max_manifest_bytes == 512 * 1024);
  CHECK(config.limits.max_blob_bytes == uint64_t{2} * 1024 * 1024 * 1024);
  CHECK(config.limits.max_connections == 16);
  CHECK(config.limits.keep_alive_max_requests == 7);
  CHECK(config.limits.keep_alive_timeout == seconds(3));
  CHECK(config.limits.max_open_connections == 64);
  CHECK(config.limits.header_timeout == seconds(4));
  CHECK(config.limits.read_timeout == seconds(120));
  CHECK(config.limits.write_timeout == seconds(45));
  CHECK(config.limits.shutdown_timeout == seconds(0));
  CHECK(config.limits.drain_delay == seconds(15));
  CHECK(config.limits.max_uploads == 50);
  CHECK(config.limits.max_uploads_per_client == 0);
  CHECK(!config.features.allow_delete);
  CHECK(!config.features.auto_mount);
  CHECK(config.log.format == LogFormat::kJson);
  CHECK(config.log.level == LogLevel::kDebug);
  CHECK(!config.log.access_log);
}

TEST_CASE("inline tables and dotted keys are the same tables", "[config]") {
  Result<Config> config = Parse(
      "listen = { address = \"0.0.0.0\", port = 6000 }\n"
      "storage.root = \"/data\"\n"
      "log.level = \"warn\"\n");
  INFO(config.status().message());
  REQUIRE_OK(config);
  CHECK(config->listen.address == "0.0.0.0");
  CHECK(config->listen.port == 6000);
  CHECK(config->storage.root == "/data");
  CHECK(config->log.level == LogLevel::kWarn);
}

TEST_CASE("durations take a unit or a bare integer of seconds", "[config]") {
  const auto [value, want] = GENERATE(table<std::string, int64_t>({
      {"\"30s\"", 30},
      {"\"5m\"", 300},
      {"\"24h\"", 86400},
      {"\"2d\"", 172800},
      {"\"0s\"", 0},
      {"\"1 h\"", 3600},
      {"45", 45},
      {"0", 0},
      {"\"36500d\"", int64_t{36500} * 86400},
  }));
  INFO("gc_interval = " << value);
  CHECK(ParseOne("storage", "gc_interval = " + value).storage.gc_interval == seconds(want));
}

TEST_CASE("bad durations name the file, the line and the key", "[config]") {
  const auto [value, what] = GENERATE(table<std::string, std::string>({
      {"\"-5s\"", "invalid duration \"-5s\": must not be negative"},
      {"-1", "must not be negative, got -1"},
      {"\"abc\"", "invalid duration \"abc\": expected a whole number and a unit"},
      {"\"\"", "invalid duration \"\": expected a whole number and a unit"},
      {"\"+5s\"", "invalid duration \"+5s\": expected a whole number and a unit"},
      {"\"30\"", "invalid duration \"30\": missing a unit (s, m, h, d)"},
      {"\"30ms\"", "invalid duration \"30ms\": unknown unit \"ms\""},
      {"\"5x\"", "invalid duration \"5x\": unknown unit \"x\""},
      {"\"1.5h\"", "invalid duration \"1.5h\": must be a whole number; use a smaller unit"},
      {"\"99999999999999999999s\"",
       "invalid duration \"99999999999999999999s\": too large (at most 36500d)"},
      {"\"36501d\"", "invalid duration \"36501d\": too large (at most 36500d)"},
      {"\"9223372036854775807d\"", "too large (at most 36500d)"},
      {"3153600001", "must be at most 3153600000 seconds (36500d), got 3153600001"},
      {"9223372036854775807", "must be at most 3153600000 seconds"},
      {"1.5",
       "expected a duration (an integer of seconds or a string like \"30s\"), got a "
       "floating-point number"},
      {"true", "got a boolean"},
  }));
  const std::string message = ErrorOf("# timeouts\n[storage]\ngc_interval = " + value + "\n");
  INFO(message);
  CHECK(message.starts_with("test.toml:3: storage.gc_interval: "));
  CHECK(message.find(what) != std::string::npos);
}

TEST_CASE("timeouts of 0 seconds are refused where they would break serving", "[config]") {
  const std::string key =
      GENERATE("keep_alive_timeout", "header_timeout", "read_timeout", "write_timeout");
  CHECK(ErrorOf("[limits]\n" + key + " = \"0s\"\n") ==
        "test.toml:2: limits." + key + ": must be at least 1s, got 0s");
  CHECK(ErrorOf("[storage]\nupload_ttl = 0\n") ==
        "test.toml:2: storage.upload_ttl: must be at least 1s, got 0s");
}

TEST_CASE("limits.drain_delay is a duration, 0 by default", "[config]") {
  CHECK(Config{}.limits.drain_delay == seconds(0));
  CHECK(ParseOne("limits", "drain_delay = \"0s\"").limits.drain_delay == seconds(0));
  CHECK(ParseOne("limits", "drain_delay = \"2m\"").limits.drain_delay == seconds(120));
  CHECK(ParseOne("limits", "drain_delay = 5").limits.drain_delay == seconds(5));
  CHECK(ErrorOf("[limits]\ndrain_delay = \"-5s\"\n") ==
        "test.toml:2: limits.drain_delay: invalid duration \"-5s\": must not be negative");
  CHECK(ErrorOf("[limits]\ndrain_delay = \"soon\"\n")
            .starts_with("test.toml:2: limits.drain_delay: invalid duration \"soon\""));
}

TEST_CASE("sizes take an integer of bytes or a binary unit", "[config]") {
  const auto [value, want] = GENERATE(table<std::string, uint64_t>({
      {"\"4MiB\"", uint64_t{4} << 20},
      {"\"512KiB\"", uint64_t{512} << 10},
      {"\"1GiB\"", uint64_t{1} << 30},
      {"\"3TiB\"", uint64_t{3} << 40},
      {"\"100B\"", 100},
      {"\"0B\"", 0},
      {"1234", 1234},
      {"0", 0},
  }));
  INFO("max_blob_bytes = " << value);
  CHECK(ParseOne("limits", "max_blob_bytes = " + value).limits.max_blob_bytes == want);
}

TEST_CASE("bad sizes name the file, the line and the key", "[config]") {
  const auto [value, what] = GENERATE(table<std::string, std::string>({
      {"\"4MB\"", "invalid size \"4MB\": unknown unit \"MB\" (use B, KiB, MiB, GiB, TiB)"},
      {"\"4mib\"", "unknown unit \"mib\""},
      {"\"4\"", "invalid size \"4\": missing a unit"},
      {"\"huge\"", "invalid size \"huge\": expected a whole number and a unit"},
      {"\"-1MiB\"", "invalid size \"-1MiB\": must not be negative"},
      {"-1", "must not be negative, got -1"},
      {"\"20000000TiB\"", "invalid size \"20000000TiB\": too large"},
      {"4.5",
       "expected a size (an integer of bytes or a string like \"4MiB\"), got a "
       "floating-point number"},
  }));
  const std::string message = ErrorOf("[limits]\nmax_blob_bytes = " + value + "\n");
  INFO(message);
  CHECK(message.starts_with("test.toml:2: limits.max_blob_bytes: "));
  CHECK(message.find(what) != std::string::npos);
}

TEST_CASE("integers out of range are refused", "[config]") {
  SECTION("ports") {
    CHECK(ParseOne("listen", "port = 65535").listen.port == 65535);
    CHECK(ErrorOf("[listen]\nport = 65536\n") ==
          "test.toml:2: listen.port: must be at most 65535, got 65536");
    CHECK(ErrorOf("[listen]\nport = -1\n") ==
          "test.toml:2: listen.port: must be at least 0, got -1");
  }
  SECTION("counts that must be at least one") {
    CHECK(ErrorOf("[limits]\nmax_connections = 0\n") ==
          "test.toml:2: limits.max_connections: must be at least 1, got 0");
    CHECK(ErrorOf("[limits]\nkeep_alive_max_requests = 0\n") ==
          "test.toml:2: limits.keep_alive_max_requests: must be at least 1, got 0");
    CHECK(ErrorOf("[limits]\nmax_connections = 4294967296\n") ==
          "test.toml:2: limits.max_connections: must be at most 4294967295, got 4294967296");
    CHECK(ParseOne("limits", "max_connections = 1").limits.max_connections == 1);
    CHECK(ErrorOf("[limits]\nmax_uploads = 0\n") ==
          "test.toml:2: limits.max_uploads: must be at least 1, got 0");
    CHECK(ErrorOf("[limits]\nmax_uploads_per_client = -1\n") ==
          "test.toml:2: limits.max_uploads_per_client: must be at least 0, got -1");
  }
  SECTION("a manifest limit of zero bytes") {
    CHECK(ErrorOf("[limits]\nmax_manifest_bytes = \"0B\"\n") ==
          "test.toml:2: limits.max_manifest_bytes: must be at least 1B, got 0B");
  }
}

TEST_CASE("empty strings and unknown choices are refused", "[config]") {
  CHECK(ErrorOf("[storage]\nroot = \"\"\n") == "test.toml:2: storage.root: must not be empty");
  CHECK(ErrorOf("[listen]\naddress = \"\"\n") == "test.toml:2: listen.address: must not be empty");
  CHECK(ErrorOf("[log]\nformat = \"xml\"\n") ==
        "test.toml:2: log.format: must be one of \"text\", \"json\", got \"xml\"");
  CHECK(ErrorOf("[log]\nlevel = \"INFO\"\n") ==
        "test.toml:2: log.level: must be one of \"debug\", \"info\", \"warn\", \"error\", "
        "got \"INFO\"");
  CHECK(ParseOne("log", "level = \"error\"").log.level == LogLevel::kError);
}

TEST_CASE("unknown keys and tables are errors naming the key and its line", "[config]") {
  SECTION("a misspelt key") {
    constexpr std::string_view kText =
        "# ocireg\n"
        "[listen]\n"
        "port = 5000\n"
        "\n"
        "[storage]\n"
        "gc_interval = \"1h\"\n"
        "rooot = \"/srv\"\n";
    CHECK(ErrorOf(kText) == "test.toml:7: storage.rooot: unknown key");
  }
  SECTION("an unknown table") {
    CHECK(ErrorOf("[listen]\nport = 1\n\n[telemetry]\nenabled = true\n") ==
          "test.toml:4: telemetry: unknown table");
  }
  SECTION("a table nested in a known one") {
    CHECK(ErrorOf("[listen.tls]\ncert = \"x\"\n") == "test.toml:1: listen.tls: unknown table");
    CHECK(ErrorOf("[auth]\n[auth.oauth]\nissuer = \"x\"\n") ==
          "test.toml:2: auth.oauth: unknown table");
    CHECK(ErrorOf("[auth.htpasswd.extra]\n") == "test.toml:1: auth.htpasswd.extra: unknown table");
  }
  SECTION("a misspelt key in a sub-table") {
    CHECK(ErrorOf("[auth.ldap]\nuri = \"ldap://x\"\n") ==
          "test.toml:2: auth.ldap.uri: unknown key");
    CHECK(ErrorOf("[auth]\nhtpasswd = \"x\"\n") ==
          "test.toml:2: auth.htpasswd: expected a table, got a string");
  }
  SECTION("a key outside every table") {
    CHECK(ErrorOf("port = 5000\n") == "test.toml:1: port: unknown key");
  }
}

TEST_CASE("values of the wrong type name both types", "[config]") {
  CHECK(ErrorOf("[listen]\nport = \"5000\"\n") ==
        "test.toml:2: listen.port: expected an integer, got a string");
  CHECK(ErrorOf("[listen]\naddress = 127\n") ==
        "test.toml:2: listen.address: expected a string, got an integer");
  CHECK(ErrorOf("[features]\nallow_delete = \"yes\"\n") ==
        "test.toml:2: features.allow_delete: expected a boolean, got a string");
  CHECK(ErrorOf("[log]\naccess_log = [true]\n") ==
        "test.toml:2: log.access_log: expected a boolean, got an array");
  CHECK(ErrorOf("\nlisten = 5000\n") == "test.toml:2: listen: expected a table, got an integer");
  CHECK(ErrorOf("[[storage]]\nroot = \"x\"\n") ==
        "test.toml:1: storage: expected a table, got an array");
}

TEST_CASE("of several problems the first in the file is reported", "[config]") {
  // toml++ sorts keys, so [listen] would be visited before [storage].
  constexpr std::string_view kText =
      "[storage]\n"
      "root = \"\"\n"
      "[listen]\n"
      "address = 5\n"
      "aaa = 1\n";
  CHECK(ErrorOf(kText) == "test.toml:2: storage.root: must not be empty");
}

TEST_CASE("syntax errors give the line, the column and toml++'s description", "[config]") {
  const std::string text = GENERATE(std::string("[listen]\nport = = 5\n"),
                                    std::string("[listen]\nport = 5000\nport = 5001\n"),
                                    std::string("[listen\nport = 5000\n"),
                                    std::string("[listen]\nport = 99999999999999999999\n"));
  const std::string message = ErrorOf(text);
  INFO(message);
  // "test.toml:<line>:<column>: <description>" with a non-empty description.
  REQUIRE(message.starts_with("test.toml:"));
  const size_t line_end = message.find(':', 10);
  REQUIRE(line_end != std::string::npos);
  const size_t column_end = message.find(": ", line_end + 1);
  REQUIRE(column_end != std::string::npos);
  const std::string line = message.substr(10, line_end - 10);
  const std::string column = message.substr(line_end + 1, column_end - line_end - 1);
  CHECK((line == "1" || line == "2" || line == "3"));
  CHECK(!column.empty());
  CHECK(column.find_first_not_of("0123456789") == std::string::npos);
  CHECK(message.size() > column_end + 2);
}

TEST_CASE("a syntax error points at the offending line and column", "[config]") {
  CHECK(ErrorOf("[listen]\nport = = 5\n").starts_with("test.toml:2:8: "));
}

TEST_CASE("LoadConfig reads a file and names it in errors", "[config]") {
  const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("ocireg_config_test_" + std::to_string(::getpid()) + ".toml");
  SECTION("a missing file") {
    const std::string missing = path.string() + ".missing";
    Result<Config> config = ocireg::LoadConfig(missing);
    REQUIRE(!config.ok());
    CHECK(config.status().code() == ErrorCode::kInvalidArgument);
    CHECK(config.status().message().find(missing) != std::string::npos);
    CHECK(config.status().message().find("No such file or directory") != std::string::npos);
  }
  SECTION("a directory") {
    Result<Config> config = ocireg::LoadConfig(path.parent_path().string());
    REQUIRE(!config.ok());
    CHECK(config.status().code() == ErrorCode::kInvalidArgument);
    CHECK(config.status().message().starts_with(path.parent_path().string()));
  }
  SECTION("a file with a value and an error") {
    {
      std::ofstream out(path);
      out << "[listen]\nport = 7000\n[limits]\nread_timeout = \"soon\"\n";
    }
    Result<Config> config = ocireg::LoadConfig(path.string());
    std::filesystem::remove(path);
    REQUIRE(!config.ok());
    CHECK(config.status().message().starts_with(path.string() + ":4: limits.read_timeout: "));
  }
  SECTION("a good file") {
    {
      std::ofstream out(path);
      out << "[listen]\nport = 7000\n";
    }
    Result<Config> config = ocireg::LoadConfig(path.string());
    std::filesystem::remove(path);
    REQUIRE_OK(config);
    CHECK(config->listen.port == 7000);
    CHECK(config->storage.root == "./ocireg-data");
  }
}

TEST_CASE("a config setting every security key is read field by field", "[config]") {
  constexpr std::string_view kText = R"toml(
[tls]
certificate = "/etc/ocireg/tls/server.crt"
private_key = "/etc/ocireg/tls/server.key"
client_ca = "/etc/ocireg/tls/clients.crt"
client_auth = "optional"
client_identity = "san-email"

[auth]
realm = "registry.example.com"
failure_limit = 0
failure_window = "10m"
failure_delay = "2s"
failure_delay_max = "1m"
trusted_proxies = ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]

[auth.htpasswd]
file = "/etc/ocireg/htpasswd"

[auth.ldap]
url = "ldap://ldap.example.com:389"
start_tls = true
ca_file = "/etc/ocireg/ldap-ca.crt"
bind_dn = "cn=ocireg,ou=services,dc=example,dc=com"
bind_password = "s3cret"
user_base_dn = "ou=people,dc=example,dc=com"
user_filter = "(&(objectClass=person)(uid={user}))"
group_attribute = "memberOf"
group_base_dn = "ou=groups,dc=example,dc=com"
group_filter = "(memberUid={user})"
group_name_attribute = "ou"
timeout = "10s"
cache_ttl = 0

[access]
admins = ["root", "ops"]
admin_groups = ["registry-admins"]

[[access.anonymous]]
repositories = ["public/**", "mirror/*"]
actions = ["read"]

[[access.authenticated]]
repositories = ["**"]
actions = ["read", "create"]

[[access.policy]]
repositories = ["team-a/**"]
users = ["alice"]
groups = ["team-a", "leads"]
actions = ["delete", "update", "create", "read"]

[[access.policy]]
repositories = ["shared/?"]
groups = ["dev"]
actions = ["update", "update"]
)toml";
  Result<Config> parsed = Parse(kText);
  INFO(parsed.status().message());
  REQUIRE_OK(parsed);
  Config want;
  want.tls = {"/etc/ocireg/tls/server.crt", "/etc/ocireg/tls/server.key",
              "/etc/ocireg/tls/clients.crt", ClientAuth::kOptional, ClientIdentity::kSanEmail};
  want.auth.realm = "registry.example.com";
  want.auth.failure_limit = 0;
  want.auth.failure_window = seconds(600);
  want.auth.failure_delay = seconds(2);
  want.auth.failure_delay_max = seconds(60);
  want.auth.trusted_proxies = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32"};
  want.auth.htpasswd.file = "/etc/ocireg/htpasswd";
  want.auth.ldap.url = "ldap://ldap.example.com:389";
  want.auth.ldap.start_tls = true;
  want.auth.ldap.ca_file = "/etc/ocireg/ldap-ca.crt";
  want.auth.ldap.bind_dn = "cn=ocireg,ou=services,dc=example,dc=com";
  want.auth.ldap.bind_password = "s3cret";
  want.auth.ldap.user_base_dn = "ou=people,dc=example,dc=com";
  want.auth.ldap.user_filter = "(&(objectClass=person)(uid={user}))";
  want.auth.ldap.group_attribute = "memberOf";
  want.auth.ldap.group_base_dn = "ou=groups,dc=example,dc=com";
  want.auth.ldap.group_filter = "(memberUid={user})";
  want.auth.ldap.group_name_attribute = "ou";
  want.auth.ldap.timeout = seconds(10);
  want.auth.ldap.cache_ttl = seconds(0);
  AccessConfig access;
  access.admins = {"root", "ops"};
  access.admin_groups = {"registry-admins"};
  access.anonymous = {Rule({"public/**", "mirror/*"}, {Action::kRead})};
  access.authenticated = {Rule({"**"}, {Action::kRead, Action::kCreate})};
  access.policy = {Rule({"team-a/**"}, ActionSet::All(), {"alice"}, {"team-a", "leads"}),
                   Rule({"shared/?"}, {Action::kUpdate}, {}, {"dev"})};
  want.access = access;
  CheckSameConfig(*parsed, want);
}

TEST_CASE("tls settings are checked together at the [tls] line", "[config]") {
  CHECK(ErrorOf("[tls]\nclient_auth = \"sometimes\"\n") ==
        "test.toml:2: tls.client_auth: must be one of \"required\", \"optional\", "
        "got \"sometimes\"");
  CHECK(ErrorOf("[tls]\nclient_identity = \"CN\"\n") ==
        "test.toml:2: tls.client_identity: must be one of \"cn\", \"san-dns\", \"san-email\", "
        "\"san-uri\", got \"CN\"");
  CHECK(ErrorOf("# TLS\n[tls]\ncertificate = \"/etc/ocireg/server.crt\"\n") ==
        "test.toml:2: tls: private_key is required when certificate is set");
  CHECK(ErrorOf("[tls]\nprivate_key = \"/etc/ocireg/server.key\"\n") ==
        "test.toml:1: tls: certificate is required when private_key is set");
  CHECK(ErrorOf("\n[tls]\nclient_ca = \"/etc/ocireg/ca.crt\"\n") ==
        "test.toml:2: tls: client_ca needs TLS: set certificate and private_key");
  SECTION("a bad value is reported, not the check it would fail") {
    CHECK(ErrorOf("[tls]\ncertificate = \"/c.crt\"\nprivate_key = 5\n") ==
          "test.toml:3: tls.private_key: expected a string, got an integer");
  }
  SECTION("empty paths turn TLS off") {
    Result<Config> config = Parse("[tls]\ncertificate = \"\"\nprivate_key = \"\"\n");
    REQUIRE_OK(config);
    CHECK(config->tls.certificate.empty());
  }
}

TEST_CASE("a check's problem competes with later tables by its line", "[config]") {
  // [auth] is visited before [tls] (toml++ sorts keys); the [tls] problem comes first in the file.
  constexpr std::string_view kText =
      "[tls]\n"
      "certificate = \"/etc/ocireg/server.crt\"\n"
      "\n"
      "[auth]\n"
      "realm = \"\"\n";
  CHECK(ErrorOf(kText) == "test.toml:1: tls: private_key is required when certificate is set");
}

TEST_CASE("ldap settings are checked together at the [auth.ldap] line", "[config]") {
  const std::string base = "user_base_dn = \"ou=people,dc=example,dc=com\"\n";
  CHECK(ErrorOf("[auth.ldap]\nurl = \"http://ldap.example.com\"\n" + base) ==
        "test.toml:1: auth.ldap: url must start with ldap:// or ldaps://, got "
        "\"http://ldap.example.com\"");
  CHECK(ErrorOf("[auth]\n[auth.ldap]\nurl = \"ldaps://ldap\"\nstart_tls = true\n" + base) ==
        "test.toml:2: auth.ldap: start_tls applies to ldap:// URLs; ldaps:// is TLS already");
  CHECK(ErrorOf("[auth.ldap]\nurl = \"ldap://ldap\"\n") ==
        "test.toml:1: auth.ldap: user_base_dn is required when url is set");
  CHECK(ErrorOf("[auth.ldap]\nurl = \"ldap://ldap\"\nuser_filter = \"(uid=%s)\"\n" + base) ==
        "test.toml:1: auth.ldap: user_filter must contain {user}");
  CHECK(ErrorOf("[auth.ldap]\nuser_filter = \"\"\n") ==
        "test.toml:2: auth.ldap.user_filter: must not be empty");
  CHECK(ErrorOf("[auth.ldap]\ntimeout = 0\n") ==
        "test.toml:2: auth.ldap.timeout: must be at least 1s, got 0s");
  SECTION("without a url the other keys are not checked") {
    Result<Config> config = Parse("[auth.ldap]\nstart_tls = true\nuser_filter = \"(cn=x)\"\n");
    INFO(config.status().message());
    REQUIRE_OK(config);
    CHECK(config->auth.ldap.start_tls);
  }
  SECTION("ldaps:// without start_tls") {
    Result<Config> config = Parse("[auth.ldap]\nurl = \"ldaps://ldap:636\"\n" + base);
    INFO(config.status().message());
    REQUIRE_OK(config);
    CHECK(config->auth.ldap.url == "ldaps://ldap:636");
  }
}

TEST_CASE("auth settings are range-checked", "[config]") {
  CHECK(ErrorOf("[auth]\nrealm = \"\"\n") == "test.toml:2: auth.realm: must not be empty");
  CHECK(ErrorOf("[auth]\nfailure_window = \"0s\"\n") ==
        "test.toml:2: auth.failure_window: must be at least 1s, got 0s");
  CHECK(ErrorOf("[auth]\nfailure_limit = -1\n") ==
        "test.toml:2: auth.failure_limit: must be at least 0, got -1");
  CHECK(ErrorOf("[auth]\ntrusted_proxies = [\"10.0.0.0/33\"]\n") ==
        "test.toml:2: auth.trusted_proxies: element 1 \"10.0.0.0/33\": the prefix length after / "
        "must be 0 to 32");
  CHECK(ErrorOf("[auth]\ntrusted_proxies = [\"::1\", \"proxy.example\"]\n") ==
        "test.toml:2: auth.trusted_proxies: element 2 \"proxy.example\": not an IPv4 or IPv6 "
        "address");
  CHECK(ErrorOf("[auth.htpasswd]\nfile = false\n") ==
        "test.toml:2: auth.htpasswd.file: expected a string, got a boolean");
}

TEST_CASE("access rules name the element and its line", "[config]") {
  SECTION("an unknown action in the second policy") {
    constexpr std::string_view kText =
        "[[access.policy]]\n"
        "repositories = [\"a/**\"]\n"
        "users = [\"alice\"]\n"
        "actions = [\"read\"]\n"
        "\n"
        "[[access.policy]]\n"
        "repositories = [\"b/**\"]\n"
        "groups = [\"dev\"]\n"
        "actions = [\"read\", \"push\"]\n";
    CHECK(ErrorOf(kText) ==
          "test.toml:9: access.policy[2].actions: unknown action \"push\": use \"read\", "
          "\"create\", \"update\" or \"delete\"");
  }
  SECTION("a policy without users or groups") {
    CHECK(ErrorOf("[access]\n\n[[access.policy]]\nrepositories = [\"a\"]\nactions = [\"read\"]\n"
                  "users = []\n") ==
          "test.toml:3: access.policy[1]: a policy needs users or groups");
  }
  SECTION("a rule without repositories or actions") {
    CHECK(ErrorOf("[[access.anonymous]]\nactions = [\"read\"]\n") ==
          "test.toml:1: access.anonymous[1]: repositories is required (a list of patterns)");
    CHECK(ErrorOf("[[access.authenticated]]\nrepositories = [\"**\"]\nactions = []\n") ==
          "test.toml:1: access.authenticated[1]: actions is required (a list of actions)");
  }
  SECTION("an unknown key in an anonymous rule") {
    CHECK(ErrorOf("[[access.anonymous]]\nrepositories = [\"public/**\"]\nusers = [\"bob\"]\n"
                  "actions = [\"read\"]\n") ==
          "test.toml:3: access.anonymous[1].users: unknown key");
  }
  SECTION("a plain table where an array of tables belongs") {
    CHECK(ErrorOf(
              "[access.policy]\nrepositories = [\"a\"]\nusers = [\"a\"]\nactions = [\"read\"]\n") ==
          "test.toml:1: access.policy: expected an array of tables ([[access.policy]]), got a "
          "table");
  }
  SECTION("an unknown key or table under [access]") {
    CHECK(ErrorOf("[access]\nadmin = [\"root\"]\n") == "test.toml:2: access.admin: unknown key");
    CHECK(ErrorOf("[[access.deny]]\nrepositories = [\"a\"]\n") ==
          "test.toml:1: access.deny: unknown table");
  }
  SECTION("list elements must be non-empty strings") {
    CHECK(ErrorOf("[access]\nadmins = [\"root\", 7]\n") ==
          "test.toml:2: access.admins: element 2: expected a string, got an integer");
    CHECK(ErrorOf("[access]\nadmin_groups = [\"\"]\n") ==
          "test.toml:2: access.admin_groups: element 1: must not be empty");
    CHECK(ErrorOf("[access]\nadmins = \"root\"\n") ==
          "test.toml:2: access.admins: expected an array of strings, got a string");
    CHECK(ErrorOf("[[access.anonymous]]\nrepositories = [[\"a\"]]\nactions = [\"read\"]\n") ==
          "test.toml:2: access.anonymous[1].repositories: element 1: expected a string, got an "
          "array");
  }
}

TEST_CASE("an [access] table, even empty, replaces the implicit policy", "[config]") {
  SECTION("no [access]: no access config") {
    Result<Config> config = Parse("[auth]\nrealm = \"r\"\n");
    REQUIRE_OK(config);
    CHECK(!config->access.has_value());
  }
  SECTION("an empty [access]") {
    Result<Config> config = Parse("[access]\n");
    REQUIRE_OK(config);
    CheckSameAccess(config->access, AccessConfig{});
  }
  SECTION("[[access.policy]] without an [access] header") {
    Result<Config> config = Parse(
        "[[access.policy]]\nrepositories = [\"ci/**\"]\nusers = [\"robot\"]\n"
        "actions = [\"create\"]\n");
    INFO(config.status().message());
    REQUIRE_OK(config);
    AccessConfig want;
    want.policy = {Rule({"ci/**"}, {Action::kCreate}, {"robot"})};
    CheckSameAccess(config->access, want);
  }
  SECTION("inline arrays of tables") {
    Result<Config> config = Parse(
        "access = { admins = [\"root\"], anonymous = [{ repositories = [\"p/*\"], "
        "actions = [\"read\"] }] }\n");
    INFO(config.status().message());
    REQUIRE_OK(config);
    AccessConfig want;
    want.admins = {"root"};
    want.anonymous = {Rule({"p/*"}, {Action::kRead})};
    CheckSameAccess(config->access, want);
  }
}

TEST_CASE("the secure example file parses to its documented settings", "[config]") {
  const std::string path = ExampleConfigPath("secure.toml");
  INFO(path);
  Result<Config> config = ocireg::LoadConfig(path);
  INFO(config.status().message());
  REQUIRE_OK(config);
  Config want;
  want.listen.address = "0.0.0.0";
  want.listen.port = 5000;
  want.storage.root = "/var/lib/ocireg";
  want.log.format = LogFormat::kJson;
  want.tls = {"/etc/ocireg/tls/server.crt", "/etc/ocireg/tls/server.key",
              "/etc/ocireg/tls/client-ca.crt", ClientAuth::kOptional, ClientIdentity::kCommonName};
  want.auth.realm = "registry.example.com";
  want.auth.htpasswd.file = "/etc/ocireg/htpasswd";
  want.auth.ldap.url = "ldap://ldap.example.com:389";
  want.auth.ldap.start_tls = true;
  want.auth.ldap.ca_file = "/etc/ocireg/tls/ldap-ca.crt";
  want.auth.ldap.bind_dn = "cn=ocireg,ou=services,dc=example,dc=com";
  want.auth.ldap.bind_password = "change-me";
  want.auth.ldap.user_base_dn = "ou=people,dc=example,dc=com";
  want.auth.ldap.user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))";
  want.auth.ldap.group_base_dn = "ou=groups,dc=example,dc=com";
  want.auth.ldap.group_filter = "(&(objectClass=groupOfNames)(member={dn}))";
  AccessConfig access;
  access.admins = {"admin"};
  access.admin_groups = {"registry-admins"};
  access.anonymous = {Rule({"public/**"}, {Action::kRead})};
  access.authenticated = {Rule({"**"}, {Action::kRead})};
  access.policy = {
      Rule({"team-a/**"}, ActionSet::All(), {}, {"team-a"}),
      Rule({"team-b/**"}, ActionSet::All(), {}, {"team-b"}),
      Rule({"public/**"}, {Action::kCreate, Action::kUpdate}, {}, {"release-managers"}),
      Rule({"team-a/ci/**", "team-b/ci/**"}, {Action::kCreate}, {"ci-runner"}),
  };
  want.access = access;
  CheckSameConfig(*config, want);
}

TEST_CASE("the docs table switches the API documentation and names Swagger UI's files",
          "[config]") {
  const Config defaults;
  CHECK(defaults.docs.enabled);
  CHECK(defaults.docs.swagger_ui_dir.empty());  // the installed copy, else a checkout's
  CHECK(!ParseOne("docs", "enabled = false").docs.enabled);
  CHECK(ParseOne("docs", "swagger_ui_dir = \"/srv/swagger\"").docs.swagger_ui_dir ==
        "/srv/swagger");
  CHECK(ParseOne("docs", "swagger_ui_dir = \"\"").docs.swagger_ui_dir.empty());
  CHECK(ErrorOf("[docs]\nswagger_ui_dir = 3\n").find("test.toml:2: docs.swagger_ui_dir:") == 0);
  CHECK(ErrorOf("[docs]\nenabled = \"yes\"\n").starts_with("test.toml:2: docs.enabled: "));
}

TEST_CASE("the [metrics] table switches GET /metrics", "[config]") {
  CHECK(Config().metrics.enabled);
  CHECK(!ParseOne("metrics", "enabled = false").metrics.enabled);
  CHECK(ErrorOf("[metrics]\nenabled = 1\n").starts_with("test.toml:2: metrics.enabled: "));
  CHECK(ErrorOf("[metrics]\npath = \"/m\"\n").starts_with("test.toml:2: metrics.path: "));
}
