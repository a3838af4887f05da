// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseRoute with a request's method and decoded path.
//
// Input: the method, one space, the path. Without a space the whole input is a GET's path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "http/route.h"
#include "ocireg/reference.h"

namespace {

using ocireg::internal::Method;
using ocireg::internal::Route;
using ocireg::internal::RouteKind;

// The path that addresses `route`; for kBase and kUploadStart, where two spellings are accepted,
// the one matching `path`.
std::string PathOf(const Route& route, std::string_view path) {
  const std::string repo = "/v2/" + route.name;
  switch (route.kind) {
    case RouteKind::kBase:
      return std::string(path == "/v2" ? "/v2" : "/v2/");
    case RouteKind::kCatalog:
      return "/v2/_catalog";
    case RouteKind::kTagsList:
      return repo + "/tags/list";
    case RouteKind::kManifest:
      return repo + "/manifests/" + route.reference;
    case RouteKind::kBlob:
      return repo + "/blobs/" + route.reference;
    case RouteKind::kUploadStart:
      return repo + (path.ends_with("/") ? "/blobs/uploads/" : "/blobs/uploads");
    case RouteKind::kUpload:
      return repo + "/blobs/uploads/" + route.reference;
    case RouteKind::kReferrers:
      return repo + "/referrers/" + route.reference;
  }
  return {};
}

void CheckRoute(const Route& route, std::string_view path, std::string_view input) {
  // Parsing is lossless: the parts put together again give the path.
  FUZZ_CHECK(PathOf(route, path) == path, input);
  const bool has_name = route.kind != RouteKind::kBase && route.kind != RouteKind::kCatalog;
  FUZZ_CHECK(has_name == !route.name.empty(), input);
  if (has_name) FUZZ_CHECK(ocireg::ValidateRepositoryName(route.name).ok(), input);
  const bool has_reference = route.kind == RouteKind::kManifest || route.kind == RouteKind::kBlob ||
                             route.kind == RouteKind::kUpload ||
                             route.kind == RouteKind::kReferrers;
  FUZZ_CHECK(has_reference == !route.reference.empty(), input);
  FUZZ_CHECK(route.reference.find('/') == std::string::npos, input);
}

// AllowedMethods (the Allow header) lists exactly the methods MethodAllowed accepts.
void CheckAllowed(RouteKind kind, std::string_view input) {
  const std::string_view allowed = ocireg::internal::AllowedMethods(kind);
  for (std::string_view method : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}) {
    bool listed = false;
    for (size_t start = 0; start < allowed.size();) {
      const size_t comma = std::min(allowed.find(", ", start), allowed.size());
      listed = listed || allowed.substr(start, comma - start) == method;
      start = comma + 2;
    }
    FUZZ_CHECK(listed == MethodAllowed(kind, ocireg::internal::ParseMethod(method)), input);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t space = input.find(' ');
  const std::string_view method = space == std::string_view::npos ? "GET" : input.substr(0, space);
  const std::string_view path = space == std::string_view::npos ? input : input.substr(space + 1);

  auto endpoint = ocireg::internal::ParseEndpoint(path);
  auto route = ocireg::internal::ParseRoute(method, path);
  if (!endpoint.ok()) {
    // ParseRoute is ParseEndpoint, then the method check.
    FUZZ_CHECK(!route.ok() && route.status().code() == endpoint.status().code(), input);
    FUZZ_CHECK(endpoint.status().code() == ocireg::ErrorCode::kNameUnknown ||
                   endpoint.status().code() == ocireg::ErrorCode::kNameInvalid,
               input);
    return 0;
  }
  CheckRoute(*endpoint, path, input);
  CheckAllowed(endpoint->kind, input);
  const bool allowed = MethodAllowed(endpoint->kind, ocireg::internal::ParseMethod(method));
  FUZZ_CHECK(route.ok() == allowed, input);
  if (route.ok()) {
    FUZZ_CHECK(route->kind == endpoint->kind && route->name == endpoint->name &&
                   route->reference == endpoint->reference,
               input);
    FUZZ_CHECK(route->method != Method::kOther, input);
  } else {
    FUZZ_CHECK(route.status().code() == ocireg::ErrorCode::kUnsupported, input);
  }
  return 0;
}
