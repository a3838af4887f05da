// SPDX-License-Identifier: Apache-2.0
// Api: dispatch of routed requests, the checks that need no body, authorization and errors.
#include "http/api.h"

#include <httplib.h>

#include <string>

#include "http/response.h"

namespace ocireg::internal {
namespace {

bool IsBodyRoute(const Route& route) {
  switch (route.kind) {
    case RouteKind::kUploadStart:
    case RouteKind::kUpload:
      return route.method == Method::kPost || route.method == Method::kPatch ||
             route.method == Method::kPut;
    case RouteKind::kManifest:
      return route.method == Method::kPut;
    default:
      return false;
  }
}

// The action a request performs on its repository, for the authorization hook. A manifest PUT
// that moves an existing tag also needs kUpdate, which is checked once its digest is known.
Action ActionOf(const Route& route) {
  switch (route.method) {
    case Method::kGet:
    case Method::kHead:
      return Action::kRead;
    case Method::kDelete:
      // Cancelling one's own upload is part of pushing, not a deletion of content.
      return route.kind == RouteKind::kUpload ? Action::kCreate : Action::kDelete;
    default:
      return Action::kCreate;
  }
}

std::string Lowercase(std::string text) {
  for (char& c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return text;
}

}  // namespace

std::string BlobLocation(std::string_view name, const Digest& digest) {
  return "/v2/" + std::string(name) + "/blobs/" + digest.ToString();
}

std::string UploadLocation(std::string_view name, std::string_view id) {
  return "/v2/" + std::string(name) + "/blobs/uploads/" + std::string(id);
}

Api::Api(Store& store, const Config& config, ServerHooks hooks)
    : metrics(config.cluster.node_name),
      store_(store),
      features_(config.features),
      limits_(config.limits),
      hooks_(std::move(hooks)),
      node_name_(config.cluster.node_name),
      identification_(config, hooks_.authenticator),
      upload_quota_(config.limits.max_uploads, config.limits.max_uploads_per_client) {
  if (!hooks_.authorize) hooks_.authorize = AllowAll();
  authorize_ = std::make_shared<const AuthorizeFn>(hooks_.authorize);
}

void Api::SetAccess(std::shared_ptr<Authenticator> authenticator, AuthorizeFn authorize) {
  auto rules = std::make_shared<const AuthorizeFn>(authorize ? std::move(authorize) : AllowAll());
  identification_.SetAuthenticator(std::move(authenticator));
  std::lock_guard lock(authorize_mutex_);
  authorize_ = std::move(rules);
}

void Api::Log(LogLevel level, std::string_view message) const {
  if (hooks_.log) hooks_.log(level, message);
}

Status Api::Authorize(const Caller& caller, std::string_view repository, Action action) const {
  std::shared_ptr<const AuthorizeFn> authorize;
  {
    std::lock_guard lock(authorize_mutex_);
    authorize = authorize_;
  }
  return (*authorize)(caller, repository, action);
}

void Api::Fail(Exchange& ex, const Status& status, ErrorCode not_found, int http_status) const {
  if (status.Is(ErrorCode::kInternal) || HttpStatus(status.code()) >= 500) {
    Log(LogLevel::kError, ex.req.method + " " + ex.req.path + ": " + status.ToString());
  }
  WriteError(ex.res, ClientStatus(status, not_found), http_status);
  if (status.Is(ErrorCode::kUnauthorized)) identification_.Challenge(ex.res);
  if (auto failure = AuthFailureOf(status, false)) metrics.RecordAuthFailure(*failure);
}

Status Api::Precheck(const httplib::Request& req, const Route& route, const Caller& caller) const {
  const BodyFraming framing = InspectBody(req);
  if (IsBodyRoute(route)) {
    const bool manifest = route.kind == RouteKind::kManifest;
    const ErrorCode invalid =
        manifest ? ErrorCode::kManifestInvalid : ErrorCode::kBlobUploadInvalid;
    if (framing.malformed) return {invalid, "malformed Content-Length"};
    // httplib would decode a compressed body before we see it: the digest would cover bytes
    // other than those the client sent, and a small request could inflate without bound.
    if (HasContentEncoding(req)) return {invalid, "Content-Encoding is not supported on uploads"};
    // httplib would feed a multipart body to a form parser instead of to us.
    if (Lowercase(req.get_header_value("Content-Type")).rfind("multipart/", 0) == 0) {
      return {invalid, "multipart bodies are not supported"};
    }
    if (manifest && framing.length && *framing.length > limits_.max_manifest_bytes) {
      return ManifestTooLarge("manifest larger than " + std::to_string(limits_.max_manifest_bytes) +
                              " bytes");
    }
    if (!manifest && limits_.max_blob_bytes != 0 && framing.length &&
        *framing.length > limits_.max_blob_bytes) {
      return SizeInvalid("blob larger than " + std::to_string(limits_.max_blob_bytes) + " bytes");
    }
  }
  const bool deletes_content =
      route.method == Method::kDelete &&
      (route.kind == RouteKind::kManifest || route.kind == RouteKind::kBlob);
  if (deletes_content && !features_.allow_delete) {
    return Unsupported("deletion is disabled on this registry");
  }
  if (route.kind == RouteKind::kBase) return Authorize(caller, "", Action::kRead);
  if (!route.name.empty()) OCIREG_RETURN_IF_ERROR(Authorize(caller, route.name, ActionOf(route)));
  return Status::Ok();
}

int Api::ExpectContinue(const httplib::Request& req, httplib::Response& res) {
  Status status;
  bool from_authentication = false;
  if (draining.load()) {
    status = Unavailable("server shutting down");
  } else if (req.path.size() > kMaxPathLength) {
    status = NameInvalid("request path too long");
  } else {
    auto route = ParseRoute(req.method, req.path);
    auto caller = identification_.IdentifyBeforeBody(req, res);
    if (!route.ok()) {
      status = route.status();
    } else if (!caller.ok()) {
      status = caller.status();
      from_authentication = true;
    } else {
      status = Precheck(req, *route, *caller);
    }
  }
  if (status.ok()) return 100;
  if (auto failure = AuthFailureOf(status, from_authentication)) {
    metrics.RecordAuthFailure(*failure);
  }
  WriteError(res, status, req.path.size() > kMaxPathLength ? 414 : 0);
  if (status.Is(ErrorCode::kUnauthorized)) identification_.Challenge(res);
  // httplib writes this answer without its usual body bookkeeping: no Content-Length otherwise.
  res.set_header("Content-Length", std::to_string(res.body.size()));
  // The client will not send the body now; should it send it anyway, it must not be parsed as a
  // request.
  res.set_header("Connection", "close");
  return res.status;
}

void Api::Handle(Exchange& ex) {
  auto caller = identification_.Identify(ex.req, ex.res);
  if (!caller.ok()) {
    // Fail counts 401 and 403; a login backend that is down is an auth failure only here.
    if (caller.status().Is(ErrorCode::kUnavailable)) {
      metrics.RecordAuthFailure(AuthFailure::kUnavailable);
    }
    Fail(ex, caller.status());
    FinishBody(ex);
    return;
  }
  ex.caller = std::move(*caller);
  NoteRequestUser(ex.caller.user());
  auto endpoint = ParseEndpoint(ex.req.path);
  if (!endpoint.ok()) {
    Fail(ex, endpoint.status());
    FinishBody(ex);
    return;
  }
  ex.route = std::move(*endpoint);
  ex.route.method = ParseMethod(ex.req.method);
  if (!MethodAllowed(ex.route.kind, ex.route.method)) {
    ex.res.set_header("Allow", std::string(AllowedMethods(ex.route.kind)));
    Fail(ex, Unsupported(ex.req.method + " is not supported on this endpoint"));
    FinishBody(ex);
    return;
  }
  if (Status pre = Precheck(ex.req, ex.route, ex.caller); !pre.ok()) {
    Fail(ex, pre);
    FinishBody(ex);
    return;
  }
  const Method m = ex.route.method;
  switch (ex.route.kind) {
    case RouteKind::kBase:
      GetBase(ex);
      break;
    case RouteKind::kCatalog:
      GetCatalog(ex);
      break;
    case RouteKind::kTagsList:
      GetTags(ex);
      break;
    case RouteKind::kReferrers:
      GetReferrers(ex);
      break;
    case RouteKind::kBlob:
      if (m == Method::kDelete) {
        DeleteBlob(ex);
      } else {
        GetBlob(ex);
      }
      break;
    case RouteKind::kManifest:
      if (m == Method::kPut) {
        PutManifest(ex);
      } else if (m == Method::kDelete) {
        DeleteManifest(ex);
      } else {
        GetManifest(ex);
      }
      break;
    case RouteKind::kUploadStart:
      PostUpload(ex);
      break;
    case RouteKind::kUpload:
      if (m == Method::kPatch) {
        PatchUpload(ex);
      } else if (m == Method::kPut) {
        PutUpload(ex);
      } else if (m == Method::kDelete) {
        CancelUpload(ex);
      } else {
        GetUploadStatus(ex);
      }
      break;
  }
  FinishBody(ex);
}

}  // namespace ocireg::internal
