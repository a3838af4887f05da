// SPDX-License-Identifier: Apache-2.0
// LoadConfig's S3 keys: the file, a named credentials file, the environment, then the default
// credentials file, each tried in that order; and the messages when none has them, which name the
// config file, its line and the credentials file, never a key.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.h"
#include "config/aws_credentials_file.h"
#include "ocireg/config.h"
#include "status_macros.h"
#include "temp_dir.h"

using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::Result;
using ocireg::S3Credentials;
using ocireg::testing::TempDir;

namespace {

constexpr const char* kVariables[] = {"AWS_ACCESS_KEY_ID",           "AWS_SECRET_ACCESS_KEY",
                                      "AWS_SESSION_TOKEN",           "AWS_PROFILE",
                                      "AWS_SHARED_CREDENTIALS_FILE", "HOME"};

// Clears the variables LoadConfig reads, with HOME pointing at an empty directory, and puts back
// what they were when the test ends.
class CleanEnvironment {
 public:
  CleanEnvironment() {
    for (const char* name : kVariables) {
      const char* value = getenv(name);
      saved_.emplace_back(name,
                          value == nullptr ? std::nullopt : std::optional<std::string>(value));
      unsetenv(name);
    }
    Set("HOME", home_.path().string());
  }
  ~CleanEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name, value->c_str(), 1);
      } else {
        unsetenv(name);
      }
    }
  }
  CleanEnvironment(const CleanEnvironment&) = delete;
  CleanEnvironment& operator=(const CleanEnvironment&) = delete;

  static void Set(const char* name, const std::string& value) { setenv(name, value.c_str(), 1); }

  const std::filesystem::path& home() const { return home_.path(); }

 private:
  TempDir home_;
  std::vector<std::pair<const char*, std::optional<std::string>>> saved_;
};

void WriteFile(const std::filesystem::path& path, std::string_view text) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
}

// Two profiles, each with its own keys; "ci" has temporary ones.
constexpr std::string_view kCredentialsFile =
    "# keys of the registry\n"
    "[default]\n"
    "aws_access_key_id = AKIDDEFAULT\n"
    "aws_secret_access_key = secret-of-default\n"
    "region = eu-west-1\n"
    "\n"
    "; temporary keys\n"
    "[ci]\r\n"
    "AWS_ACCESS_KEY_ID=AKIDCI\r\n"
    "  aws_secret_access_key   =   secret-of-ci  \r\n"
    "aws_session_token = token-of-ci\r\n";

// Line 3 is [storage.s3].
constexpr std::string_view kS3Config =
    "[storage]\n"
    "driver = \"s3\"\n"
    "[storage.s3]\n"
    "endpoint = \"http://127.0.0.1:7480\"\n"
    "bucket = \"registry\"\n";

// Writes `text` as ocireg.toml in `dir` and loads it.
Result<Config> Load(const TempDir& dir, std::string_view text) {
  const std::filesystem::path path = dir.path() / "ocireg.toml";
  WriteFile(path, text);
  return ocireg::LoadConfig(path.string());
}

S3Credentials LoadKeys(const TempDir& dir, std::string_view extra_keys = "") {
  Result<Config> config = Load(dir, std::string(kS3Config) + std::string(extra_keys));
  INFO(config.status().message());
  REQUIRE_OK(config);
  return config->storage.s3.credentials;
}

std::string LoadError(const TempDir& dir, std::string_view extra_keys = "") {
  Result<Config> config = Load(dir, std::string(kS3Config) + std::string(extra_keys));
  REQUIRE(!config.ok());
  CHECK(config.status().code() == ErrorCode::kInvalidArgument);
  return config.status().message();
}

// None of the keys of kCredentialsFile or of the tests' environment is in `message`.
void CheckNoKey(const std::string& message) {
  INFO(message);
  for (const char* secret : {"AKIDDEFAULT", "secret-of-default", "AKIDCI", "secret-of-ci",
                             "token-of-ci", "AKIDENV", "secret-of-env"}) {
    CHECK(message.find(secret) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("keys in the config file win over every other source", "[config][s3]") {
  CleanEnvironment environment;
  TempDir dir;
  CleanEnvironment::Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  CleanEnvironment::Set("AWS_SECRET_ACCESS_KEY", "secret-of-env");
  WriteFile(environment.home() / ".aws" / "credentials", kCredentialsFile);
  CHECK(LoadKeys(dir, "access_key = \"AKIDFILE\"\nsecret_key = \"secret-of-file\"\n") ==
        S3Credentials{"AKIDFILE", "secret-of-file", ""});
  CHECK(LoadKeys(dir, "access_key = \"AKIDFILE\"\nsecret_key = \"s\"\nsession_token = \"t\"\n") ==
        S3Credentials{"AKIDFILE", "s", "t"});
}

TEST_CASE("without keys in the file, the environment's are used", "[config][s3]") {
  CleanEnvironment environment;
  TempDir dir;
  WriteFile(environment.home() / ".aws" / "credentials", kCredentialsFile);
  CleanEnvironment::Set("AWS_ACCESS_KEY_ID", "AKIDENV");
  CleanEnvironment::Set("AWS_SECRET_ACCESS_KEY", "secret-of-env");
  SECTION("permanent keys") {
    CHECK(LoadKeys(dir) == S3Credentials{"AKIDENV", "secret-of-env", ""});
  }
  SECTION("temporary keys") {
    CleanEnvironment::Set("AWS_SESSION_TOKEN", "token-of-env");
    CHECK(LoadKeys(dir) == S3Credentials{"AKIDENV", "secret-of-env", "token-of-env"});
  }
  SECTION("half a pair is an error naming the variables") {
    unsetenv("AWS_SECRET_ACCESS_KEY");
    const std::string message = LoadError(dir);
    CHECK(message == (dir.path() / "ocireg.toml").string() +
                         ":3: storage.s3: AWS_ACCESS_KEY_ID is set in the environment without "
                         "AWS_SECRET_ACCESS_KEY");
    CheckNoKey(message);
    CleanEnvironment::Set("AWS_SECRET_ACCESS_KEY", "secret-of-env");
    unsetenv("AWS_ACCESS_KEY_ID");
    CHECK(LoadError(dir).ends_with(
        ":3: storage.s3: AWS_SECRET_ACCESS_KEY is set in the environment without "
        "AWS_ACCESS_KEY_ID"));
  }
  SECTION("a credentials file or profile named in the config wins over the environment") {
    CHECK(LoadKeys(dir, "profile = \"ci\"\n") ==
          S3Credentials{"AKIDCI", "secret-of-ci", "token-of-ci"});
  }
}

TEST_CASE("without keys in the file or the environment, ~/.aws/credentials", "[config][s3]") {
  CleanEnvironment environment;
  TempDir dir;
  const std::filesystem::path home_file = environment.home() / ".aws" / "credentials";
  WriteFile(home_file, kCredentialsFile);
  SECTION("its default profile") {
    CHECK(LoadKeys(dir) == S3Credentials{"AKIDDEFAULT", "secret-of-default", ""});
  }
  SECTION("the profile of AWS_PROFILE") {
    CleanEnvironment::Set("AWS_PROFILE", "ci");
    CHECK(LoadKeys(dir) == S3Credentials{"AKIDCI", "secret-of-ci", "token-of-ci"});
  }
  SECTION("a profile named in the config wins over AWS_PROFILE") {
    CleanEnvironment::Set("AWS_PROFILE", "ci");
    CHECK(LoadKeys(dir, "profile = \"default\"\n") ==
          S3Credentials{"AKIDDEFAULT", "secret-of-default", ""});
  }
  SECTION("AWS_SHARED_CREDENTIALS_FILE replaces ~/.aws/credentials") {
    const std::filesystem::path other = dir.path() / "other-credentials";
    WriteFile(other, "[default]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = o\n");
    CleanEnvironment::Set("AWS_SHARED_CREDENTIALS_FILE", other.string());
    CHECK(LoadKeys(dir) == S3Credentials{"AKIDOTHER", "o", ""});
  }
  SECTION("credentials_file in the config replaces both") {
    const std::filesystem::path named = dir.path() / "named";
    WriteFile(named, "[registry]\naws_access_key_id = AKIDNAMED\naws_secret_access_key = n\n");
    CleanEnvironment::Set("AWS_SHARED_CREDENTIALS_FILE", home_file.string());
    CHECK(LoadKeys(dir, "credentials_file = \"" + named.string() +
                            "\"\nprofile = \"registry\"\n") == S3Credentials{"AKIDNAMED", "n", ""});
  }
}

TEST_CASE("a credentials file without the keys is an error naming it and the profile",
          "[config][s3]") {
  CleanEnvironment environment;
  TempDir dir;
  const std::string config = (dir.path() / "ocireg.toml").string();
  const std::filesystem::path file = dir.path() / "credentials";
  WriteFile(file, kCredentialsFile);
  const std::string named = "credentials_file = \"" + file.string() + "\"\n";
  SECTION("no such profile") {
    const std::string message = LoadError(dir, named + "profile = \"prod\"\n");
    CHECK(message ==
          config + ":3: storage.s3: credentials file " + file.string() + ": no profile \"prod\"");
    CheckNoKey(message);
  }
  SECTION("a profile without its secret") {
    WriteFile(file, "[default]\naws_access_key_id = AKIDDEFAULT\n");
    const std::string message = LoadError(dir, named);
    CHECK(message == config + ":3: storage.s3: credentials file " + file.string() +
                         ": profile \"default\" has no aws_secret_access_key");
    CheckNoKey(message);
  }
  SECTION("a line that is no INI, not quoted back") {
    WriteFile(file, "[default]\naws_access_key_id = AKIDDEFAULT\nsecret-of-default\n");
    const std::string message = LoadError(dir, named);
    CHECK(message == config + ":3: storage.s3: credentials file " + file.string() +
                         ":3: expected \"[profile]\" or \"key = value\"");
    CheckNoKey(message);
  }
  SECTION("a named file that does not exist") {
    const std::string missing = (dir.path() / "missing").string();
    CHECK(LoadError(dir, "credentials_file = \"" + missing + "\"\n") ==
          config + ":3: storage.s3: credentials file " + missing +
              ": cannot read: No such file or directory");
  }
  SECTION("nothing anywhere: every source is named") {
    const std::string message = LoadError(dir);
    CHECK(message == config +
                         ":3: storage.s3: no S3 keys: none in [storage.s3] (access_key, "
                         "secret_key) or the environment (AWS_ACCESS_KEY_ID, "
                         "AWS_SECRET_ACCESS_KEY), and credentials file " +
                         (environment.home() / ".aws" / "credentials").string() +
                         ": cannot read: No such file or directory");
  }
  SECTION("nothing anywhere and no HOME") {
    unsetenv("HOME");
    CHECK(LoadError(dir).ends_with(
        ":3: storage.s3: no S3 keys: none in [storage.s3] (access_key, secret_key) or the "
        "environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), and credentials file: none "
        "named, AWS_SHARED_CREDENTIALS_FILE and HOME are unset"));
  }
}

TEST_CASE("driver fs looks for no S3 keys", "[config][s3]") {
  CleanEnvironment environment;
  TempDir dir;
  Result<Config> config = Load(dir, "[storage]\nroot = \"/srv/ocireg\"\n");
  REQUIRE_OK(config);
  CHECK(config->storage.s3.credentials == S3Credentials{});
}

TEST_CASE("ParseAwsCredentials reads INI profiles", "[config][s3]") {
  using ocireg::internal::ParseAwsCredentials;
  SECTION("keys are case-insensitive; blanks, CRs and comments are skipped") {
    Result<S3Credentials> ci = ParseAwsCredentials(kCredentialsFile, "creds", "ci");
    REQUIRE_OK(ci);
    CHECK(*ci == S3Credentials{"AKIDCI", "secret-of-ci", "token-of-ci"});
  }
  SECTION("a profile named twice: the later key wins") {
    Result<S3Credentials> keys = ParseAwsCredentials(
        "[a]\naws_access_key_id = 1\naws_secret_access_key = x\n[b]\n[a]\naws_access_key_id = 2\n",
        "creds", "a");
    REQUIRE_OK(keys);
    CHECK(*keys == S3Credentials{"2", "x", ""});
  }
  SECTION("a value may hold '='") {
    Result<S3Credentials> keys =
        ParseAwsCredentials("[a]\naws_access_key_id=k\naws_secret_access_key=ab==\n", "c", "a");
    REQUIRE_OK(keys);
    CHECK(keys->secret_access_key == "ab==");
  }
  SECTION("no key id") {
    Result<S3Credentials> keys = ParseAwsCredentials("[a]\naws_secret_access_key = x\n", "c", "a");
    REQUIRE(!keys.ok());
    CHECK(keys.status().message() == "c: profile \"a\" has no aws_access_key_id");
  }
  SECTION("a key without a name") {
    Result<S3Credentials> keys = ParseAwsCredentials("[a]\n= x\n", "c", "a");
    REQUIRE(!keys.ok());
    CHECK(keys.status().message() == "c:2: expected \"[profile]\" or \"key = value\"");
  }
}
