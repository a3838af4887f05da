// SPDX-License-Identifier: Apache-2.0
// Api: the endpoints of the distribution API over a Store. One method per endpoint; the methods
// live in one file per concept (catalog_handlers.cc, blob_handlers.cc, upload_handlers.cc,
// manifest_handlers.cc) and dispatch, checks and errors in api.cc.
//
// Thread-safety: immutable after construction except the atomics; called concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "http/exchange.h"
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

class Api {
 public:
  Api(Store& store, const Config& config, ServerHooks hooks);

  // Answers one request routed to /v2/... by httplib.
  void Handle(Exchange& ex);
  // Cheap checks before a body is sent (Expect: 100-continue): 100 to proceed, or the status of
  // an error response already written to `res`.
  int ExpectContinue(const httplib::Request& req, httplib::Response& res);

  std::atomic<bool> draining{false};
  std::atomic<bool> aborting{false};
  std::atomic<int> in_flight{0};
  const ServerHooks& hooks() const { return hooks_; }
  void Log(LogLevel level, std::string_view message) const;

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
  void GetTags(Exchange& ex);
  // blob_handlers.cc
  void GetBlob(Exchange& ex);
  void DeleteBlob(Exchange& ex);
  // upload_handlers.cc
  void PostUpload(Exchange& ex);
  bool TryMount(Exchange& ex, const Digest& digest);
  void PatchUpload(Exchange& ex);
  void PutUpload(Exchange& ex);
  void GetUploadStatus(Exchange& ex);
  void CancelUpload(Exchange& ex);
  Status AppendBody(Exchange& ex, Upload& upload, uint64_t offset);
  // Finds the request's upload session, checks its Content-Range and appends the body. On any
  // failure the response is written and null returned.
  std::shared_ptr<Upload> ReceiveChunk(Exchange& ex);
  void AnswerUploadProgress(Exchange& ex, Upload& upload, uint64_t size, int status);
  // manifest_handlers.cc
  void GetManifest(Exchange& ex);
  void PutManifest(Exchange& ex);
  void DeleteManifest(Exchange& ex);
  void GetReferrers(Exchange& ex);

  Store& store_;
  FeaturesConfig features_;
  LimitsConfig limits_;
  ServerHooks hooks_;
};

// Location of a blob and of an upload session.
std::string BlobLocation(std::string_view name, const Digest& digest);
std::string UploadLocation(std::string_view name, std::string_view id);

}  // namespace ocireg::internal
