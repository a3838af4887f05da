// SPDX-License-Identifier: Apache-2.0
// ParseRoute: maps an HTTP method and path onto one endpoint of the distribution API.
//
// httplib routes by std::regex, which recurses once per character; so the server registers a
// single catch-all pattern per method and every path is taken apart here, by hand, from its end:
// a repository name may itself contain components such as "manifests" or "blobs", but the
// endpoint suffix is always the last two or three components.
#pragma once

#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

enum class RouteKind {
  kBase,         // /v2/
  kCatalog,      // /v2/_catalog
  kTagsList,     // /v2/<name>/tags/list
  kManifest,     // /v2/<name>/manifests/<tag-or-digest>
  kBlob,         // /v2/<name>/blobs/<digest>
  kUploadStart,  // /v2/<name>/blobs/uploads/
  kUpload,       // /v2/<name>/blobs/uploads/<session-id>
  kReferrers,    // /v2/<name>/referrers/<digest>
};

enum class Method { kGet, kHead, kPost, kPut, kPatch, kDelete, kOther };

Method ParseMethod(std::string_view method);

struct Route {
  RouteKind kind = RouteKind::kBase;
  Method method = Method::kGet;
  std::string name;       // repository; empty for kBase and kCatalog
  std::string reference;  // tag or digest text, session id; not validated here except non-empty
};

// The endpoint `path` addresses, whatever the method (route.method stays kGet). `path` is the
// decoded path without the query. Errors as ParseRoute except kUnsupported.
Result<Route> ParseEndpoint(std::string_view path);

// Whether endpoint `kind` answers `method`.
bool MethodAllowed(RouteKind kind, Method method);

// The endpoint `method` `path` addresses: ParseEndpoint, then MethodAllowed.
// Errors:
//   kNameUnknown   (404) the path is no endpoint of the API
//   kNameInvalid   (400) the repository name breaks the spec's grammar
//   kUnsupported   (405) the endpoint exists but not for this method
Result<Route> ParseRoute(std::string_view method, std::string_view path);

// The methods `kind` answers, for an Allow header: "GET, HEAD".
std::string_view AllowedMethods(RouteKind kind);

}  // namespace ocireg::internal
