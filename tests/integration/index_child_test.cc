// SPDX-License-Identifier: Apache-2.0
// DELETE of a manifest that an index lists is refused, so the index stays pullable; with
// [features] sparse_indexes an index whose children are absent is accepted.
#include <string>

#include "catch.h"
#include "oci_checks.h"
#include "test_server.h"

using ocireg::testing::kOciIndexType;
using ocireg::testing::PushImage;
using ocireg::testing::Sha256;
using ocireg::testing::TestServer;

TEST_CASE("DELETE of a child of an index is 405 UNSUPPORTED while the index lists it",
          "[integration][manifest][index]") {
  TestServer server;
  auto client = server.Client();
  const std::string child = PushImage(*client, "multi", "amd64");
  auto child_get = client->Get("/v2/multi/manifests/" + child);
  REQUIRE(child_get);
  REQUIRE(child_get->status == 200);
  const std::string index =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
      child + R"(","size":)" + std::to_string(child_get->body.size()) + "}]}";
  auto put = client->Put("/v2/multi/manifests/latest", index, kOciIndexType);
  REQUIRE(put);
  REQUIRE(put->status == 201);

  CHECK_OCI_ERROR(client->Delete("/v2/multi/manifests/" + child), 405, "UNSUPPORTED");
  auto again = client->Get("/v2/multi/manifests/" + child);
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(again->body == child_get->body);

  auto del_index =
      client->Delete("/v2/multi/manifests/" + put->get_header_value("Docker-Content-Digest"));
  REQUIRE(del_index);
  CHECK(del_index->status == 202);
  auto del_child = client->Delete("/v2/multi/manifests/" + child);
  REQUIRE(del_child);
  CHECK(del_child->status == 202);
}

namespace {

// An index listing `child` (pushed, `size` bytes) and an arm64 image that was never pushed.
std::string IndexWithAbsentChild(const std::string& child, size_t size) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
         R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
         child + R"(","size":)" + std::to_string(size) +
         R"(},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
         Sha256("never pushed") + R"(","size":12}]})";
}

}  // namespace

TEST_CASE("An index with an absent child is 400 MANIFEST_BLOB_UNKNOWN, or with sparse_indexes 201",
          "[integration][manifest][index][sparse]") {
  const bool sparse = GENERATE(false, true);
  INFO("sparse_indexes = " << sparse);
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.features.sparse_indexes = sparse;
  });
  auto client = server.Client();
  const std::string child = PushImage(*client, "multi", "amd64");
  auto child_get = client->Get("/v2/multi/manifests/" + child);
  REQUIRE(child_get);
  const std::string index = IndexWithAbsentChild(child, child_get->body.size());
  if (!sparse) {
    CHECK_OCI_ERROR(client->Put("/v2/multi/manifests/latest", index, kOciIndexType), 400,
                    "MANIFEST_BLOB_UNKNOWN");
    return;
  }
  auto put = client->Put("/v2/multi/manifests/latest", index, kOciIndexType);
  REQUIRE(put);
  CHECK(put->status == 201);
  auto got = client->Get("/v2/multi/manifests/latest");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == index);
  CHECK(client->Get("/v2/multi/manifests/" + child)->status == 200);
  CHECK_OCI_ERROR(client->Get("/v2/multi/manifests/" + Sha256("never pushed")), 404,
                  "MANIFEST_UNKNOWN");
}
