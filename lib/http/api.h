// SPDX-License-Identifier: Apache-2.0
// Api: the endpoints of the distribution API over a Store. One method per endpoint; the methods
// live in one file per concept (catalog_handlers.cc, blob_handlers.cc, upload_handlers.cc,
// manifest_handlers.cc) and dispatch, checks and errors in api.cc.
//
// Thread-safety: immutable after construction except the atomics and the thread-safe members
// (metrics, upload quota); called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/failure_throttle.h"
#include "http/client_address.h"
#include "http/exchange.h"
#include "http/metrics.h"
#include "http/upload_quota.h"
#include "ocireg/config.h"
#include "ocireg/http/handler.h"
#include "ocireg/status.h"
#include "ocireg/storage/store.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace ocireg::internal {

// Longest request path accepted before any routing (a 255-character name, a 128-character digest
// and the endpoint words fit with room to spare). Longer paths get 414.
inline constexpr size_t kMaxPathLength = 1024;
// Tags one manifest PUT may add with ?tag= (the spec asks for at least 10); more gets 414.
inline constexpr size_t kMaxTagsPerPut = 100;
// Entries of one catalog page when the client gives no n, and the most it may ask for.
inline constexpr size_t kMaxCatalogPage = 1000;
// Bytes handed to the store per Append, and read from a blob per provider call.
inline constexpr size_t kIoChunkBytes = 128 * 1024;

// Authenticates requests (see caller.cc).
class CallerIdentification {
 public:
  CallerIdentification(const Config& config, std::shared_ptr<Authenticator> authenticator);
  // The caller of `req`: anonymous without credentials (or without an authenticator), the
  // identity its credentials prove, or an error: kUnauthorized for wrong credentials (one
  // message for every reason), kTooManyRequests without any check while failed logins throttle
  // the client and user (with Retry-After set on `res`), kUnavailable when a backend is down.
  // A request authenticates once: when IdentifyBeforeBody identified its caller, that caller.
  Result<Caller> Identify(const httplib::Request& req, httplib::Response& res);
  // Identify for the Expect: 100-continue check, which runs before the request's handler; the
  // caller it finds is remembered for the handler's Identify.
  Result<Caller> IdentifyBeforeBody(const httplib::Request& req, httplib::Response& res);
  // The client's address: the peer's, or behind a trusted proxy the one X-Forwarded-For names.
  std::string ClientAddress(const httplib::Request& req) const;
  // Adds the WWW-Authenticate challenge to a 401 response.
  void Challenge(httplib::Response& res) const;
  // Replaces the authenticator for requests identified from now on; a request being identified
  // keeps the one it started with.
  void SetAuthenticator(std::shared_ptr<Authenticator> authenticator);

 private:
  Result<Caller> Authenticate(const httplib::Request& req, httplib::Response& res);
  static bool IsEmptyBasic(std::string_view authorization);

  mutable std::mutex authenticator_mutex_;  // guards the pointer, not the authenticator
  std::shared_ptr<Authenticator> authenticator_;
  ClientIdentity client_identity_;
  std::string challenge_;
  FailureThrottle throttle_;
  TrustedProxies trusted_proxies_;
};

class Api {
 public:
  Api(Store& store, const Config& config, ServerHooks hooks);

  // Answers one request routed to /v2/... by httplib.
  void Handle(Exchange& ex);
  // Cheap checks before a body is sent (Expect: 100-continue): 100 to proceed, or the status of
  // an error response already written to `res`.
  int ExpectContinue(const httplib::Request& req, httplib::Response& res);

  std::atomic<bool> draining{false};
  // Before a graceful stop: /readyz answers 503 and every response ends its connection.
  std::atomic<bool> out_of_rotation{false};
  std::atomic<bool> aborting{false};
  std::atomic<int> in_flight{0};
  const ServerHooks& hooks() const { return hooks_; }
  // This replica's name for the access log ("": none); /metrics has it too.
  const std::string& node_name() const { return node_name_; }
  // The client address of `req` for the access log (see CallerIdentification::ClientAddress).
  std::string ClientAddress(const httplib::Request& req) const {
    return identification_.ClientAddress(req);
  }
  void Log(LogLevel level, std::string_view message) const;
  // Counters and gauges for GET /metrics (recorded from const checks too); the store for its
  // gauges and the readiness probe.
  mutable Metrics metrics;
  Store& store() const { return store_; }
  // Replaces the login methods and the access rules (RegistryHandler::SetAccess). Each check
  // uses the rules current when it runs; objects a request already holds stay alive until it ends.
  void SetAccess(std::shared_ptr<Authenticator> authenticator, AuthorizeFn authorize);

 private:
  // Everything that can be decided from the request line and headers alone.
  Status Precheck(const httplib::Request& req, const Route& route, const Caller& caller) const;
  Status Authorize(const Caller& caller, std::string_view repository, Action action) const;
  // Writes the error response for `status`; `not_found` replaces a storage-level kNotFound.
  void Fail(Exchange& ex, const Status& status, ErrorCode not_found = ErrorCode::kNameUnknown,
            int http_status = 0) const;

  // catalog_handlers.cc
  void GetBase(Exchange& ex);
  void GetCatalog(Exchange& ex);
  // Up to `limit` names after `last` that `caller` may read; `more` says whether another follows.
  std::vector<std::string> ReadableRepositories(const Caller& caller, std::string last,
                                                size_t limit, bool& more);
  void GetTags(Exchange& ex);
  // blob_handlers.cc
  void GetBlob(Exchange& ex);
  void DeleteBlob(Exchange& ex);
  // upload_handlers.cc
  void PostUpload(Exchange& ex);
  // The single-POST upload (end-4b): the body is the whole blob of `upload`.
  void PostMonolithic(Exchange& ex, Upload& upload, const Digest& expected);
  // Whom the upload quota counts a session against: the user, else the address.
  static std::string QuotaClient(const Exchange& ex);
  bool TryMount(Exchange& ex, const Digest& digest);
  void PatchUpload(Exchange& ex);
  void PutUpload(Exchange& ex);
  void GetUploadStatus(Exchange& ex);
  void CancelUpload(Exchange& ex);
  // Whether the request that appends a body commits the session right after it.
  enum class ThenCommit { kNo, kYes };
  // Appends the request's body at `offset`, taken back whole when it fails, and saves the session
  // unless a commit follows.
  Status AppendBody(Exchange& ex, Upload& upload, uint64_t offset, ThenCommit then_commit);
  // Finds the request's upload session, checks its Content-Range and appends the body. On any
  // failure the response is written and null returned.
  std::shared_ptr<Upload> ReceiveChunk(Exchange& ex, ThenCommit then_commit);
  void AnswerUploadProgress(Exchange& ex, Upload& upload, uint64_t size, int status);
  // manifest_handlers.cc
  void GetManifest(Exchange& ex);
  void PutManifest(Exchange& ex);
  void DeleteManifest(Exchange& ex);
  void GetReferrers(Exchange& ex);

  // The action a manifest PUT needs on its tags beyond kCreate: kUpdate for each tag that now
  // names another manifest. Ok or the authorization error.
  Status AuthorizeTagMoves(const Exchange& ex, const std::vector<std::string>& tags,
                           const Digest& digest) const;

  Store& store_;
  FeaturesConfig features_;
  LimitsConfig limits_;
  ServerHooks hooks_;  // its authenticator and authorize are those given at construction
  const std::string node_name_;
  mutable std::mutex authorize_mutex_;  // guards the pointer below, not the function
  std::shared_ptr<const AuthorizeFn> authorize_;
  CallerIdentification identification_;
  UploadQuota upload_quota_;
};

// Location of a blob and of an upload session.
std::string BlobLocation(std::string_view name, const Digest& digest);
std::string UploadLocation(std::string_view name, std::string_view id);

}  // namespace ocireg::internal
