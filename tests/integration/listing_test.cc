// SPDX-License-Identifier: Apache-2.0
// Tag lists and the catalog: lexical order, n/last pagination and Link headers.
#include <rapidjson/document.h>

#include "catch.h"
#include "oci_checks.h"
#include "test_server.h"

using ocireg::testing::kOciManifestType;
using ocireg::testing::PushImage;
using ocireg::testing::TestServer;

namespace {

std::vector<std::string> Strings(const std::string& body, const char* member) {
  rapidjson::Document doc;
  doc.Parse(body.c_str());
  std::vector<std::string> out;
  if (doc.HasParseError() || !doc.HasMember(member) || !doc[member].IsArray()) return {"<bad>"};
  for (const auto& v : doc[member].GetArray()) out.emplace_back(v.GetString());
  return out;
}

using List = std::vector<std::string>;

}  // namespace

TEST_CASE("Tags list: lexical order, n, last and Link", "[integration][listing]") {
  TestServer server;
  auto client = server.Client();
  const std::string digest = PushImage(*client, "t/app", "b");
  const std::string manifest = client->Get("/v2/t/app/manifests/b")->body;
  REQUIRE(client
              ->Put("/v2/t/app/manifests/" + digest + "?tag=a&tag=C&tag=d&tag=e", manifest,
                    kOciManifestType)
              ->status == 201);

  auto all = client->Get("/v2/t/app/tags/list");
  REQUIRE(all);
  CHECK(all->status == 200);
  CHECK(all->get_header_value("Content-Type") == "application/json");
  CHECK(Strings(all->body, "tags") == List{"C", "a", "b", "d", "e"});
  CHECK(all->body.find("\"name\":\"t/app\"") != std::string::npos);
  CHECK_FALSE(all->has_header("Link"));

  auto page1 = client->Get("/v2/t/app/tags/list?n=2");
  REQUIRE(page1);
  CHECK(Strings(page1->body, "tags") == List{"C", "a"});
  CHECK(page1->get_header_value("Link") == "</v2/t/app/tags/list?n=2&last=a>; rel=\"next\"");
  auto page2 = client->Get("/v2/t/app/tags/list?n=2&last=a");
  REQUIRE(page2);
  CHECK(Strings(page2->body, "tags") == List{"b", "d"});
  CHECK(page2->has_header("Link"));
  auto page3 = client->Get("/v2/t/app/tags/list?n=2&last=d");
  REQUIRE(page3);
  CHECK(Strings(page3->body, "tags") == List{"e"});
  CHECK_FALSE(page3->has_header("Link"));

  auto last_only = client->Get("/v2/t/app/tags/list?last=b");
  REQUIRE(last_only);
  CHECK(Strings(last_only->body, "tags") == List{"d", "e"});

  auto zero = client->Get("/v2/t/app/tags/list?n=0");
  REQUIRE(zero);
  CHECK(zero->status == 200);
  CHECK(Strings(zero->body, "tags").empty());
  CHECK_FALSE(zero->has_header("Link"));

  CHECK_OCI_ERROR(client->Get("/v2/t/app/tags/list?n=-1"), 400, "UNSUPPORTED");
  CHECK_OCI_ERROR(client->Get("/v2/t/app/tags/list?n=x"), 400, "UNSUPPORTED");
  CHECK_OCI_ERROR(client->Get("/v2/t/none/tags/list"), 404, "NAME_UNKNOWN");
  CHECK_OCI_ERROR(client->Get("/v2/t/none/tags/list?n=0"), 404, "NAME_UNKNOWN");
}

TEST_CASE("Catalog: lexical order, n, last and Link", "[integration][listing]") {
  TestServer server;
  auto client = server.Client();
  for (const char* repo : {"zeta", "alpha/one", "alpha", "mid/a/b"}) PushImage(*client, repo, "v1");

  auto all = client->Get("/v2/_catalog");
  REQUIRE(all);
  CHECK(all->status == 200);
  CHECK(Strings(all->body, "repositories") == List{"alpha", "alpha/one", "mid/a/b", "zeta"});
  CHECK_FALSE(all->has_header("Link"));

  auto page1 = client->Get("/v2/_catalog?n=2");
  REQUIRE(page1);
  CHECK(Strings(page1->body, "repositories") == List{"alpha", "alpha/one"});
  CHECK(page1->get_header_value("Link") == "</v2/_catalog?n=2&last=alpha/one>; rel=\"next\"");
  auto page2 = client->Get("/v2/_catalog?n=2&last=alpha/one");
  REQUIRE(page2);
  CHECK(Strings(page2->body, "repositories") == List{"mid/a/b", "zeta"});
  CHECK_FALSE(page2->has_header("Link"));

  auto zero = client->Get("/v2/_catalog?n=0");
  REQUIRE(zero);
  CHECK(Strings(zero->body, "repositories").empty());
  CHECK_FALSE(zero->has_header("Link"));
  CHECK_OCI_ERROR(client->Get("/v2/_catalog?n=abc"), 400, "UNSUPPORTED");
}
