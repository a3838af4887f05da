// SPDX-License-Identifier: Apache-2.0
// Tests of the [[mirror]] entries of ParseConfig and LoadConfig, and of [features]
// sparse_indexes: defaults, every key, the "file:line: mirror[N].key:" message of each bad value,
// the credentials file LoadConfig reads, and that no password appears in a message or summary.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "catch.h"
#include "config/mirror_files.h"
#include "ocireg/config.h"
#include "status_macros.h"
#include "temp_dir.h"

namespace ocireg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::TempDir;

constexpr std::string_view kSecret = "hunter2-upstream-secret";

Result<Config> Parse(std::string_view text) { return ParseConfig(text, "test.toml"); }

// The message of the error that parsing `text` must give.
std::string ErrorOf(std::string_view text) {
  INFO("config text:\n" << text);
  Result<Config> config = Parse(text);
  REQUIRE(!config.ok());
  CHECK(config.status().code() == ErrorCode::kInvalidArgument);
  return config.status().message();
}

// The message of one [[mirror]] (its header on line 2) whose upstream is on line 3 and whose
// one more line `key_value` is line 4.
std::string MirrorErrorOf(std::string_view key_value) {
  return ErrorOf("# a mirror\n[[mirror]]\nupstream = \"https://registry.example.test\"\n" +
                 std::string(key_value) + "\n");
}

void WriteFile(const std::filesystem::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  REQUIRE(out.good());
}

// Writes `text` as ocireg.toml in `dir` and loads it.
Result<Config> Load(const TempDir& dir, std::string_view text) {
  const std::filesystem::path path = dir.path() / "ocireg.toml";
  WriteFile(path, text);
  return LoadConfig(path.string());
}

TEST_CASE("[[mirror]] defaults: none, and an entry's keys with their documented values",
          "[config][mirror]") {
  Result<Config> none = Parse("");
  REQUIRE_OK(none);
  CHECK(none->mirrors.empty());
  CHECK_FALSE(none->features.sparse_indexes);

  Result<Config> one = Parse("[[mirror]]\nupstream = \"https://registry-1.docker.io\"\n");
  REQUIRE_OK(one);
  REQUIRE(one->mirrors.size() == 1);
  const MirrorConfig& m = one->mirrors[0];
  CHECK(m.name == "registry-1.docker.io");  // no prefix: the upstream's host
  CHECK(m.upstream == "https://registry-1.docker.io");
  CHECK(m.upstream_parts == MirrorUpstream{"https", "registry-1.docker.io", 443});
  CHECK(m.prefix.empty());
  CHECK(m.repositories == std::vector<std::string>{"**"});
  CHECK(m.username.empty());
  CHECK(m.password.empty());
  CHECK(m.credentials_file.empty());
  CHECK(m.ca_file.empty());
  CHECK(m.tls_verify);
  CHECK(m.on_demand);
  CHECK(m.tag_ttl == seconds(300));
  CHECK(m.sync_interval == seconds(0));
  CHECK(m.tags.empty());
  CHECK(m.tags_latest == 0);
  CHECK(m.platforms.empty());
  CHECK_FALSE(m.allow_push);
  CHECK(m.max_concurrent_requests == 8);
  CHECK(m.connect_timeout == milliseconds(10'000));
  CHECK(m.request_timeout == milliseconds(60'000));

  // The struct's own defaults are the same, but for what parsing fills in.
  MirrorConfig want;
  want.name = m.name;
  want.upstream = m.upstream;
  want.upstream_parts = m.upstream_parts;
  CHECK(m == want);
}

TEST_CASE("[[mirror]] reads every key", "[config][mirror]") {
  Result<Config> config = Parse(
      "[features]\n"
      "sparse_indexes = true\n"
      "[[mirror]]\n"
      "name = \"docker-hub\"\n"
      "upstream = \"https://registry-1.docker.io:8443/\"\n"
      "prefix = \"hub\"\n"
      "repositories = [\"library/*\", \"bitnami/**\", \"team?/app\"]\n"
      "username = \"mirror-bot\"\n"
      "password = \"" +
      std::string(kSecret) +
      "\"\n"
      "ca_file = \"/etc/ocireg/hub-ca.pem\"\n"
      "tls_verify = false\n"
      "on_demand = false\n"
      "tag_ttl = 0\n"
      "sync_interval = \"1h\"\n"
      "tags = [\"v*\", \"regex:^[0-9]+\\\\.[0-9]+$\", \"latest\"]\n"
      "tags_latest = 5\n"
      "platforms = [\"linux/amd64\", \"linux/arm/v7\"]\n"
      "allow_push = true\n"
      "max_concurrent_requests = 1024\n"
      "connect_timeout = \"500ms\"\n"
      "request_timeout = \"2m\"\n"
      "[[mirror]]\n"
      "upstream = \"http://[::1]:5001\"\n"
      "[[mirror]]\n"
      "upstream = \"http://quay.example.test\"\n"
      "prefix = \"quay/io\"\n");
  REQUIRE_OK(config);
  CHECK(config->features.sparse_indexes);
  REQUIRE(config->mirrors.size() == 3);
  const MirrorConfig& hub = config->mirrors[0];
  CHECK(hub.name == "docker-hub");
  CHECK(hub.upstream == "https://registry-1.docker.io:8443");
  CHECK(hub.upstream_parts == MirrorUpstream{"https", "registry-1.docker.io", 8443});
  CHECK(hub.prefix == "hub");
  CHECK(hub.repositories == std::vector<std::string>{"library/*", "bitnami/**", "team?/app"});
  CHECK(hub.username == "mirror-bot");
  CHECK(hub.password == kSecret);
  CHECK(hub.ca_file == "/etc/ocireg/hub-ca.pem");
  CHECK_FALSE(hub.tls_verify);
  CHECK_FALSE(hub.on_demand);
  CHECK(hub.tag_ttl == seconds(0));
  CHECK(hub.sync_interval == seconds(3600));
  CHECK(hub.tags == std::vector<std::string>{"v*", "regex:^[0-9]+\\.[0-9]+$", "latest"});
  CHECK(hub.tags_latest == 5);
  CHECK(hub.platforms == std::vector<std::string>{"linux/amd64", "linux/arm/v7"});
  CHECK(hub.allow_push);
  CHECK(hub.max_concurrent_requests == 1024);
  CHECK(hub.connect_timeout == milliseconds(500));
  CHECK(hub.request_timeout == milliseconds(120'000));

  const MirrorConfig& local = config->mirrors[1];
  CHECK(local.name == "::1");
  CHECK(local.upstream_parts == MirrorUpstream{"http", "::1", 5001});
  const MirrorConfig& quay = config->mirrors[2];
  CHECK(quay.name == "quay/io");  // the prefix
  CHECK(quay.upstream_parts == MirrorUpstream{"http", "quay.example.test", 80});

  SECTION("an empty name is the default one") {
    Result<Config> unnamed =
        Parse("[[mirror]]\nupstream = \"https://a.example.test\"\nname = \"\"\nprefix = \"a/b\"\n");
    REQUIRE_OK(unnamed);
    CHECK(unnamed->mirrors[0].name == "a/b");
  }
  SECTION("several entries at the root, told apart by host and port") {
    Result<Config> roots = Parse(
        "[[mirror]]\nupstream = \"https://a.example.test\"\n"
        "[[mirror]]\nupstream = \"https://b.example.test\"\n"
        "[[mirror]]\nupstream = \"https://a.example.test:444\"\nname = \"a-444\"\n");
    REQUIRE_OK(roots);
    CHECK(roots->mirrors.size() == 3);
  }
}

TEST_CASE("[[mirror]] upstream: what is wrong is said at its line", "[config][mirror]") {
  struct Case {
    std::string url;
    std::string message;
  };
  const Case bad =
      GENERATE(Case{"ftp://registry.example.test", "must start with http:// or https://"},
               Case{"registry.example.test", "must start with http:// or https://"},
               Case{"https://bot:hunter2-upstream-secret@registry.example.test",
                    "must not hold a user name or password: set username and password, or "
                    "credentials_file"},
               Case{"https://registry.example.test/v2/",
                    "takes no path, only scheme://host[:port]: "
                    "the local namespace is set by prefix"},
               Case{"https://registry.example.test/?x=1", "takes no query or fragment"},
               Case{"https://registry.example.test#top", "takes no query or fragment"},
               Case{"https://", "names no host"}, Case{"https://:443", "names no host"},
               Case{"https://registry.example.test:0", "has a bad port: 0"},
               Case{"https://registry.example.test:65536", "has a bad port: 65536"},
               Case{"https://registry.example.test:", "has a bad port: "},
               Case{"https://reg_istry.example.test",
                    "has a bad host: letters, digits, - and . only (IPv6 in [ ])"},
               Case{"https://[::1", "has an unclosed [ in its host"},
               Case{"https://[::1]x", "has text after the ] of its host"},
               Case{"https://[zz]", "has a bad IPv6 address in [ ]"});
  const std::string message = ErrorOf("\n[[mirror]]\nupstream = \"" + bad.url + "\"\n");
  CHECK(message == "test.toml:3: mirror[1].upstream: " + bad.message);
  CHECK(message.find(kSecret) == std::string::npos);
}

TEST_CASE("[[mirror]] bad values name the entry, the key and its line", "[config][mirror]") {
  CHECK(ErrorOf("[[mirror]]\nprefix = \"hub\"\n") ==
        "test.toml:1: mirror[1]: upstream is required (an http:// or https:// URL of a registry)");
  CHECK(MirrorErrorOf("prefix = \"Hub\"")
            .starts_with("test.toml:4: mirror[1].prefix: repository name "));
  CHECK(MirrorErrorOf("prefix = \"hub/\"") ==
        "test.toml:4: mirror[1].prefix: repository name ends with '/'");
  CHECK(MirrorErrorOf("name = \"docker hub\"") ==
        "test.toml:4: mirror[1].name: may hold only letters, digits and - _ . : /");
  CHECK(MirrorErrorOf("repositories = [\"library//alpine\"]") ==
        "test.toml:4: mirror[1].repositories: element 1 \"library//alpine\": has an empty path "
        "component (a leading, trailing or double /)");
  CHECK(MirrorErrorOf("repositories = [\"**\", \"library/***\"]") ==
        "test.toml:4: mirror[1].repositories: element 2 \"library/***\": \"**\" must be a whole "
        "path component, as in \"library/**\"");
  CHECK(MirrorErrorOf("repositories = [\"Library/*\"]") ==
        "test.toml:4: mirror[1].repositories: element 1 \"Library/*\": may hold only a-z, 0-9, "
        ". _ - /, and the wildcards * ** ?");
  CHECK(MirrorErrorOf("repositories = []") ==
        "test.toml:4: mirror[1].repositories: must not be empty: [\"**\"] mirrors every "
        "repository");
  CHECK(MirrorErrorOf("tags = [\"v1.*\", \"**\"]") ==
        "test.toml:4: mirror[1].tags: element 2 \"**\": \"**\" matches across path components, "
        "and tags have none: use \"*\"");
  CHECK(MirrorErrorOf("tags = [\"v1/*\"]") ==
        "test.toml:4: mirror[1].tags: element 1 \"v1/*\": may hold only letters, digits, . _ - "
        "and the wildcards * ? (or start with regex:)");
  CHECK(MirrorErrorOf("tags = [\"regex:^v(1\"]")
            .starts_with("test.toml:4: mirror[1].tags: element 1 \"regex:^v(1\": is not a valid "
                         "ECMAScript regular expression: "));
  CHECK(MirrorErrorOf("tags = [\"regex:\"]") ==
        "test.toml:4: mirror[1].tags: element 1 \"regex:\": has an empty regular expression");
  for (const char* platform : {"linux", "linux/", "linux/arm/v7/extra", "Linux/amd64", "/amd64"}) {
    INFO(platform);
    CHECK(MirrorErrorOf("platforms = [\"" + std::string(platform) + "\"]") ==
          "test.toml:4: mirror[1].platforms: element 1 \"" + std::string(platform) +
              "\": must be os/arch or os/arch/variant, e.g. \"linux/amd64\" or \"linux/arm/v7\"");
  }
  CHECK(MirrorErrorOf("tags_latest = -1") ==
        "test.toml:4: mirror[1].tags_latest: must be at least 0, got -1");
  CHECK(MirrorErrorOf("max_concurrent_requests = 0") ==
        "test.toml:4: mirror[1].max_concurrent_requests: must be at least 1, got 0");
  CHECK(MirrorErrorOf("max_concurrent_requests = 1025") ==
        "test.toml:4: mirror[1].max_concurrent_requests: must be at most 1024, got 1025");
  CHECK(MirrorErrorOf("tag_ttl = \"soon\"")
            .starts_with("test.toml:4: mirror[1].tag_ttl: invalid duration \"soon\""));
  CHECK(MirrorErrorOf("connect_timeout = \"0ms\"") ==
        "test.toml:4: mirror[1].connect_timeout: must be at least 1ms, got 0ms");
  CHECK(MirrorErrorOf("tls_verify = \"no\"") ==
        "test.toml:4: mirror[1].tls_verify: expected a boolean, got a string");
  CHECK(MirrorErrorOf("mirror_of = \"x\"") == "test.toml:4: mirror[1].mirror_of: unknown key");
  CHECK(ErrorOf("[mirror]\nupstream = \"https://a.example.test\"\n") ==
        "test.toml:1: mirror: expected an array of tables ([[mirror]]), got a table");
  CHECK(ErrorOf("[features]\nsparse_indexes = 1\n") ==
        "test.toml:2: features.sparse_indexes: expected a boolean, got an integer");
}

TEST_CASE("[[mirror]] credentials and TLS keys that do not go together", "[config][mirror]") {
  const std::string secret(kSecret);
  const std::string no_user = MirrorErrorOf("password = \"" + secret + "\"");
  CHECK(no_user == "test.toml:2: mirror[1]: password needs username");
  const std::string both = ErrorOf(
      "[[mirror]]\nupstream = \"https://a.example.test\"\nusername = \"bot\"\npassword = \"" +
      secret + "\"\ncredentials_file = \"/etc/ocireg/hub.cred\"\n");
  CHECK(both ==
        "test.toml:1: mirror[1]: credentials_file and username or password are exclusive: set "
        "one or the other");
  CHECK(MirrorErrorOf("credentials_file = \"/c\"\nusername = \"bot\"") ==
        "test.toml:2: mirror[1]: credentials_file and username or password are exclusive: set "
        "one or the other");
  CHECK(ErrorOf("[[mirror]]\nupstream = \"http://a.example.test\"\nca_file = \"/ca.pem\"\n") ==
        "test.toml:1: mirror[1]: ca_file needs an https:// upstream");
  for (const std::string& message : {no_user, both})
    CHECK(message.find(secret) == std::string::npos);
}

TEST_CASE("[[mirror]] names and prefixes must not clash", "[config][mirror]") {
  CHECK(ErrorOf(
            "[[mirror]]\nupstream = \"https://a.example.test\"\nname = \"m\"\nprefix = \"a\"\n"
            "[[mirror]]\nupstream = \"https://b.example.test\"\nname = \"m\"\nprefix = \"b\"\n") ==
        "test.toml:5: mirror[2]: name \"m\" is already used by mirror[1]: names must differ");
  // A default name clashes too, and the message says where it came from.
  CHECK(ErrorOf("[[mirror]]\nupstream = \"https://a.example.test\"\nname = \"hub\"\n"
                "prefix = \"x\"\n"
                "[[mirror]]\nupstream = \"https://b.example.test\"\nprefix = \"hub\"\n") ==
        "test.toml:5: mirror[2]: name \"hub\" (the prefix) is already used by mirror[1]: names "
        "must differ");
  CHECK(ErrorOf("[[mirror]]\nupstream = \"https://a.example.test\"\nprefix = \"hub\"\n"
                "[[mirror]]\nupstream = \"https://b.example.test\"\nprefix = \"hub\"\n"
                "name = \"other\"\n") ==
        "test.toml:4: mirror[2]: prefix \"hub\" is already used by mirror[1]");
  CHECK(ErrorOf("[[mirror]]\nupstream = \"https://a.example.test\"\nprefix = \"hub/library\"\n"
                "[[mirror]]\nupstream = \"https://b.example.test\"\nprefix = \"hub\"\n") ==
        "test.toml:4: mirror[2]: prefix \"hub\" overlaps prefix \"hub/library\" of mirror[1]");
  // "hubx" is not inside "hub".
  CHECK_OK(
      Parse("[[mirror]]\nupstream = \"https://a.example.test\"\nprefix = \"hub\"\n"
            "[[mirror]]\nupstream = \"https://b.example.test\"\nprefix = \"hubx\"\n"));
  CHECK(ErrorOf("[[mirror]]\nupstream = \"https://a.example.test\"\n"
                "[[mirror]]\nupstream = \"https://a.example.test:443/\"\nname = \"again\"\n") ==
        "test.toml:3: mirror[2]: mirror[1] already mirrors a.example.test at the root, and ?ns= "
        "could not choose between them: give one a prefix");
}

TEST_CASE("LoadConfig reads a mirror's credentials file and checks its CA file",
          "[config][mirror]") {
  TempDir dir;
  const std::string credentials = (dir.path() / "hub.cred").string();
  const std::string ca = (dir.path() / "hub-ca.pem").string();
  const std::string config_path = (dir.path() / "ocireg.toml").string();
  const std::string head = "[[mirror]]\nupstream = \"https://a.example.test\"\n";

  SECTION("one line username:password; the password may hold ':'") {
    WriteFile(credentials, "mirror-bot:" + std::string(kSecret) + ":x\r\n\n");
    WriteFile(ca, "-----BEGIN CERTIFICATE-----\n");
    Result<Config> config =
        Load(dir, head + "credentials_file = \"" + credentials + "\"\nca_file = \"" + ca + "\"\n");
    REQUIRE_OK(config);
    REQUIRE(config->mirrors.size() == 1);
    CHECK(config->mirrors[0].username == "mirror-bot");
    CHECK(config->mirrors[0].password == std::string(kSecret) + ":x");
    CHECK(config->mirrors[0].credentials_file == credentials);
    // ParseConfig reads no file: the same text leaves them empty.
    Result<Config> parsed = Parse(head + "credentials_file = \"" + credentials + "\"\n");
    REQUIRE_OK(parsed);
    CHECK(parsed->mirrors[0].username.empty());
    CHECK(parsed->mirrors[0].password.empty());
  }
  SECTION("an unreadable credentials file, at its key's line") {
    Result<Config> config = Load(dir, head + "\ncredentials_file = \"" + credentials + "\"\n");
    REQUIRE(!config.ok());
    CHECK(config.status().code() == ErrorCode::kInvalidArgument);
    CHECK(config.status().message() == config_path +
                                           ":4: mirror[1].credentials_file: " + credentials +
                                           ": cannot read: No such file or directory");
  }
  SECTION("a malformed credentials file, never quoted") {
    const std::string secret(kSecret);
    struct Case {
      std::string text;
      std::string what;
    };
    const Case bad = GENERATE_COPY(
        Case{secret + "\n", "expected username:password, both non-empty, on its one line"},
        Case{":" + secret + "\n", "expected username:password, both non-empty, on its one line"},
        Case{"bot:\n", "expected username:password, both non-empty, on its one line"},
        Case{"", "expected username:password, both non-empty, on its one line"},
        Case{"bot:" + secret + "\nother:" + secret + "\n",
             "must hold one line, username:password"});
    WriteFile(credentials, bad.text);
    Result<Config> config = Load(dir, head + "credentials_file = \"" + credentials + "\"\n");
    REQUIRE(!config.ok());
    CHECK(config.status().message() ==
          config_path + ":3: mirror[1].credentials_file: " + credentials + ": " + bad.what);
    CHECK(config.status().message().find(secret) == std::string::npos);
  }
  SECTION("an unreadable CA file, in the second entry") {
    Result<Config> config =
        Load(dir, head + "prefix = \"a\"\n[[mirror]]\nupstream = \"https://b.example.test\"\n" +
                      "prefix = \"b\"\nca_file = \"" + ca + "\"\n");
    REQUIRE(!config.ok());
    CHECK(config.status().message() == config_path + ":7: mirror[2].ca_file: " + ca +
                                           ": cannot read: No such file or directory");
  }
}

TEST_CASE("ParseMirrorCredentials splits at the first ':'", "[config][mirror]") {
  Result<internal::MirrorCredentials> plain = internal::ParseMirrorCredentials("u:p", "f");
  REQUIRE_OK(plain);
  CHECK(plain->username == "u");
  CHECK(plain->password == "p");
  CHECK(internal::ParseMirrorCredentials("u:p\n  \n", "f").ok());
  CHECK(internal::ParseMirrorCredentials("u:p\nx", "f").status().message() ==
        "f: must hold one line, username:password");
}

TEST_CASE("DescribeConfig lists the mirrors and never their credentials", "[config][mirror]") {
  Result<Config> config = Parse(
      "[[mirror]]\nupstream = \"https://registry-1.docker.io\"\nprefix = \"hub\"\n"
      "username = \"mirror-bot\"\npassword = \"" +
      std::string(kSecret) +
      "\"\n"
      "[[mirror]]\nupstream = \"http://10.0.0.5:5000\"\nname = \"lab\"\non_demand = false\n"
      "sync_interval = \"1h\"\nallow_push = true\ncredentials_file = \"/etc/ocireg/lab.cred\"\n");
  REQUIRE_OK(config);
  const std::string summary = DescribeConfig(*config);
  INFO(summary);
  CHECK(summary.find("; mirrors hub = https://registry-1.docker.io under hub/ (on demand, tags "
                     "300s, read-only, with credentials), lab = http://10.0.0.5:5000 under the "
                     "root (sync every 3600s, push allowed, with credentials)") !=
        std::string::npos);
  CHECK(summary.find(kSecret) == std::string::npos);
  CHECK(summary.find("mirror-bot") == std::string::npos);
  CHECK(summary.find("lab.cred") == std::string::npos);
  CHECK(DescribeConfig(Config{}).find("mirror") == std::string::npos);
}

TEST_CASE("a change of mirrors needs a restart", "[config][mirror]") {
  Config running;
  Config next = running;
  next.mirrors.emplace_back();
  CHECK(RestartOnlyChanges(running, next) == std::vector<std::string>{"mirror"});
}

TEST_CASE("the commented [[mirror]] of the default text holds the defaults", "[config][mirror]") {
  // Uncomment the block, as a user would: it must parse to MirrorConfig{} with its upstream.
  const std::string_view text = DefaultConfigText();
  const size_t begin = text.find("# [[mirror]]\n");
  REQUIRE(begin != std::string_view::npos);
  std::string uncommented;
  std::string_view block = text.substr(begin);
  while (!block.empty()) {
    std::string_view line = block.substr(0, block.find('\n') + 1);
    block.remove_prefix(line.size());
    REQUIRE(line.starts_with("# "));
    uncommented += line.substr(2);
  }
  INFO(uncommented);
  Result<Config> config = Parse(uncommented);
  INFO(config.status().message());
  REQUIRE_OK(config);
  REQUIRE(config->mirrors.size() == 1);
  MirrorConfig want;
  want.name = "registry-1.docker.io";
  want.upstream = "https://registry-1.docker.io";
  want.upstream_parts = {"https", "registry-1.docker.io", 443};
  CHECK(config->mirrors[0] == want);
}

}  // namespace
}  // namespace ocireg
