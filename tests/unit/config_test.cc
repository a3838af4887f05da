// SPDX-License-Identifier: Apache-2.0
// Tests of ParseConfig/LoadConfig: defaults, every key, and the file:line: key: messages of errors.
#include "ocireg/config.h"

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "catch.h"

using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::LogFormat;
using ocireg::LogLevel;
using ocireg::Result;
using std::chrono::seconds;

namespace {

// Compares every field, so a default that drifts from DefaultConfigText() names itself.
void CheckSameConfig(const Config& got, const Config& want) {
  CHECK(got.listen.address == want.listen.address);
  CHECK(got.listen.port == want.listen.port);
  CHECK(got.storage.root == want.storage.root);
  CHECK(got.storage.gc_grace_period == want.storage.gc_grace_period);
  CHECK(got.storage.gc_interval == want.storage.gc_interval);
  CHECK(got.storage.upload_ttl == want.storage.upload_ttl);
  CHECK(got.limits.max_manifest_bytes == want.limits.max_manifest_bytes);
  CHECK(got.limits.max_blob_bytes == want.limits.max_blob_bytes);
  CHECK(got.limits.max_connections == want.limits.max_connections);
  CHECK(got.limits.keep_alive_max_requests == want.limits.keep_alive_max_requests);
  CHECK(got.limits.keep_alive_timeout == want.limits.keep_alive_timeout);
  CHECK(got.limits.read_timeout == want.limits.read_timeout);
  CHECK(got.limits.write_timeout == want.limits.write_timeout);
  CHECK(got.limits.shutdown_timeout == want.limits.shutdown_timeout);
  CHECK(got.features.allow_delete == want.features.allow_delete);
  CHECK(got.features.auto_mount == want.features.auto_mount);
  CHECK(got.log.format == want.log.format);
  CHECK(got.log.level == want.log.level);
  CHECK(got.log.access_log == want.log.access_log);
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
  REQUIRE(config.ok());
  return *config;
}

// The examples/ folder sits at the top of the source tree; lexically_normal() resolves the ".."
// without needing tests/data to exist on disk.
std::string ExampleConfigPath() {
  const std::filesystem::path path =
      std::filesystem::path(OCIREG_TEST_DATA_DIR) / ".." / ".." / "examples" / "ocireg.toml";
  return path.lexically_normal().string();
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
  CHECK(config.log.format == LogFormat::kText);
  CHECK(config.log.level == LogLevel::kInfo);
}

TEST_CASE("the embedded default text parses to Config{}", "[config]") {
  const std::string_view text = ocireg::DefaultConfigText();
  REQUIRE(!text.empty());
  Result<Config> config = ocireg::ParseConfig(text, "<default>");
  INFO(config.status().message());
  REQUIRE(config.ok());
  CheckSameConfig(*config, Config{});
}

TEST_CASE("the example file parses to Config{}", "[config]") {
  const std::string path = ExampleConfigPath();
  INFO(path);
  Result<Config> config = ocireg::LoadConfig(path);
  INFO(config.status().message());
  REQUIRE(config.ok());
  CheckSameConfig(*config, Config{});
}

TEST_CASE("an empty config and missing keys keep the defaults", "[config]") {
  SECTION("empty text") {
    Result<Config> config = Parse("");
    REQUIRE(config.ok());
    CheckSameConfig(*config, Config{});
  }
  SECTION("only comments and empty tables") {
    Result<Config> config = Parse("# nothing here\n[listen]\n[storage]\n[limits]\n[log]\n");
    REQUIRE(config.ok());
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
keep_alive_max_requests = 7
keep_alive_timeout = 3
read_timeout = "2m"
write_timeout = "45s"
shutdown_timeout = "0s"

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
  REQUIRE(parsed.ok());
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
  CHECK(config.limits.read_timeout == seconds(120));
  CHECK(config.limits.write_timeout == seconds(45));
  CHECK(config.limits.shutdown_timeout == seconds(0));
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
  REQUIRE(config.ok());
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
      {"1.5", "expected a duration (an integer of seconds or a string like \"30s\"), got a "
              "floating-point number"},
      {"true", "got a boolean"},
  }));
  const std::string message = ErrorOf("# timeouts\n[storage]\ngc_interval = " + value + "\n");
  INFO(message);
  CHECK(message.starts_with("test.toml:3: storage.gc_interval: "));
  CHECK(message.find(what) != std::string::npos);
}

TEST_CASE("timeouts of 0 seconds are refused where they would break serving", "[config]") {
  const std::string key = GENERATE("keep_alive_timeout", "read_timeout", "write_timeout");
  CHECK(ErrorOf("[limits]\n" + key + " = \"0s\"\n") ==
        "test.toml:2: limits." + key + ": must be at least 1s, got 0s");
  CHECK(ErrorOf("[storage]\nupload_ttl = 0\n") ==
        "test.toml:2: storage.upload_ttl: must be at least 1s, got 0s");
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
      {"4.5", "expected a size (an integer of bytes or a string like \"4MiB\"), got a "
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
    CHECK(ErrorOf("[listen]\nport = 1\n\n[auth]\nhtpasswd = \"x\"\n") ==
          "test.toml:4: auth: unknown table");
  }
  SECTION("a table nested in a known one") {
    CHECK(ErrorOf("[listen.tls]\ncert = \"x\"\n") == "test.toml:1: listen.tls: unknown key");
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
    REQUIRE(config.ok());
    CHECK(config->listen.port == 7000);
    CHECK(config->storage.root == "./ocireg-data");
  }
}
