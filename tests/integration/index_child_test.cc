// SPDX-License-Identifier: Apache-2.0
// DELETE of a manifest that an index lists is refused, so the index stays pullable.
#include <string>

#include "catch.h"
#include "oci_checks.h"
#include "test_server.h"

using ocireg::testing::kOciIndexType;
using ocireg::testing::PushImage;
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
