// SPDX-License-Identifier: Apache-2.0
// UpstreamClient: the mirror's client of one upstream OCI registry (Docker Hub, ghcr.io, another
// ocireg, a CNCF distribution), over HTTP(S) through the shared libcurl transport
// (net/http_transport.h).
//
// It talks to the upstream as containerd and skopeo do: the first request goes anonymously (or
// with Basic credentials once the upstream asked for Basic); a 401 with a Basic challenge is
// answered with the configured credentials, one with a Bearer challenge by the Docker token flow
// (a token fetched from the challenge's realm for its service and scopes, with the credentials if
// any, cached per repository until shortly before it expires and renewed once when refused).
//
// Upstream answers become Status codes: 404 -> kManifestUnknown / kBlobUnknown / kNameUnknown
// (kUnsupported for the referrers API), 401 -> kUnauthorized without credentials and kDenied with
// refused ones, 403 -> kDenied, 429 -> kTooManyRequests (and, until the Retry-After it gave, every
// further call to this upstream fails at once with kTooManyRequests without being sent), 5xx,
// refused connections and timeouts -> kUnavailable. Messages name the upstream and the request,
// never credentials or tokens.
//
// Thread-safe: any number of threads may call at once. At most max_concurrent_requests calls are
// on the wire at a time; the others wait their turn, up to request_timeout, then fail with
// kUnavailable. Never prints.
//
//   auto client = UpstreamClient::Create({.base_url = "https://registry-1.docker.io"});
//   auto manifest = (*client)->GetManifest("library/alpine", "3.20");
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/status.h"

namespace ocireg::internal {

struct UpstreamOptions {
  // REQUIRES: "http://host[:port]" or "https://host[:port]", nothing after it (no path, no
  // user:password@).
  std::string base_url{};
  // Both or neither. Sent only after the upstream asked for them (Basic), or to its token endpoint.
  std::string username{};
  std::string password{};
  std::string ca_file{};   // CA certificates (PEM) for https. Default: empty, the system's
  bool tls_verify = true;  // false accepts any certificate (labs only). Default: true
  // Default: 10 s to set up a connection (TCP and TLS).
  std::chrono::milliseconds connect_timeout{10000};
  // A request that moves no byte for this long fails with kUnavailable (noticed within about a
  // second of it); also how long a call waits for a free request slot. Default: 30 s.
  std::chrono::milliseconds request_timeout{30000};
  // Calls on the wire to this upstream at once; more wait (see above). Default: 8; at least 1.
  size_t max_concurrent_requests = 8;
  // Default: "ocireg/<version>".
  std::string user_agent{};
};

// A manifest (or the referrers index) as the upstream answered it.
struct UpstreamManifest {
  long status = 0;  // 200
  // GET: the digest of the bytes (in the header's algorithm, else sha256), which the
  // Docker-Content-Digest header, when sent, must equal. HEAD: that header, checked to be a
  // digest; empty when the upstream sent none.
  std::string digest{};
  std::string content_type{};                // Content-Type
  std::optional<uint64_t> content_length{};  // Content-Length, when given
  std::string bytes{};                       // the body (GET only), at most 4 MiB
};

struct UpstreamBlobRequest {
  uint64_t offset = 0;  // the first byte wanted (Range: bytes=offset-); 0: the whole blob
  // Called once before the first piece, with the blob's whole size when the upstream gave it
  // (Content-Length, or the total of Content-Range). Returns false to stop. Optional.
  std::function<bool(std::optional<uint64_t> total_size)> on_start{};
  // Receives the blob from `offset` piece by piece, in order; returns false to stop (the call then
  // fails with kUnavailable "stopped by the receiver"). Required.
  std::function<bool(std::string_view piece)> on_data{};
  // When it turns true the transfer stops within about a second, even while no byte moves.
  const std::atomic<bool>* cancel = nullptr;
};

// What the client did, for tests and metrics.
struct UpstreamCounters {
  uint64_t requests = 0;        // requests sent to the upstream (token requests not included)
  uint64_t token_requests = 0;  // requests sent to token endpoints
  uint64_t refused_early = 0;   // calls failed without sending, while a Retry-After lasted
};

class UpstreamClient {
 public:
  // Checks `options` (kInvalidArgument) and loads libcurl (kUnavailable when it cannot).
  static Result<std::unique_ptr<UpstreamClient>> Create(UpstreamOptions options);
  ~UpstreamClient();
  UpstreamClient(const UpstreamClient&) = delete;
  UpstreamClient& operator=(const UpstreamClient&) = delete;

  // GET /v2/: whether the upstream answers as a registry we may use (with auth as needed).
  Status Ping();

  // HEAD and GET /v2/<repo>/manifests/<reference>, accepting every OCI and Docker manifest and
  // index media type. GET fails with kManifestTooLarge over 4 MiB, and with kManifestInvalid when
  // `reference` is a digest the bytes do not match or the Docker-Content-Digest header names
  // other bytes; both fail with kManifestInvalid when that header is not a digest.
  Result<UpstreamManifest> HeadManifest(std::string_view repo, std::string_view reference);
  Result<UpstreamManifest> GetManifest(std::string_view repo, std::string_view reference);

  // GET /v2/<repo>/blobs/<digest>, streamed to request.on_data; never holds the whole blob.
  // Follows up to 5 redirects (storage back ends), without credentials to any other host. Does
  // not check the digest: the caller hashes what it stores.
  Status GetBlob(std::string_view repo, std::string_view digest,
                 const UpstreamBlobRequest& request);

  // Every tag of `repo`, following `Link: <...>; rel="next"` pages (each asking for `page_size`
  // tags when non-zero), at most kMaxTagPages pages and kMaxTags tags (then kUnavailable).
  static constexpr size_t kMaxTagPages = 1000;
  static constexpr size_t kMaxTags = 100000;
  Result<std::vector<std::string>> ListTags(std::string_view repo, size_t page_size = 0);

  // GET /v2/<repo>/referrers/<digest>: the image index the upstream answers. kUnsupported when
  // the upstream answers 404 (it has no referrers API; the caller falls back to the tag scheme).
  Result<UpstreamManifest> GetReferrers(std::string_view repo, std::string_view digest);

  UpstreamCounters counters() const;

 private:
  struct Impl;
  explicit UpstreamClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ocireg::internal
