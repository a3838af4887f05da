// SPDX-License-Identifier: Apache-2.0
// CheckS3Options: the rules of S3Options as NewS3Driver applies them, each problem named by field.
#include <chrono>
#include <string>

#include "catch.h"
#include "ocireg/storage/s3.h"
#include "status_macros.h"
#include "storage/s3/option_checks.h"

using ocireg::ErrorCode;
using ocireg::S3Options;
using ocireg::internal::CheckS3Options;
using std::chrono::milliseconds;

namespace {

S3Options Valid() {
  S3Options options;
  options.endpoint = "http://127.0.0.1:7480";
  options.bucket = "registry";
  return options;
}

// The message CheckS3Options gives for `options`, which must be refused.
std::string ProblemOf(const S3Options& options) {
  const ocireg::Status status = CheckS3Options(options);
  REQUIRE(!status.ok());
  CHECK(status.code() == ErrorCode::kInvalidArgument);
  return status.message();
}

}  // namespace

TEST_CASE("CheckS3Options accepts the defaults with an endpoint and a bucket", "[s3]") {
  CHECK_OK(CheckS3Options(Valid()));
  S3Options options = Valid();
  options.endpoint = "https://[::1]:443";
  options.prefix = "a/b-c/d.e";
  options.credentials = {"AKIDEXAMPLE", "secret", "token"};
  options.part_size = uint64_t{5} << 20;
  options.max_retry_time = milliseconds(0);
  CHECK_OK(CheckS3Options(options));
}

TEST_CASE("CheckS3Options names the field of each problem", "[s3]") {
  S3Options options = Valid();
  SECTION("endpoint") {
    options.endpoint = "";
    CHECK(ProblemOf(options) == "endpoint: must be an http:// or https:// URL, got \"\"");
  }
  SECTION("region") {
    options.region = "";
    CHECK(ProblemOf(options) == "region: must not be empty");
  }
  SECTION("bucket") {
    options.bucket = "";
    CHECK(ProblemOf(options) == "bucket: bucket name \"\" must be 3 to 63 characters, has 0");
  }
  SECTION("prefix") {
    options.prefix = "a/";
    CHECK(ProblemOf(options).starts_with("prefix: \"a/\" must not start or end with '/'"));
  }
  SECTION("half a key pair, not quoted") {
    options.credentials.secret_access_key = "secret-value";
    const std::string message = ProblemOf(options);
    CHECK(message.starts_with("credentials: "));
    CHECK(message.find("secret-value") == std::string::npos);
  }
  SECTION("a session token alone") {
    options.credentials.session_token = "token";
    CHECK(ProblemOf(options) == "credentials: a session token needs an access key id and a secret");
  }
  SECTION("part_size") {
    options.part_size = (uint64_t{5} << 30) + 1;
    CHECK(ProblemOf(options).starts_with("part_size: must be 5MiB to 5GiB"));
  }
  SECTION("timeouts and delays") {
    options.idle_timeout = milliseconds(0);
    CHECK(ProblemOf(options) == "idle_timeout: must be at least 1ms, got 0ms");
    options.idle_timeout = milliseconds(1);
    options.retry_base_delay = milliseconds(-5);
    CHECK(ProblemOf(options) == "retry_base_delay: must be at least 1ms, got -5ms");
  }
  SECTION("idle connections") {
    options.max_idle_connections = 0;
    CHECK(ProblemOf(options) == "max_idle_connections: must be at least 1, got 0");
  }
}
