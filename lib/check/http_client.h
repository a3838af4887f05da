// SPDX-License-Identifier: Apache-2.0
// HttpClient: the conformance client's only way to the registry, a thin layer over httplib's
// client that keeps exactly what the checks need to judge and to report a response.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/check.h"
#include "ocireg/digest.h"
#include "ocireg/status.h"

namespace httplib {
class Client;
}

namespace ocireg::internal::check {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;
  // A path with its query ("/v2/x/blobs/uploads/?digest=..."), or an absolute URL such as a
  // Location header may give.
  std::string target;
  HeaderList headers;
  std::string body;
  // The response body is hashed with this algorithm as it streams in.
  DigestAlgorithm body_digest = DigestAlgorithm::kSha256;

  static HttpRequest Make(std::string method, std::string target) {
    HttpRequest r;
    r.method = std::move(method);
    r.target = std::move(target);
    return r;
  }
  HttpRequest& Header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  // Sets the body and its Content-Type.
  HttpRequest& Body(std::string bytes, std::string content_type) {
    body = std::move(bytes);
    return Header("Content-Type", std::move(content_type));
  }
  HttpRequest& HashWith(DigestAlgorithm algorithm) {
    body_digest = algorithm;
    return *this;
  }
};

struct HttpResponse {
  // 0 when no response came; `error` then says why.
  int status = 0;
  std::string error;
  HeaderList headers;
  // The body, or its first kMaxKeptBody bytes: manifests and JSON documents fit, blobs are judged
  // by `body_size` and `body_digest`.
  std::string body;
  uint64_t body_size = 0;
  std::optional<Digest> body_digest;
  // The redirects followed to get here, oldest first.
  std::vector<std::string> redirects;

  static constexpr size_t kMaxKeptBody = 8 << 20;

  bool has_header(std::string_view name) const;
  // The first value of header `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
  // Every value of header `name`, in order.
  std::vector<std::string> header_values(std::string_view name) const;
};

// The parts of an absolute URL; `path` keeps its query.
struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;
  uint16_t port = 0;
  std::string path;
  std::string origin() const;  // "scheme://host:port"
};
// kInvalidArgument unless `text` is an http or https URL with a host.
Result<Url> ParseUrl(std::string_view text);

// `target` with `name=value` appended to its query (value percent-encoded).
std::string AppendQuery(std::string_view target, std::string_view name, std::string_view value);
// `text` with every byte outside RFC 3986's unreserved set percent-encoded.
std::string PercentEncode(std::string_view text);

// Sends requests to one registry (its origin, with credentials) and to any other origin a
// Location or a redirect names (without credentials, which never cross hosts). GET and HEAD
// follow up to five redirects. Not thread-safe: one HttpClient per run.
class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(const CheckOptions& options);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  HttpResponse Send(const HttpRequest& request);
  // "http://host:port" of the registry.
  const std::string& origin() const { return origin_; }

 private:
  explicit HttpClient(const CheckOptions& options);
  httplib::Client& ClientFor(const std::string& origin);
  HttpResponse SendOnce(httplib::Client& client, const HttpRequest& request,
                        const std::string& path);

  CheckOptions options_;
  std::string origin_;
  std::map<std::string, std::unique_ptr<httplib::Client>> clients_;
};

}  // namespace ocireg::internal::check
