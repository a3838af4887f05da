// SPDX-License-Identifier: Apache-2.0
// ParseRoute: every endpoint, names that contain endpoint words, bad names, methods.
#include "http/route.h"

#include "catch.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::internal::AllowedMethods;
using ocireg::internal::Method;
using ocireg::internal::ParseEndpoint;
using ocireg::internal::ParseRoute;
using ocireg::internal::RouteKind;

namespace {

const char* const kDigest =
    "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

}  // namespace

TEST_CASE("ParseRoute recognises the base and catalog endpoints", "[route]") {
  for (const char* path : {"/v2/", "/v2"}) {
    auto route = ParseRoute("GET", path);
    REQUIRE_OK(route);
    CHECK(route->kind == RouteKind::kBase);
    CHECK(route->name.empty());
  }
  auto catalog = ParseRoute("GET", "/v2/_catalog");
  REQUIRE_OK(catalog);
  CHECK(catalog->kind == RouteKind::kCatalog);
  CHECK_OK(ParseRoute("HEAD", "/v2/_catalog"));
}

TEST_CASE("ParseRoute splits name and reference of every repository endpoint", "[route]") {
  struct Case {
    const char* method;
    std::string path;
    RouteKind kind;
    const char* name;
    std::string reference;
  };
  const std::string d = kDigest;
  const Case cases[] = {
      {"GET", "/v2/library/ubuntu/manifests/latest", RouteKind::kManifest, "library/ubuntu",
       "latest"},
      {"PUT", "/v2/a/manifests/" + d, RouteKind::kManifest, "a", d},
      {"DELETE", "/v2/a/b/c/manifests/v1", RouteKind::kManifest, "a/b/c", "v1"},
      {"HEAD", "/v2/a/blobs/" + d, RouteKind::kBlob, "a", d},
      {"DELETE", "/v2/a/blobs/" + d, RouteKind::kBlob, "a", d},
      {"POST", "/v2/team/app/blobs/uploads/", RouteKind::kUploadStart, "team/app", ""},
      {"POST", "/v2/team/app/blobs/uploads", RouteKind::kUploadStart, "team/app", ""},
      {"PATCH", "/v2/a/blobs/uploads/0a1b-2c", RouteKind::kUpload, "a", "0a1b-2c"},
      {"PUT", "/v2/a/blobs/uploads/id", RouteKind::kUpload, "a", "id"},
      {"GET", "/v2/a/blobs/uploads/id", RouteKind::kUpload, "a", "id"},
      {"DELETE", "/v2/a/blobs/uploads/id", RouteKind::kUpload, "a", "id"},
      {"GET", "/v2/a/tags/list", RouteKind::kTagsList, "a", ""},
      {"GET", "/v2/a/referrers/" + d, RouteKind::kReferrers, "a", d},
      // Endpoint words inside the name: the suffix is matched from the end.
      {"GET", "/v2/manifests/manifests/latest", RouteKind::kManifest, "manifests", "latest"},
      {"GET", "/v2/tags/list/tags/list", RouteKind::kTagsList, "tags/list", ""},
      {"GET", "/v2/referrers/x/referrers/" + d, RouteKind::kReferrers, "referrers/x", d},
      {"POST", "/v2/uploads/blobs/uploads/", RouteKind::kUploadStart, "uploads", ""},
      {"GET", "/v2/a/manifests/b/manifests/c", RouteKind::kManifest, "a/manifests/b", "c"},
      {"GET", "/v2/_x/../a/manifests/c", RouteKind::kManifest, "", ""},  // refused below
  };
  for (const auto& c : cases) {
    INFO(c.method << " " << c.path);
    auto route = ParseRoute(c.method, c.path);
    if (std::string(c.name).empty()) {
      CHECK(route.status().code() == ErrorCode::kNameInvalid);
      continue;
    }
    REQUIRE_OK(route);
    CHECK(route->kind == c.kind);
    CHECK(route->name == c.name);
    CHECK(route->reference == c.reference);
  }
}

TEST_CASE("ParseRoute refuses names outside the spec's grammar with NAME_INVALID", "[route]") {
  for (const char* path :
       {"/v2/UPPER/manifests/x", "/v2/a//b/manifests/x", "/v2/-a/tags/list",
        "/v2/a/../b/blobs/uploads/", "/v2/a./manifests/x", "/v2/a b/manifests/x"}) {
    INFO(path);
    CHECK(ParseRoute("GET", path).status().code() == ErrorCode::kNameInvalid);
  }
  std::string long_name(300, 'a');
  CHECK(ParseRoute("GET", "/v2/" + long_name + "/tags/list").status().code() ==
        ErrorCode::kNameInvalid);
}

TEST_CASE("ParseRoute answers NAME_UNKNOWN for paths that are no endpoint", "[route]") {
  for (const char* path : {"/", "/v1/", "/v2x/", "/v2/a", "/v2/a/b", "/v2/a/manifests/",
                           "/v2/a/blobs/", "/v2/manifests/x", "/v2/tags/list", "/v2/a/tags",
                           "/v2/a/tags/list/x", "/v2/blobs/uploads/", "/favicon.ico"}) {
    INFO(path);
    auto route = ParseRoute("GET", path);
    CHECK(route.status().code() == ErrorCode::kNameUnknown);
  }
}

TEST_CASE("ParseRoute answers UNSUPPORTED for a method the endpoint lacks", "[route]") {
  const std::string blob = std::string("/v2/a/blobs/") + kDigest;
  CHECK(ParseRoute("POST", "/v2/").status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("PUT", blob).status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("PATCH", "/v2/a/manifests/x").status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("GET", "/v2/a/blobs/uploads/").status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("POST", "/v2/a/blobs/uploads/id").status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("DELETE", "/v2/a/tags/list").status().code() == ErrorCode::kUnsupported);
  CHECK(ParseRoute("OPTIONS", "/v2/a/tags/list").status().code() == ErrorCode::kUnsupported);
  // The endpoint itself is still known, whatever the method.
  auto endpoint = ParseEndpoint(blob);
  REQUIRE_OK(endpoint);
  CHECK(endpoint->kind == RouteKind::kBlob);
  CHECK(AllowedMethods(RouteKind::kBlob) == "GET, HEAD, DELETE");
  CHECK(ParseRoute("HEAD", blob)->method == Method::kHead);
}
