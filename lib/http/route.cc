// SPDX-License-Identifier: Apache-2.0
// ParseRoute: splits a request path into endpoint, repository name and reference.
#include "http/route.h"

#include <vector>

#include "ocireg/reference.h"

namespace ocireg::internal {
namespace {

constexpr std::string_view kPrefix = "/v2/";

std::vector<std::string_view> SplitComponents(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t slash = text.find('/', start);
    if (slash == std::string_view::npos) {
      parts.push_back(text.substr(start));
      return parts;
    }
    parts.push_back(text.substr(start, slash - start));
    start = slash + 1;
  }
}

// The first `count` components of `parts` joined again: the repository name.
std::string JoinFirst(const std::vector<std::string_view>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

Status NoEndpoint(std::string_view path) {
  return NameUnknown("no such endpoint: " + std::string(path));
}

// Recognises the endpoint suffix of the components after "/v2/"; sets `kind`, the number of
// leading components that form the name, and the reference. False when nothing matches.
bool MatchSuffix(const std::vector<std::string_view>& parts, RouteKind& kind, size_t& name_parts,
                 std::string& reference) {
  const size_t n = parts.size();
  auto at = [&](size_t from_end) { return parts[n - from_end]; };
  if (n >= 3 && at(3) == "blobs" && at(2) == "uploads") {
    // ".../blobs/uploads/" starts a session; ".../blobs/uploads/<id>" addresses one.
    kind = at(1).empty() ? RouteKind::kUploadStart : RouteKind::kUpload;
    reference = std::string(at(1));
    name_parts = n - 3;
    return true;
  }
  if (n >= 2 && at(2) == "blobs" && at(1) == "uploads") {
    // Lenient: the POST without its trailing slash (no digest is called "uploads").
    kind = RouteKind::kUploadStart;
    name_parts = n - 2;
    return true;
  }
  if (n >= 2 && at(2) == "tags" && at(1) == "list") {
    kind = RouteKind::kTagsList;
    name_parts = n - 2;
    return true;
  }
  if (n >= 2 && !at(1).empty()) {
    if (at(2) == "manifests") {
      kind = RouteKind::kManifest;
    } else if (at(2) == "blobs") {
      kind = RouteKind::kBlob;
    } else if (at(2) == "referrers") {
      kind = RouteKind::kReferrers;
    } else {
      return false;
    }
    reference = std::string(at(1));
    name_parts = n - 2;
    return true;
  }
  return false;
}

}  // namespace

bool MethodAllowed(RouteKind kind, Method method) {
  switch (kind) {
    case RouteKind::kBase:
    case RouteKind::kCatalog:
    case RouteKind::kTagsList:
    case RouteKind::kReferrers:
      return method == Method::kGet || method == Method::kHead;
    case RouteKind::kManifest:
      return method == Method::kGet || method == Method::kHead || method == Method::kPut ||
             method == Method::kDelete;
    case RouteKind::kBlob:
      return method == Method::kGet || method == Method::kHead || method == Method::kDelete;
    case RouteKind::kUploadStart:
      return method == Method::kPost;
    case RouteKind::kUpload:
      return method == Method::kGet || method == Method::kHead || method == Method::kPatch ||
             method == Method::kPut || method == Method::kDelete;
  }
  return false;
}

Method ParseMethod(std::string_view method) {
  if (method == "GET") return Method::kGet;
  if (method == "HEAD") return Method::kHead;
  if (method == "POST") return Method::kPost;
  if (method == "PUT") return Method::kPut;
  if (method == "PATCH") return Method::kPatch;
  if (method == "DELETE") return Method::kDelete;
  return Method::kOther;
}

Result<Route> ParseEndpoint(std::string_view path) {
  Route route;
  if (path == "/v2" || path == kPrefix) {
    route.kind = RouteKind::kBase;
  } else if (path.substr(0, kPrefix.size()) != kPrefix) {
    return NoEndpoint(path);
  } else if (path.substr(kPrefix.size()) == "_catalog") {
    route.kind = RouteKind::kCatalog;
  } else {
    auto parts = SplitComponents(path.substr(kPrefix.size()));
    size_t name_parts = 0;
    if (!MatchSuffix(parts, route.kind, name_parts, route.reference)) return NoEndpoint(path);
    if (name_parts == 0) return NoEndpoint(path);
    route.name = JoinFirst(parts, name_parts);
    OCIREG_RETURN_IF_ERROR(ValidateRepositoryName(route.name));
  }
  return route;
}

Result<Route> ParseRoute(std::string_view method, std::string_view path) {
  auto endpoint = ParseEndpoint(path);
  if (!endpoint.ok()) return endpoint.status();
  Route route = std::move(*endpoint);
  route.method = ParseMethod(method);
  if (!MethodAllowed(route.kind, route.method)) {
    return Unsupported(std::string(method) + " is not supported on " + std::string(path));
  }
  return route;
}

std::string_view AllowedMethods(RouteKind kind) {
  switch (kind) {
    case RouteKind::kBase:
    case RouteKind::kCatalog:
    case RouteKind::kTagsList:
    case RouteKind::kReferrers:
      return "GET, HEAD";
    case RouteKind::kManifest:
      return "GET, HEAD, PUT, DELETE";
    case RouteKind::kBlob:
      return "GET, HEAD, DELETE";
    case RouteKind::kUploadStart:
      return "POST";
    case RouteKind::kUpload:
      return "GET, HEAD, PATCH, PUT, DELETE";
  }
  return "";
}

}  // namespace ocireg::internal
