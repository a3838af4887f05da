// SPDX-License-Identifier: Apache-2.0
// S3Client: creation, the retry loop, request signing, and the calls on single objects.
// Listing and multipart uploads are in s3_client_multipart.cc.
#include "storage/s3/s3_client.h"

#include <charconv>
#include <thread>
#include <utility>

#include "storage/s3/s3_client_call.h"
#include "storage/s3/s3_errors.h"
#include "storage/s3/s3_time.h"
#include "storage/s3/s3_xml.h"
#include "storage/s3/sigv4.h"
#include "storage/s3/uri_encode.h"

namespace ocireg::internal::s3 {

namespace {

// Bodies up to this size are signed with their SHA-256 (index documents, manifests, XML); larger
// ones (blob parts) go as UNSIGNED-PAYLOAD rather than be read twice: TLS protects them in transit,
// and the registry checks a blob's digest before it stores it.
constexpr size_t kSignedPayloadMax = 1u << 20;

constexpr std::string_view kMetaPrefix = "x-amz-meta-";

bool Is2xx(long status) { return status >= 200 && status < 300; }

// An ETag without its quotes: Ceph RGW 16 compares If-Match with the bare ETag and answers 412 to
// the quoted form (checked against a live gateway).
std::string_view Unquoted(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag.remove_prefix(1);
    etag.remove_suffix(1);
  }
  return etag;
}

std::optional<uint64_t> ParseDecimal(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Endpoint "http[s]://authority[/]" -> {scheme, authority}.
Result<std::pair<std::string, std::string>> ParseEndpoint(std::string_view endpoint) {
  for (std::string_view scheme : {std::string_view("http"), std::string_view("https")}) {
    const std::string lead = std::string(scheme) + "://";
    if (!endpoint.starts_with(lead)) continue;
    std::string_view authority = endpoint.substr(lead.size());
    if (authority.ends_with('/')) authority.remove_suffix(1);
    if (authority.empty() || authority.find_first_of("/?#@ \t\r\n") != std::string_view::npos) {
      break;
    }
    return std::make_pair(std::string(scheme), std::string(authority));
  }
  return InvalidArgument("S3 endpoint must be http://host[:port] or https://host[:port], not '" +
                         std::string(endpoint) + "'");
}

}  // namespace

std::string_view OperationName(S3Operation operation) {
  static constexpr std::array<std::string_view, kS3OperationCount> kNames = {
      "HeadBucket",
      "CreateBucket",
      "HeadObject",
      "GetObject",
      "PutObject",
      "DeleteObject",
      "ListObjectsV2",
      "CreateMultipartUpload",
      "UploadPart",
      "CompleteMultipartUpload",
      "AbortMultipartUpload",
      "ListMultipartUploads"};
  return kNames.at(static_cast<size_t>(operation));
}

Result<std::unique_ptr<S3Client>> S3Client::Create(const S3Options& options) {
  auto endpoint = ParseEndpoint(options.endpoint);
  if (!endpoint.ok()) return endpoint.status();
  if (options.bucket.empty()) return InvalidArgument("S3 bucket must not be empty");
  auto curl = LoadCurlLibrary();
  if (!curl.ok()) return Unavailable("the S3 driver needs " + curl.status().message());
  return std::unique_ptr<S3Client>(
      new S3Client(**curl, options, std::move(endpoint->first), std::move(endpoint->second)));
}

S3Client::S3Client(const CurlLibrary& curl, const S3Options& options, std::string scheme,
                   std::string authority)
    : credentials_(options.credentials),
      region_(options.region),
      bucket_(options.bucket),
      path_style_(options.path_style),
      scheme_(std::move(scheme)),
      authority_(std::move(authority)),
      retry_{options.max_retries, options.retry_base_delay, options.max_retry_time},
      transport_(curl, TransportOptions{options.connect_timeout, options.idle_timeout,
                                        options.ca_file, options.max_idle_connections}) {}

S3Client::~S3Client() = default;

HttpRequest S3Client::BuildRequest(const Call& call) const {
  std::string path = path_style_ ? "/" + bucket_ : std::string();
  if (!call.key.empty() || !path_style_) path += "/" + UriEncode(call.key, Slash::kKeep);
  const std::string host = path_style_ ? authority_ : bucket_ + "." + authority_;
  const std::string query = CanonicalQuery(call.query);
  const std::string amz_date = AmzDate(std::chrono::system_clock::now());
  const std::string payload_hash =
      call.body.size() <= kSignedPayloadMax ? Sha256Hex(call.body) : std::string(kUnsignedPayload);

  HttpRequest request;
  request.method = call.method;
  request.url = scheme_ + "://" + host + path + (query.empty() ? "" : "?" + query);
  request.headers = call.headers;
  if (call.before_attempt) call.before_attempt(request.headers);
  request.headers.emplace_back("host", host);
  request.headers.emplace_back("x-amz-date", amz_date);
  request.headers.emplace_back("x-amz-content-sha256", payload_hash);
  if (!credentials_.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  }
  if (!credentials_.access_key_id.empty()) {
    const SigV4Request signing{call.method, path, query, request.headers, payload_hash};
    request.headers.emplace_back("authorization",
                                 SigV4Authorization(credentials_, region_, amz_date, signing));
  }
  request.body = call.body;
  request.on_body = call.on_body;
  request.cancel = call.cancel;
  request.max_body = call.max_body;
  return request;
}

void S3Client::Count(S3Operation op, std::chrono::steady_clock::duration took, bool retry) {
  Counters& counters = counters_.at(static_cast<size_t>(op));
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  if (retry) counters.retries.fetch_add(1, std::memory_order_relaxed);
  counters.latency_us.fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
      std::memory_order_relaxed);
}

S3Client::Outcome S3Client::Execute(const Call& call) {
  RetrySchedule schedule(retry_);
  for (uint32_t attempts = 1;; ++attempts) {
    const auto start = std::chrono::steady_clock::now();
    HttpResponse response = transport_.Perform(BuildRequest(call));
    Count(call.op, std::chrono::steady_clock::now() - start, attempts > 1);

    const bool answered = response.transport_error.empty();
    std::optional<ErrorBody> error;
    if (answered && !response.stopped_by_receiver) {
      if (Is2xx(response.status)) {
        if (call.error_in_200) error = ParseError(response.body);
        if (!error) return {Status::Ok(), std::move(response), std::nullopt, attempts};
      } else if (call.accept && call.accept(response)) {
        return {Status::Ok(), std::move(response), std::nullopt, attempts};
      } else {
        error = ParseError(response.body);
      }
    }
    if (response.stopped_by_receiver) {
      counters_.at(static_cast<size_t>(call.op)).errors.fetch_add(1, std::memory_order_relaxed);
      std::string where = "S3 " + std::string(OperationName(call.op)) + " " + std::string(call.key);
      if (!call.on_body) {
        return {InvalidArgument(where + ": the object is larger than " +
                                std::to_string(call.max_body) + " bytes"),
                std::move(response), std::nullopt, attempts};
      }
      return {Unavailable(where + ": stopped by the reader"), std::move(response), std::nullopt,
              attempts};
    }
    const bool retryable =
        !answered || IsRetryableAnswer(response.status, error ? error->code : std::string());
    if (retryable) {
      if (auto delay = schedule.NextDelay()) {
        std::this_thread::sleep_for(*delay);
        continue;
      }
    }
    Status status = S3ErrorStatus(OperationName(call.op), call.key, response, error);
    if (!IsNotFound(status)) {
      counters_.at(static_cast<size_t>(call.op)).errors.fetch_add(1, std::memory_order_relaxed);
    }
    return {std::move(status), std::move(response), std::move(error), attempts};
  }
}

S3Stats S3Client::stats() const {
  S3Stats stats;
  for (size_t i = 0; i < kS3OperationCount; ++i) {
    const Counters& c = counters_.at(i);
    stats.operations.at(i) = {
        c.requests.load(std::memory_order_relaxed), c.retries.load(std::memory_order_relaxed),
        c.errors.load(std::memory_order_relaxed),
        std::chrono::microseconds(c.latency_us.load(std::memory_order_relaxed))};
  }
  return stats;
}

Status S3Client::HeadBucket() {
  return Execute({.op = S3Operation::kHeadBucket, .method = "HEAD"}).status;
}

Status S3Client::CheckBucketStillThere() {
  const int64_t now = std::chrono::steady_clock::now().time_since_epoch().count();
  const int64_t interval =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(kBucketCheckInterval).count();
  const int64_t seen = bucket_seen_.load();
  if (seen != 0 && now - seen < interval) return Status::Ok();
  const Status bucket = HeadBucket();
  if (bucket.ok()) {
    bucket_seen_.store(now);
    return Status::Ok();
  }
  // A bucket gone is an outage of the storage, as NoSuchBucket is on other calls (s3_errors.cc).
  // Other failures leave the key's answer as it was.
  if (!bucket.Is(ErrorCode::kNotFound)) return Status::Ok();
  return Unavailable("S3 bucket " + bucket_ +
                     " does not exist (NoSuchBucket): " + bucket.message());
}

Status S3Client::CreateBucket() {
  return Execute({.op = S3Operation::kCreateBucket, .method = "PUT"}).status;
}

Result<ObjectHead> S3Client::Head(std::string_view key) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Outcome outcome = Execute({.op = S3Operation::kHeadObject, .method = "HEAD", .key = key});
  if (!outcome.status.ok()) {
    if (IsNotFound(outcome.status)) OCIREG_RETURN_IF_ERROR(CheckBucketStillThere());
    return outcome.status;
  }
  const HttpResponse& response = outcome.response;
  ObjectHead head;
  const std::string* length = response.Header("content-length");
  std::optional<uint64_t> size = length ? ParseDecimal(*length) : std::nullopt;
  if (!size) return Unavailable("S3 HeadObject " + std::string(key) + ": no Content-Length");
  head.size = *size;
  if (const std::string* modified = response.Header("last-modified")) {
    if (auto time = ParseHttpTime(*modified)) head.last_modified = *time;
  }
  if (const std::string* etag = response.Header("etag")) head.etag = *etag;
  for (const auto& [name, value] : response.headers) {
    if (name.starts_with(kMetaPrefix)) head.metadata[name.substr(kMetaPrefix.size())] = value;
  }
  return head;
}

Result<std::string> S3Client::Get(std::string_view key, size_t max_bytes) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Outcome outcome =
      Execute({.op = S3Operation::kGetObject, .method = "GET", .key = key, .max_body = max_bytes});
  if (!outcome.status.ok()) return outcome.status;
  return std::move(outcome.response.body);
}

Result<S3Client::Versioned> S3Client::GetVersioned(std::string_view key, size_t max_bytes) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Outcome outcome =
      Execute({.op = S3Operation::kGetObject, .method = "GET", .key = key, .max_body = max_bytes});
  if (!outcome.status.ok()) return outcome.status;
  const std::string* etag = outcome.response.Header("etag");
  return Versioned{std::move(outcome.response.body), etag ? *etag : std::string()};
}

Result<std::optional<S3Client::Versioned>> S3Client::GetIfChanged(std::string_view key,
                                                                  std::string_view etag,
                                                                  size_t max_bytes) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Call call{.op = S3Operation::kGetObject,
            .method = "GET",
            .key = key,
            .max_body = max_bytes,
            .accept = [](const HttpResponse& r) { return r.status == 304; }};
  OCIREG_RETURN_IF_ERROR(AddHeader("if-none-match", etag, call.headers));
  Outcome outcome = Execute(call);
  if (!outcome.status.ok()) return outcome.status;
  if (outcome.response.status == 304) return std::optional<Versioned>();
  const std::string* new_etag = outcome.response.Header("etag");
  return std::optional<Versioned>(
      Versioned{std::move(outcome.response.body), new_etag ? *new_etag : std::string()});
}

Result<std::string> S3Client::Put(std::string_view key, std::string_view body,
                                  const PutOptions& options) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  Call call{.op = S3Operation::kPutObject, .method = "PUT", .key = key, .body = body};
  OCIREG_RETURN_IF_ERROR(AddMetadata(options.metadata, call.headers));
  OCIREG_RETURN_IF_ERROR(AddHeader("content-type", options.content_type, call.headers));
  OCIREG_RETURN_IF_ERROR(AddHeader("if-match", Unquoted(options.if_match), call.headers));
  if (options.if_none_match_star) call.headers.emplace_back("if-none-match", "*");
  Outcome outcome = Execute(call);
  if (!outcome.status.ok()) return outcome.status;
  const std::string* etag = outcome.response.Header("etag");
  return etag ? *etag : std::string();
}

Status S3Client::Delete(std::string_view key) {
  OCIREG_RETURN_IF_ERROR(CheckKey(key));
  return Execute({.op = S3Operation::kDeleteObject,
                  .method = "DELETE",
                  .key = key,
                  .accept = [](const HttpResponse& r) { return IsMissingKey(r, "NoSuchKey"); }})
      .status;
}

}  // namespace ocireg::internal::s3
