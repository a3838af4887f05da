// SPDX-License-Identifier: Apache-2.0
// Tests of [storage] driver and [storage.s3]: every key, and the file:line: key: message of every
// bad value. The S3 keys' resolution by LoadConfig is in s3_credentials_test.cc.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "catch.h"
#include "ocireg/config.h"
#include "status_macros.h"

using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::Result;
using ocireg::S3CredentialsSource;
using ocireg::S3Options;
using std::chrono::milliseconds;

namespace {

// The smallest [storage.s3] that parses, after `[storage]\ndriver = "s3"` (lines 1 to 2): the
// table starts on line 3, and a key appended to it is on line 6.
constexpr std::string_view kMinimal =
    "[storage]\n"
    "driver = \"s3\"\n"
    "[storage.s3]\n"
    "endpoint = \"http://127.0.0.1:7480\"\n"
    "bucket = \"registry\"\n";

Result<Config> Parse(std::string_view text) { return ocireg::ParseConfig(text, "test.toml"); }

std::string ErrorOf(std::string_view text) {
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  REQUIRE(!config.ok());
  CHECK(config.status().code() == ErrorCode::kInvalidArgument);
  return config.status().message();
}

// kMinimal with `key_value` on line 6; when it sets endpoint or bucket, it replaces kMinimal's.
std::string WithKey(std::string_view key_value) {
  const std::string key(key_value.substr(0, key_value.find(' ')));
  std::string text = "[storage]\ndriver = \"s3\"\n[storage.s3]\n";
  for (std::string_view line :
       {"endpoint = \"http://127.0.0.1:7480\"\n", "bucket = \"registry\"\n"}) {
    text += line.starts_with(key + " ") ? std::string("# set below\n") : std::string(line);
  }
  return text + std::string(key_value) + "\n";
}

S3Options ParseS3(std::string_view key_value) {
  const std::string text = WithKey(key_value);
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  REQUIRE_OK(config);
  return config->storage.s3;
}

// The defaults of S3Options with the endpoint and bucket of kMinimal.
S3Options MinimalOptions() {
  S3Options options;
  options.endpoint = "http://127.0.0.1:7480";
  options.bucket = "registry";
  return options;
}

}  // namespace

TEST_CASE("storage.driver is fs unless the file says s3", "[config][s3]") {
  const Config defaults;
  CHECK(defaults.storage.driver == "fs");
  CHECK(defaults.storage.s3 == S3Options{});
  CHECK(defaults.storage.s3_credentials == S3CredentialsSource{});
  Result<Config> fs = Parse("[storage]\ndriver = \"fs\"\nroot = \"/srv\"\n");
  REQUIRE_OK(fs);
  CHECK(fs->storage.driver == "fs");
  Result<Config> s3 = Parse(kMinimal);
  REQUIRE_OK(s3);
  CHECK(s3->storage.driver == "s3");
  CHECK(s3->storage.s3 == MinimalOptions());
  CHECK(ErrorOf("[storage]\ndriver = \"gcs\"\n") ==
        "test.toml:2: storage.driver: must be one of \"fs\", \"s3\", got \"gcs\"");
  CHECK(ErrorOf("[storage]\ndriver = \"S3\"\n") ==
        "test.toml:2: storage.driver: must be one of \"fs\", \"s3\", got \"S3\"");
  CHECK(ErrorOf("[storage]\ndriver = 3\n") ==
        "test.toml:2: storage.driver: expected a string, got an integer");
}

TEST_CASE("every [storage.s3] key is read field by field", "[config][s3]") {
  constexpr std::string_view kText = R"toml(
[storage]
driver = "s3"
gc_interval = "2h"

[storage.s3]
endpoint = "https://[2001:db8::1]:8443"
region = "default"
bucket = "team.registry-01"
prefix = "ocireg/prod"
path_style = true
access_key = "AKIDEXAMPLE"
secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
session_token = "token-of-sts"
ca_file = "/etc/ocireg/rgw-ca.crt"
part_size = "64MiB"
connect_timeout = "250ms"
idle_timeout = "2m"
max_retries = 0
retry_base_delay = "50ms"
max_retry_time = 90
max_idle_connections = 8
)toml";
  Result<Config> parsed = Parse(kText);
  INFO(parsed.status().message());
  REQUIRE_OK(parsed);
  S3Options want;
  want.endpoint = "https://[2001:db8::1]:8443";
  want.region = "default";
  want.bucket = "team.registry-01";
  want.prefix = "ocireg/prod";
  want.path_style = true;
  want.credentials = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token-of-sts"};
  want.ca_file = "/etc/ocireg/rgw-ca.crt";
  want.part_size = uint64_t{64} << 20;
  want.connect_timeout = milliseconds(250);
  want.idle_timeout = milliseconds(120'000);
  want.max_retries = 0;
  want.retry_base_delay = milliseconds(50);
  want.max_retry_time = milliseconds(90'000);
  want.max_idle_connections = 8;
  const S3Options& got = parsed->storage.s3;
  CHECK(got.endpoint == want.endpoint);
  CHECK(got.region == want.region);
  CHECK(got.bucket == want.bucket);
  CHECK(got.prefix == want.prefix);
  CHECK(got.path_style == want.path_style);
  CHECK(got.credentials == want.credentials);
  CHECK(got.ca_file == want.ca_file);
  CHECK(got.part_size == want.part_size);
  CHECK(got.connect_timeout == want.connect_timeout);
  CHECK(got.idle_timeout == want.idle_timeout);
  CHECK(got.max_retries == want.max_retries);
  CHECK(got.retry_base_delay == want.retry_base_delay);
  CHECK(got.max_retry_time == want.max_retry_time);
  CHECK(got.max_idle_connections == want.max_idle_connections);
  CHECK(got == want);
  CHECK(parsed->storage.driver == "s3");
  CHECK(parsed->storage.gc_interval == std::chrono::hours(2));
  CHECK(parsed->storage.root == Config().storage.root);
}

TEST_CASE("credentials_file and profile are kept for LoadConfig", "[config][s3]") {
  Result<Config> config =
      Parse(WithKey("credentials_file = \"/etc/ocireg/aws-credentials\"\nprofile = \"registry\""));
  INFO(config.status().message());
  REQUIRE_OK(config);
  CHECK(config->storage.s3_credentials ==
        S3CredentialsSource{"/etc/ocireg/aws-credentials", "registry"});
  // ParseConfig reads nothing else: no keys yet.
  CHECK(config->storage.s3.credentials == ocireg::S3Credentials{});
}

TEST_CASE("the S3 durations take ms and count bare integers in seconds", "[config][s3]") {
  const auto [value, want] = GENERATE(table<std::string, int64_t>({
      {"\"100ms\"", 100},
      {"\"1ms\"", 1},
      {"\"2s\"", 2000},
      {"\"5m\"", 300'000},
      {"\"1h\"", 3'600'000},
      {"\"1d\"", 86'400'000},
      {"\"1500 ms\"", 1500},
      {"3", 3000},
  }));
  INFO("retry_base_delay = " << value);
  CHECK(ParseS3("retry_base_delay = " + value).retry_base_delay == milliseconds(want));
  CHECK(ParseS3("max_retry_time = 0").max_retry_time == milliseconds(0));
}

TEST_CASE("part_size is a size between S3's bounds", "[config][s3]") {
  CHECK(ParseS3("part_size = \"5MiB\"").part_size == uint64_t{5} << 20);
  CHECK(ParseS3("part_size = \"5GiB\"").part_size == uint64_t{5} << 30);
  CHECK(ParseS3("part_size = 8388608").part_size == uint64_t{8} << 20);
}

TEST_CASE("bad [storage.s3] values name the file, the line and the key", "[config][s3]") {
  const auto [key_value, what] = GENERATE(table<std::string, std::string>({
      {"endpoint = \"ftp://s3.example.net\"",
       "storage.s3.endpoint: must be an http:// or https:// URL, got \"ftp://s3.example.net\""},
      {"endpoint = \"s3.example.net\"", "storage.s3.endpoint: must be an http:// or https:// URL"},
      {"endpoint = \"\"", "storage.s3.endpoint: must not be empty"},
      {"endpoint = \"https://s3.example.net/registry\"",
       "storage.s3.endpoint: must have no path, query or fragment"},
      {"endpoint = \"https://s3.example.net/\"",
       "storage.s3.endpoint: must have no path, query or fragment"},
      {"endpoint = \"https://s3.example.net?x=1\"",
       "storage.s3.endpoint: must have no path, query or fragment"},
      {"endpoint = \"https://\"", "storage.s3.endpoint: must name a host and an optional port"},
      {"endpoint = \"http://127.0.0.1:0\"", "must name a host and an optional port (1-65535)"},
      {"endpoint = \"http://127.0.0.1:65536\"", "must name a host and an optional port"},
      {"endpoint = \"http://127.0.0.1:\"", "must name a host and an optional port"},
      {"endpoint = \"http://s3 example\"", "must name a host and an optional port"},
      {"endpoint = \"http://[::1\"", "must name a host and an optional port"},
      {"endpoint = \"http://::1:7480\"", "must name a host and an optional port"},
      {"endpoint = 7480", "storage.s3.endpoint: expected a string, got an integer"},
      {"region = \"\"", "storage.s3.region: must not be empty"},
      {"bucket = \"ab\"",
       "storage.s3.bucket: bucket name \"ab\" must be 3 to 63 characters, has 2"},
      {"bucket = \"" + std::string(64, 'b') + "\"", "must be 3 to 63 characters, has 64"},
      {"bucket = \"\"", "storage.s3.bucket: must not be empty"},
      {"bucket = \"Registry\"",
       "storage.s3.bucket: bucket name \"Registry\" may hold only lowercase letters, digits, "
       "'.' and '-'"},
      {"bucket = \"my_bucket\"", "may hold only lowercase letters, digits, '.' and '-'"},
      {"bucket = \"-registry\"", "must start and end with a lowercase letter or a digit"},
      {"bucket = \"registry.\"", "must start and end with a lowercase letter or a digit"},
      {"bucket = \"my..registry\"", "bucket name \"my..registry\" must not hold \"..\""},
      {"prefix = \"/ocireg\"",
       "storage.s3.prefix: \"/ocireg\" must not start or end with '/' (write \"a/b\")"},
      {"prefix = \"ocireg/\"", "must not start or end with '/'"},
      {"prefix = \"a//b\"", "storage.s3.prefix: \"a//b\" must not hold an empty component"},
      {"prefix = \"a/../b\"", "storage.s3.prefix: \"a/../b\" must not hold a \"..\" component"},
      {"prefix = \"..\"", "must not hold a \"..\" component"},
      {"prefix = \"a/./b\"", "must not hold a \".\" component"},
      {"prefix = \"a\\nb\"", "storage.s3.prefix: must not hold control characters"},
      {"path_style = \"yes\"", "storage.s3.path_style: expected a boolean, got a string"},
      {"part_size = \"4MiB\"",
       "storage.s3.part_size: must be 5MiB to 5GiB (the part sizes S3 accepts), got 4194304 "
       "bytes"},
      {"part_size = \"6GiB\"", "must be 5MiB to 5GiB (the part sizes S3 accepts), got 6442450944"},
      {"part_size = 0", "must be 5MiB to 5GiB"},
      {"part_size = \"16MB\"", "storage.s3.part_size: invalid size \"16MB\": unknown unit"},
      {"connect_timeout = 0", "storage.s3.connect_timeout: must be at least 1ms, got 0ms"},
      {"idle_timeout = \"0ms\"", "storage.s3.idle_timeout: must be at least 1ms, got 0ms"},
      {"retry_base_delay = \"0s\"", "storage.s3.retry_base_delay: must be at least 1ms, got 0ms"},
      {"connect_timeout = \"1.5s\"",
       "storage.s3.connect_timeout: invalid duration \"1.5s\": must be a whole number; use a "
       "smaller unit"},
      {"connect_timeout = \"5us\"",
       "invalid duration \"5us\": unknown unit \"us\" (use ms, s, m, "
       "h, d)"},
      {"max_retry_time = \"-1s\"",
       "storage.s3.max_retry_time: invalid duration \"-1s\": must not "
       "be negative"},
      {"max_retry_time = \"36501d\"", "too large (at most 36500d)"},
      {"max_retry_time = 3153600001", "must be at most 3153600000 seconds (36500d)"},
      {"max_retry_time = 1.5",
       "expected a duration (an integer of seconds or a string like \"500ms\"), got a "
       "floating-point number"},
      {"max_retries = -1", "storage.s3.max_retries: must be at least 0, got -1"},
      {"max_idle_connections = 0", "storage.s3.max_idle_connections: must be at least 1, got 0"},
      {"ca_file = false", "storage.s3.ca_file: expected a string, got a boolean"},
      {"profile = 1", "storage.s3.profile: expected a string, got an integer"},
      {"credentials_file = []", "storage.s3.credentials_file: expected a string, got an array"},
      {"endpiont = \"http://127.0.0.1\"", "storage.s3.endpiont: unknown key"},
      {"access_key_id = \"x\"", "storage.s3.access_key_id: unknown key"},
  }));
  const std::string message = ErrorOf(WithKey(key_value));
  INFO(message);
  CHECK(message.starts_with("test.toml:6: storage.s3."));
  CHECK(message.find(what) != std::string::npos);
}

TEST_CASE("a URL with a user or password is refused without quoting it", "[config][s3]") {
  const std::string message =
      ErrorOf(WithKey("endpoint = \"https://AKIDEXAMPLE:hunter2-secret@s3.example.net\""));
  CHECK(message ==
        "test.toml:6: storage.s3.endpoint: must not carry a user or password (user@host); give "
        "the keys with access_key and secret_key, the environment or a credentials file");
  CHECK(message.find("hunter2") == std::string::npos);
  CHECK(message.find("AKIDEXAMPLE") == std::string::npos);
}

TEST_CASE("the driver and [storage.s3] are checked together", "[config][s3]") {
  SECTION("driver s3 without [storage.s3]") {
    CHECK(ErrorOf("# S3\n[storage]\ndriver = \"s3\"\n") ==
          "test.toml:2: storage: driver \"s3\" needs a [storage.s3] table with at least endpoint "
          "and bucket");
  }
  SECTION("[storage.s3] without bucket or endpoint") {
    CHECK(ErrorOf("[storage]\ndriver = \"s3\"\n\n[storage.s3]\nendpoint = \"http://rgw:7480\"\n") ==
          "test.toml:4: storage.s3: bucket is required");
    CHECK(ErrorOf("[storage]\ndriver = \"s3\"\n[storage.s3]\nbucket = \"registry\"\n") ==
          "test.toml:3: storage.s3: endpoint is required");
    CHECK(ErrorOf("[storage]\ndriver = \"s3\"\n[storage.s3]\n") ==
          "test.toml:3: storage.s3: endpoint is required");
  }
  SECTION("[storage.s3] with driver fs, said or implied") {
    CHECK(ErrorOf("[storage]\ndriver = \"fs\"\n[storage.s3]\nendpoint = \"http://rgw:7480\"\n"
                  "bucket = \"registry\"\n") ==
          "test.toml:1: storage: [storage.s3] applies to driver \"s3\" only, and driver is "
          "\"fs\"");
    const std::string implied = ErrorOf(
        "[storage]\nroot = \"/srv\"\n[storage.s3]\nendpoint = \"http://rgw:7480\"\n"
        "bucket = \"registry\"\n");
    CHECK(implied ==
          "test.toml:1: storage: [storage.s3] applies to driver \"s3\" only, and driver is "
          "\"fs\"");
  }
  SECTION("[storage.s3] without a [storage] header: the line of [storage.s3]") {
    CHECK(ErrorOf("\n[storage.s3]\nendpoint = \"http://rgw:7480\"\nbucket = \"registry\"\n") ==
          "test.toml:2: storage: [storage.s3] applies to driver \"s3\" only, and driver is "
          "\"fs\"");
  }
  SECTION("a bad value is reported, not the check it would fail") {
    CHECK(ErrorOf("[storage]\ndriver = \"s3\"\n[storage.s3]\nendpoint = \"rgw\"\n") ==
          "test.toml:4: storage.s3.endpoint: must be an http:// or https:// URL, got \"rgw\"");
  }
  SECTION("an unknown table inside [storage.s3]") {
    CHECK(ErrorOf(std::string(kMinimal) + "[storage.s3.sse]\nalgorithm = \"AES256\"\n") ==
          "test.toml:6: storage.s3.sse: unknown table");
  }
  SECTION("inline and dotted spellings are the same table") {
    Result<Config> config = Parse(
        "storage.driver = \"s3\"\n"
        "storage.s3 = { endpoint = \"http://rgw:7480\", bucket = \"registry\", path_style = "
        "true }\n");
    INFO(config.status().message());
    REQUIRE_OK(config);
    CHECK(config->storage.s3.path_style);
    CHECK(config->storage.s3.bucket == "registry");
  }
}

TEST_CASE("keys in the file come in pairs and are never quoted back", "[config][s3]") {
  constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  constexpr std::string_view kKeyId = "AKIDEXAMPLE";
  const auto [key_value, want] = GENERATE_COPY(table<std::string, std::string>({
      {"access_key = \"" + std::string(kKeyId) + "\"",
       "test.toml:3: storage.s3: access_key is set without secret_key: set both or neither"},
      {"secret_key = \"" + std::string(kSecret) + "\"",
       "test.toml:3: storage.s3: secret_key is set without access_key: set both or neither"},
      {"session_token = \"" + std::string(kSecret) + "\"",
       "test.toml:3: storage.s3: session_token needs access_key and secret_key"},
      {"access_key = \"" + std::string(kKeyId) + "\"\nsecret_key = \"" + std::string(kSecret) +
           "\"\nprofile = \"registry\"",
       "test.toml:3: storage.s3: credentials_file and profile are not read when access_key and "
       "secret_key are set: remove one or the other"},
  }));
  const std::string message = ErrorOf(WithKey(key_value));
  CHECK(message == want);
  CHECK(message.find(kSecret) == std::string::npos);
  CHECK(message.find(kKeyId) == std::string::npos);
}

TEST_CASE("the commented [storage.s3] of the default text holds the defaults", "[config][s3]") {
  // Uncomment the block, as a user would, and it must parse to S3Options{} with its endpoint
  // and bucket: the documentation cannot drift from the code.
  const std::string_view text = ocireg::DefaultConfigText();
  const size_t begin = text.find("# [storage.s3]\n");
  REQUIRE(begin != std::string_view::npos);
  const size_t end = text.find("\n\n", begin);
  REQUIRE(end != std::string_view::npos);
  std::string uncommented = "[storage]\ndriver = \"s3\"\n";
  std::string_view block = text.substr(begin, end - begin + 1);
  while (!block.empty()) {
    std::string_view line = block.substr(0, block.find('\n') + 1);
    block.remove_prefix(line.size());
    REQUIRE(line.starts_with("# "));
    line.remove_prefix(2);
    if (!line.starts_with(' ')) uncommented += line;  // a continued comment stays out
  }
  INFO(uncommented);
  Result<Config> config = Parse(uncommented);
  INFO(config.status().message());
  REQUIRE_OK(config);
  S3Options want;
  want.endpoint = "https://s3.example.net";
  want.bucket = "registry";
  CHECK(config->storage.s3 == want);
  CHECK(config->storage.s3_credentials == S3CredentialsSource{});
}
