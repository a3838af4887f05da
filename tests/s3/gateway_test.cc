// SPDX-License-Identifier: Apache-2.0
// The S3 test gateway itself (tests/support/rgw.h): buckets of its own per call, objects written
// and read back with signed requests, and objects that outlive a restart of radosgw.
#include <filesystem>
#include <string>
#include <vector>

#include "catch.h"
#include "process.h"
#include "rgw.h"
#include "temp_dir.h"

namespace ocireg {
namespace {

using testing::S3Bucket;
using testing::S3Gateway;

// Runs a signed curl request against the shared gateway; returns its exit code (0 for a 2xx
// answer, 22 for an HTTP error) with curl's output in `log`.
int Curl(const std::vector<std::string>& arguments, const std::filesystem::path& log) {
  return testing::RunStatus(S3Gateway::Shared().Curl(arguments), log);
}

std::string ObjectUrl(const S3Bucket& bucket, const std::string& key) {
  return bucket.endpoint + "/" + bucket.bucket + "/" + key;
}

TEST_CASE("s3 gateway: each call gets its own empty bucket", "[s3]") {
  testing::TempDir dir;
  const S3Bucket first = S3Gateway::Shared().NewBucket();
  const S3Bucket second = S3Gateway::Shared().NewBucket();
  CHECK(first.bucket != second.bucket);
  CHECK(first.endpoint.rfind("http://127.0.0.1:", 0) == 0);
  CHECK(first.endpoint == second.endpoint);

  testing::WriteTextFile(dir.path() / "body", "only in the first bucket");
  REQUIRE(Curl({"-T", (dir.path() / "body").string(), ObjectUrl(first, "key")},
               dir.path() / "put.log") == 0);
  CHECK(Curl({"-o", (dir.path() / "got").string(), ObjectUrl(second, "key")},
             dir.path() / "get.log") == 22);
  CHECK(testing::ReadTextFile(dir.path() / "got").find("NoSuchKey") != std::string::npos);
  // A listing of the second bucket names no object.
  REQUIRE(Curl({"-o", (dir.path() / "list").string(), second.endpoint + "/" + second.bucket},
               dir.path() / "list.log") == 0);
  CHECK(testing::ReadTextFile(dir.path() / "list").find("<Key>") == std::string::npos);
}

TEST_CASE("s3 gateway: an object written is read back, also after radosgw restarts", "[s3]") {
  testing::TempDir dir;
  const S3Bucket bucket = S3Gateway::Shared().NewBucket();
  std::string content;
  for (int i = 0; i < 100000; ++i) content += std::to_string(i) + "\n";
  testing::WriteTextFile(dir.path() / "body", content);
  REQUIRE(Curl({"-T", (dir.path() / "body").string(), ObjectUrl(bucket, "dir/object")},
               dir.path() / "put.log") == 0);

  REQUIRE(Curl({"-o", (dir.path() / "got").string(), ObjectUrl(bucket, "dir/object")},
               dir.path() / "get.log") == 0);
  CHECK(testing::ReadTextFile(dir.path() / "got") == content);

  S3Gateway::Shared().RestartGateway();
  REQUIRE(Curl({"-o", (dir.path() / "again").string(), ObjectUrl(bucket, "dir/object")},
               dir.path() / "again.log") == 0);
  CHECK(testing::ReadTextFile(dir.path() / "again") == content);
}

}  // namespace
}  // namespace ocireg
