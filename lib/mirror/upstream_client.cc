// SPDX-License-Identifier: Apache-2.0
// UpstreamClient: requests, the auth dance around them, redirects, the per-upstream request slots
// and the Retry-After pause, and the mapping of upstream answers to Status codes.
#include "mirror/upstream_client.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "mirror/upstream_auth.h"
#include "mirror/upstream_response.h"
#include "mirror/upstream_url.h"
#include "mirror/www_authenticate.h"
#include "net/curl_library.h"
#include "net/http_transport.h"
#include "ocireg/digest.h"
#include "ocireg/manifest.h"
#include "ocireg/reference.h"
#include "version.h"

namespace ocireg::internal {
namespace {

using std::chrono::system_clock;

// Every manifest and index type a pull-through cache may serve: OCI first, then Docker schema 2.
constexpr const char* kManifestAccept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr int kMaxRedirects = 5;
constexpr size_t kMaxTagPageBytes = 4 * 1024 * 1024;

// What a 404 means for the call that got it.
enum class Missing { kManifest, kBlob, kRepository, kReferrersApi, kRegistry };

bool ErrorBodyHas(const HttpResponse& response, std::string_view code) {
  return response.body.find(code) != std::string::npos;
}

}  // namespace

struct UpstreamClient::Impl {
  Impl(const CurlLibrary& curl, UpstreamOptions opts)
      : options(std::move(opts)),
        transport(curl, TransportOptions{.connect_timeout = options.connect_timeout,
                                         .idle_timeout = options.request_timeout,
                                         .ca_file = options.ca_file,
                                         .max_idle_handles = options.max_concurrent_requests,
                                         .tls_verify = options.tls_verify,
                                         .exact_idle_timeout = true}) {}

  // One logical request; the auth exchange and redirects may send several.
  struct Call {
    std::string_view method;  // GET or HEAD
    std::string path{};       // from "/v2/"
    std::string scope_key{};  // the repository ("" for /v2/): tokens are cached by it
    std::vector<HeaderField> headers{};
    std::function<bool(const HttpResponse&)> on_head{};
    std::function<bool(long, std::string_view)> on_body{};
    size_t max_body = 64 * 1024;
    const std::atomic<bool>* cancel = nullptr;
  };

  bool has_credentials() const { return !options.username.empty() || !options.password.empty(); }
  std::string Describe(const Call& call) const {
    return "upstream " + options.base_url + ": " + std::string(call.method) + " " + call.path;
  }

  // Fails while a Retry-After lasts, without sending anything.
  Status CheckNotPaused() {
    std::lock_guard lock(mu);
    const auto now = system_clock::now();
    if (now >= paused_until) return Status();
    ++refused_early;
    const auto left = std::chrono::ceil<std::chrono::seconds>(paused_until - now);
    return TooManyRequests("upstream " + options.base_url + " asked to be left alone (429) for " +
                           std::to_string(left.count()) + " s more");
  }

  Status Pause(const HttpResponse& response, std::string_view what) {
    const auto now = system_clock::now();
    // Without a usable Retry-After, one second: enough not to hammer an overloaded upstream.
    system_clock::time_point until = now + std::chrono::seconds(1);
    if (const std::string* value = response.Header("retry-after")) {
      if (auto parsed = ParseRetryAfter(*value, now)) until = *parsed;
    }
    {
      std::lock_guard lock(mu);
      paused_until = std::max(paused_until, until);
    }
    const auto seconds = std::chrono::ceil<std::chrono::seconds>(until - now);
    return TooManyRequests(std::string(what) + ": 429 Too Many Requests (retry after " +
                           std::to_string(seconds.count()) + " s)");
  }

  // A turn on the wire, bounded by request_timeout.
  class Slot {
   public:
    explicit Slot(Impl& impl) : impl_(impl) {
      std::unique_lock lock(impl_.mu);
      held_ = impl_.slot_free.wait_for(lock, impl_.options.request_timeout, [this] {
        return impl_.in_flight < impl_.options.max_concurrent_requests;
      });
      if (held_) ++impl_.in_flight;
    }
    ~Slot() {
      if (!held_) return;
      {
        std::lock_guard lock(impl_.mu);
        --impl_.in_flight;
      }
      impl_.slot_free.notify_one();
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    bool held() const { return held_; }

   private:
    Impl& impl_;
    bool held_ = false;
  };

  // Sends `call` with `authorization` (may be empty), following redirects of GET and HEAD. The
  // authorization goes to the upstream's own origin only, never to a storage host it redirects to;
  // `from_upstream` says whether the answer came from that origin (only its challenges and 429s
  // are the upstream's). A redirect from https to plain http is refused.
  Result<HttpResponse> Exchange(const Call& call, const std::string& authorization,
                                bool& from_upstream) {
    std::string url = options.base_url + call.path;
    for (int redirects = 0;; ++redirects) {
      from_upstream = OriginOf(url) == options.base_url;
      HttpRequest request{.method = call.method,
                          .url = url,
                          .headers = call.headers,
                          .body = {},
                          .on_body = call.on_body,
                          .on_head = call.on_head,
                          .max_body = call.max_body,
                          .cancel = call.cancel};
      request.headers.emplace_back("User-Agent", options.user_agent);
      if (!authorization.empty() && from_upstream) {
        request.headers.emplace_back("Authorization", authorization);
      }
      ++requests;
      HttpResponse response = transport.Perform(request);
      const long status = response.status;
      const bool redirect =
          response.transport_error.empty() &&
          (status == 301 || status == 302 || status == 303 || status == 307 || status == 308);
      if (!redirect) return response;
      const std::string* location = response.Header("location");
      std::optional<std::string> next =
          location != nullptr ? ResolveLocation(url, *location) : std::nullopt;
      if (!next) return Unavailable(Describe(call) + ": redirect without a usable Location");
      if (IsHttps(url) && !IsHttps(*next)) {
        return Unavailable(Describe(call) + ": redirect from https to plain http refused");
      }
      if (redirects == kMaxRedirects) return Unavailable(Describe(call) + ": too many redirects");
      url = std::move(*next);
    }
  }

  Status AuthFailure(const Call& call, std::string_view who) const {
    if (has_credentials()) {
      return Denied(Describe(call) + ": " + std::string(who) + " refused the credentials");
    }
    return Unauthorized(Describe(call) + ": " + std::string(who) +
                        " needs credentials and none are configured");
  }

  // A token for `challenge`, from its realm, stored for `call.scope_key`.
  Result<std::string> FetchToken(const Call& call, BearerChallenge challenge) {
    if (Status paused = CheckNotPaused(); !paused.ok()) return paused;
    // The credentials go to the realm: never in the clear when the upstream itself is https.
    if (IsHttps(options.base_url) && !IsHttps(challenge.realm)) {
      return Unavailable(Describe(call) +
                         ": token realm is plain http while the upstream is https");
    }
    HttpRequest request{.method = "GET",
                        .url = TokenRequestUrl(challenge),
                        .headers = {{"User-Agent", options.user_agent}},
                        .body = {},
                        .on_body = {},
                        .on_head = {},
                        .max_body = kMaxTokenResponseBytes,
                        .cancel = call.cancel};
    if (has_credentials()) {
      request.headers.emplace_back("Authorization",
                                   BasicAuthorization(options.username, options.password));
    }
    ++token_requests;
    const HttpResponse response = transport.Perform(request);
    const std::string what = Describe(call) + ": token endpoint";
    if (!response.transport_error.empty()) {
      return Unavailable(what + " unreachable: " + response.transport_error);
    }
    if (response.status == 401 || response.status == 403)
      return AuthFailure(call, "token endpoint");
    if (response.status == 429) return Pause(response, what);
    if (response.status < 200 || response.status >= 300) {
      return Unavailable(what + " answered " + std::to_string(response.status));
    }
    if (response.stopped_by_receiver) return Unavailable(what + ": answer too large");
    auto token = ParseTokenResponse(response.body, system_clock::now());
    if (!token.ok()) return Unavailable(what + ": " + token.status().message());
    std::string value = token->token;
    tokens.Store(call.scope_key, std::move(challenge), std::move(*token));
    return value;
  }

  // `call` with authentication as needed; any answer but 401 and 429 is returned to map.
  Result<HttpResponse> Send(const Call& call) {
    if (Status paused = CheckNotPaused(); !paused.ok()) return paused;
    Slot slot(*this);
    if (!slot.held()) {
      return Unavailable(Describe(call) + ": no free request slot within the request timeout (" +
                         std::to_string(options.max_concurrent_requests) + " at once)");
    }
    std::string authorization;
    bool sent_basic = false;
    bool fresh_token = false;  // the token sent was fetched for this call
    if (auto token = tokens.Token(call.scope_key, system_clock::now())) {
      authorization = "Bearer " + *token;
    } else if (auto challenge = tokens.Challenge(call.scope_key)) {
      auto fetched = FetchToken(call, std::move(*challenge));
      if (!fetched.ok()) return fetched.status();
      authorization = "Bearer " + *fetched;
      fresh_token = true;
    } else if (basic_asked.load() && has_credentials()) {
      authorization = BasicAuthorization(options.username, options.password);
      sent_basic = true;
    }
    // Anonymous, then Basic or a token, then a renewed token: three rounds at most.
    for (int round = 0; round < 3; ++round) {
      bool from_upstream = true;
      auto sent = Exchange(call, authorization, from_upstream);
      if (!sent.ok()) return sent.status();
      HttpResponse& response = *sent;
      if (!response.transport_error.empty()) {
        if (call.cancel != nullptr && call.cancel->load()) {
          return Unavailable(Describe(call) + ": cancelled");
        }
        return Unavailable(Describe(call) + ": " + response.transport_error);
      }
      // A host the upstream redirected to neither challenges for the upstream's credentials nor
      // pauses the upstream: its answer is mapped like any other failure.
      if (!from_upstream) return std::move(response);
      if (response.status == 429) return Pause(response, Describe(call));
      if (response.status != 401) return std::move(response);
      std::vector<AuthChallenge> challenges;
      for (const auto& [name, value] : response.headers) {
        if (name != "www-authenticate") continue;
        auto parsed = ParseWwwAuthenticate(value);
        if (!parsed.ok()) return Unavailable(Describe(call) + ": " + parsed.status().message());
        for (AuthChallenge& challenge : *parsed) challenges.push_back(std::move(challenge));
      }
      if (auto bearer = FindBearerChallenge(challenges)) {
        if (fresh_token) return AuthFailure(call, "the upstream");
        tokens.Forget(call.scope_key);
        auto fetched = FetchToken(call, std::move(*bearer));
        if (!fetched.ok()) return fetched.status();
        authorization = "Bearer " + *fetched;
        fresh_token = true;
        continue;
      }
      if (HasBasicChallenge(challenges) && has_credentials() && !sent_basic) {
        basic_asked.store(true);
        authorization = BasicAuthorization(options.username, options.password);
        sent_basic = true;
        continue;
      }
      return AuthFailure(call, "the upstream");
    }
    return AuthFailure(call, "the upstream");
  }

  // The Status of an answer that is not a success.
  Status Failure(const Call& call, const HttpResponse& response, Missing missing) const {
    const std::string what = Describe(call) + ": " + std::to_string(response.status);
    if (response.status == 404) {
      if (missing == Missing::kReferrersApi) {
        return Unsupported(what + " (no referrers API)");
      }
      if (missing == Missing::kRepository || ErrorBodyHas(response, "NAME_UNKNOWN")) {
        return NameUnknown(what);
      }
      if (missing == Missing::kManifest) return ManifestUnknown(what);
      if (missing == Missing::kBlob) return BlobUnknown(what);
      return Unavailable(what + " (not a registry)");
    }
    if (response.status == 403) return Denied(what);
    if (response.status == 416) return RangeInvalid(what);
    return Unavailable(what);
  }

  Result<UpstreamManifest> Manifest(Call call, Missing missing) {
    call.headers.emplace_back("Accept", missing == Missing::kReferrersApi
                                            ? "application/vnd.oci.image.index.v1+json"
                                            : kManifestAccept);
    call.max_body = kDefaultMaxManifestBytes;
    auto sent = Send(call);
    if (!sent.ok()) return sent.status();
    const HttpResponse& response = *sent;
    if (response.status < 200 || response.status >= 300) {
      return Failure(call, response, missing);
    }
    UpstreamManifest manifest;
    manifest.status = response.status;
    std::optional<Digest> announced;
    if (const std::string* header = response.Header("docker-content-digest")) {
      auto parsed = Digest::Parse(*header);
      if (!parsed.ok()) {
        return ManifestInvalid(Describe(call) + ": Docker-Content-Digest is not a digest");
      }
      announced = *parsed;
      manifest.digest = parsed->ToString();
    }
    if (const std::string* type = response.Header("content-type")) manifest.content_type = *type;
    if (const std::string* length = response.Header("content-length")) {
      uint64_t value = 0;
      const auto [end, error] =
          std::from_chars(length->data(), length->data() + length->size(), value);
      if (error == std::errc() && end == length->data() + length->size()) {
        manifest.content_length = value;
      }
    }
    if (manifest.content_length && *manifest.content_length > kDefaultMaxManifestBytes) {
      return ManifestTooLarge(Describe(call) + ": over " +
                              std::to_string(kDefaultMaxManifestBytes) + " bytes");
    }
    if (call.method == "GET") {
      if (response.stopped_by_receiver) {
        return ManifestTooLarge(Describe(call) + ": over " +
                                std::to_string(kDefaultMaxManifestBytes) + " bytes");
      }
      manifest.bytes = response.body;
      // A cache stores the bytes under this digest: it must be theirs, whatever the header said.
      const Digest actual = Digester::Of(
          announced ? announced->algorithm() : DigestAlgorithm::kSha256, manifest.bytes);
      if (announced && *announced != actual) {
        return ManifestInvalid(Describe(call) + ": Docker-Content-Digest names other bytes");
      }
      manifest.digest = actual.ToString();
    }
    return manifest;
  }

  UpstreamOptions options;
  HttpTransport transport;
  TokenCache tokens;
  std::atomic<bool> basic_asked{false};  // the upstream asked for Basic: send it from the start
  std::mutex mu;
  std::condition_variable slot_free;
  size_t in_flight = 0;                     // guarded by mu
  system_clock::time_point paused_until{};  // guarded by mu
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> token_requests{0};
  std::atomic<uint64_t> refused_early{0};
};

Result<std::unique_ptr<UpstreamClient>> UpstreamClient::Create(UpstreamOptions options) {
  while (options.base_url.ends_with('/')) options.base_url.pop_back();
  if (Status status = CheckBaseUrl(options.base_url); !status.ok()) return status;
  if (options.max_concurrent_requests == 0) {
    return InvalidArgument("max_concurrent_requests must be at least 1");
  }
  if (options.user_agent.empty()) options.user_agent = "ocireg/" OCIREG_VERSION;
  auto curl = LoadCurlLibrary();
  if (!curl.ok()) return Unavailable("the upstream client needs " + curl.status().message());
  return std::unique_ptr<UpstreamClient>(
      new UpstreamClient(std::make_unique<Impl>(**curl, std::move(options))));
}

UpstreamClient::UpstreamClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
UpstreamClient::~UpstreamClient() = default;

UpstreamCounters UpstreamClient::counters() const {
  return {.requests = impl_->requests.load(),
          .token_requests = impl_->token_requests.load(),
          .refused_early = impl_->refused_early.load()};
}

Status UpstreamClient::Ping() {
  const Impl::Call call{.method = "GET", .path = "/v2/"};
  auto sent = impl_->Send(call);
  if (!sent.ok()) return sent.status();
  if (sent->status >= 200 && sent->status < 300) return Status();
  return impl_->Failure(call, *sent, Missing::kRegistry);
}

Result<UpstreamManifest> UpstreamClient::HeadManifest(std::string_view repo,
                                                      std::string_view reference) {
  if (Status status = ValidateRepositoryName(repo); !status.ok()) return status;
  if (!Digest::Parse(reference).ok()) {
    if (Status status = ValidateTag(reference); !status.ok()) return status;
  }
  return impl_->Manifest(
      {.method = "HEAD",
       .path = "/v2/" + std::string(repo) + "/manifests/" + std::string(reference),
       .scope_key = std::string(repo)},
      Missing::kManifest);
}

Result<UpstreamManifest> UpstreamClient::GetManifest(std::string_view repo,
                                                     std::string_view reference) {
  if (Status status = ValidateRepositoryName(repo); !status.ok()) return status;
  auto digest = Digest::Parse(reference);
  if (!digest.ok()) {
    if (Status status = ValidateTag(reference); !status.ok()) return status;
  }
  auto manifest =
      impl_->Manifest({.method = "GET",
                       .path = "/v2/" + std::string(repo) + "/manifests/" + std::string(reference),
                       .scope_key = std::string(repo)},
                      Missing::kManifest);
  if (manifest.ok() && digest.ok()) {
    // Asked by digest: the bytes must be those; a cache must not store anything else under it.
    Digester digester(digest->algorithm());
    digester.Update(manifest->bytes);
    if (digester.Finish() != *digest) {
      return ManifestInvalid("upstream " + impl_->options.base_url + ": the manifest of " +
                             std::string(repo) + "@" + std::string(reference) +
                             " does not match its digest");
    }
  }
  return manifest;
}

Status UpstreamClient::GetBlob(std::string_view repo, std::string_view digest,
                               const UpstreamBlobRequest& request) {
  if (Status status = ValidateRepositoryName(repo); !status.ok()) return status;
  if (Status status = Digest::Parse(digest).status(); !status.ok()) return status;
  if (!request.on_data) return InvalidArgument("GetBlob needs on_data");
  bool started = false;
  uint64_t skip = 0;  // bytes before `offset` that an upstream ignoring Range sends anyway
  Status receiver_stopped;
  Impl::Call call{.method = "GET",
                  .path = "/v2/" + std::string(repo) + "/blobs/" + std::string(digest),
                  .scope_key = std::string(repo),
                  .cancel = request.cancel};
  if (request.offset > 0) {
    call.headers.emplace_back("Range", "bytes=" + std::to_string(request.offset) + "-");
  }
  auto total_of = [](const HttpResponse& head) -> std::optional<uint64_t> {
    if (head.status == 206) {
      const std::string* range = head.Header("content-range");
      return range != nullptr ? ParseContentRangeTotal(*range) : std::nullopt;
    }
    const std::string* length = head.Header("content-length");
    uint64_t value = 0;
    if (length == nullptr ||
        std::from_chars(length->data(), length->data() + length->size(), value).ec != std::errc()) {
      return std::nullopt;
    }
    return value;
  };
  call.on_head = [&](const HttpResponse& head) {
    started = true;
    if (request.offset > 0 && head.status == 200) skip = request.offset;
    if (head.status == 206) {
      // A range from elsewhere would be spliced into the blob at the wrong place.
      const std::string* range = head.Header("content-range");
      if (range == nullptr || ParseContentRangeFirst(*range) != request.offset) {
        receiver_stopped = Unavailable(impl_->Describe(call) + ": a range that does not start at " +
                                       std::to_string(request.offset));
        return false;
      }
    }
    if (request.on_start && !request.on_start(total_of(head))) {
      receiver_stopped = Unavailable(impl_->Describe(call) + ": stopped by the receiver");
      return false;
    }
    return true;
  };
  call.on_body = [&](long /*status*/, std::string_view piece) {
    if (skip > 0) {
      const size_t dropped = static_cast<size_t>(std::min<uint64_t>(skip, piece.size()));
      skip -= dropped;
      piece.remove_prefix(dropped);
      if (piece.empty()) return true;
    }
    if (request.on_data(piece)) return true;
    receiver_stopped = Unavailable(impl_->Describe(call) + ": stopped by the receiver");
    return false;
  };
  auto sent = impl_->Send(call);
  if (!receiver_stopped.ok()) return receiver_stopped;
  if (!sent.ok()) return sent.status();
  const HttpResponse& response = *sent;
  if (response.status < 200 || response.status >= 300) {
    return impl_->Failure(call, response, Missing::kBlob);
  }
  if (response.stopped_by_receiver) {
    return Unavailable(impl_->Describe(call) + ": cancelled");
  }
  if (skip > 0) return Unavailable(impl_->Describe(call) + ": the blob ended before the offset");
  if (!started && request.on_start && !request.on_start(total_of(response))) {
    return Unavailable(impl_->Describe(call) + ": stopped by the receiver");
  }
  return Status();
}

Result<std::vector<std::string>> UpstreamClient::ListTags(std::string_view repo, size_t page_size) {
  if (Status status = ValidateRepositoryName(repo); !status.ok()) return status;
  std::string path = "/v2/" + std::string(repo) + "/tags/list";
  if (page_size > 0) path += "?n=" + std::to_string(page_size);
  std::vector<std::string> tags;
  for (size_t page = 0; page < kMaxTagPages; ++page) {
    Impl::Call call{.method = "GET",
                    .path = path,
                    .scope_key = std::string(repo),
                    .headers = {{"Accept", "application/json"}},
                    .max_body = kMaxTagPageBytes};
    auto sent = impl_->Send(call);
    if (!sent.ok()) return sent.status();
    const HttpResponse& response = *sent;
    if (response.status < 200 || response.status >= 300) {
      return impl_->Failure(call, response, Missing::kRepository);
    }
    if (response.stopped_by_receiver)
      return Unavailable(impl_->Describe(call) + ": page too large");
    rapidjson::Document document;
    document.Parse(response.body.data(), response.body.size());
    if (document.HasParseError() || !document.IsObject()) {
      return Unavailable(impl_->Describe(call) + ": the tag list is not a JSON object");
    }
    const rapidjson::Value& root = document;  // const: see ParseTokenResponse
    const auto list = root.FindMember("tags");
    if (list != root.MemberEnd() && !list->value.IsNull()) {
      if (!list->value.IsArray()) return Unavailable(impl_->Describe(call) + ": tags not a list");
      for (const auto& tag : list->value.GetArray()) {
        if (!tag.IsString()) return Unavailable(impl_->Describe(call) + ": a tag not a string");
        if (tags.size() == kMaxTags) {
          return Unavailable(impl_->Describe(call) + ": more than " + std::to_string(kMaxTags) +
                             " tags");
        }
        tags.emplace_back(tag.GetString(), tag.GetStringLength());
      }
    }
    const std::string* link = response.Header("link");
    std::optional<std::string> next = link != nullptr ? ParseNextLink(*link) : std::nullopt;
    if (!next) return tags;
    // Pages stay on the upstream itself: an absolute link elsewhere is refused.
    if (next->starts_with("http://") || next->starts_with("https://")) {
      if (OriginOf(*next) != impl_->options.base_url) {
        return Unavailable(impl_->Describe(call) + ": next page on another host");
      }
      next->erase(0, impl_->options.base_url.size());
    }
    if (!next->starts_with("/v2/") || *next == path) {
      return Unavailable(impl_->Describe(call) + ": unusable next-page link");
    }
    path = std::move(*next);
  }
  return Unavailable("upstream " + impl_->options.base_url + ": more than " +
                     std::to_string(kMaxTagPages) + " pages of tags for " + std::string(repo));
}

Result<UpstreamManifest> UpstreamClient::GetReferrers(std::string_view repo,
                                                      std::string_view digest) {
  if (Status status = ValidateRepositoryName(repo); !status.ok()) return status;
  if (Status status = Digest::Parse(digest).status(); !status.ok()) return status;
  return impl_->Manifest({.method = "GET",
                          .path = "/v2/" + std::string(repo) + "/referrers/" + std::string(digest),
                          .scope_key = std::string(repo)},
                         Missing::kReferrersApi);
}

}  // namespace ocireg::internal
