// SPDX-License-Identifier: Apache-2.0
// S3Client: the S3 API calls the S3 storage driver makes, signed, retried and counted.
//
//   auto client = S3Client::Create(options);          // S3Options of ocireg/storage/s3.h
//   Result<std::string> etag = (*client)->Put("blobs/ab", bytes, {});
//   Result<size_t> n = (*client)->ReadRange("blobs/ab", offset, buffer);
//
// Keys are used as given: the driver adds S3Options::prefix itself. They are URI-encoded on the
// wire (everything but unreserved characters and '/').
//
// Every call is safe to repeat (bodies are sent whole), so every call is retried on transient
// failures (retry_policy.h) within max_retries and max_retry_time. Errors (s3_errors.h): kNotFound
// for a missing key, bucket or upload; kDenied for 403; kAlreadyExists for a lost conditional
// write; kUnavailable for everything else, with S3's code and request id in the message. Messages
// never hold credentials.
//
// Thread-safe: one client serves every thread; requests reuse pooled connections
// (http_transport.h). Never prints.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/http_transport.h"
#include "ocireg/status.h"
#include "ocireg/storage/s3.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_types.h"

namespace ocireg::internal::s3 {

// The S3 API calls, as counted in S3Stats; OperationName gives S3's name ("GetObject").
enum class S3Operation {
  kHeadBucket,
  kCreateBucket,
  kHeadObject,
  kGetObject,
  kPutObject,
  kDeleteObject,
  kListObjectsV2,
  kCreateMultipartUpload,
  kUploadPart,
  kCompleteMultipartUpload,
  kAbortMultipartUpload,
  kListMultipartUploads,
};
inline constexpr size_t kS3OperationCount = 12;
std::string_view OperationName(S3Operation operation);

struct S3OperationStats {
  uint64_t requests = 0;  // HTTP requests sent, retries included
  uint64_t retries = 0;   // of those, the repeated ones
  uint64_t errors = 0;    // calls that failed in the end, kNotFound not counted (a miss)
  std::chrono::microseconds latency{0};  // summed over the requests, bodies included
};

// A snapshot of the counters since the client was made; index by S3Operation.
struct S3Stats {
  std::array<S3OperationStats, kS3OperationCount> operations;
  const S3OperationStats& operator[](S3Operation op) const {
    return operations[static_cast<size_t>(op)];
  }
};

class S3Client {
 public:
  // kInvalidArgument when the endpoint is not an http:// or https:// URL without a path, or the
  // bucket is empty; kUnavailable when libcurl cannot be loaded (curl_library.h). Contacts nobody.
  static Result<std::unique_ptr<S3Client>> Create(const S3Options& options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Ok when the bucket exists and the credentials may use it.
  Status HeadBucket();
  // Makes the bucket (for tests and setup); kAlreadyExists when it exists.
  Status CreateBucket();

  // kNotFound for a missing key; kUnavailable when the whole bucket is gone (checked at most
  // every kBucketCheckInterval, since a HEAD's 404 does not say which).
  Result<ObjectHead> Head(std::string_view key);
  static constexpr std::chrono::seconds kBucketCheckInterval{5};
  // The whole object, for small ones (index documents, manifests): at most max_bytes, else
  // kInvalidArgument.
  Result<std::string> Get(std::string_view key, size_t max_bytes = 64u << 20);
  // The whole object and its ETag, which a conditional Put (If-Match) takes back.
  struct Versioned {
    std::string body;
    std::string etag;
  };
  Result<Versioned> GetVersioned(std::string_view key, size_t max_bytes = 64u << 20);
  // GetVersioned unless the object's ETag is still `etag` (If-None-Match; S3 answers 304 without
  // the body): then nullopt.
  Result<std::optional<Versioned>> GetIfChanged(std::string_view key, std::string_view etag,
                                                size_t max_bytes = 64u << 20);
  // Reads up to out.size() bytes at `offset` straight into `out`; returns how many. Fewer only at
  // the object's end; 0 at or past it.
  Result<size_t> ReadRange(std::string_view key, uint64_t offset, std::span<char> out);
  // Streams `length` bytes at `offset` (to the end: length = UINT64_MAX) to `sink` in pieces;
  // a retry resumes after the bytes already delivered. `sink` returns false, or `cancel` turns
  // true (also while no byte moves), to stop: then kUnavailable "stopped by the reader" without
  // retry.
  Status GetStream(std::string_view key, uint64_t offset, uint64_t length,
                   const std::function<bool(std::string_view piece)>& sink,
                   const std::atomic<bool>* cancel = nullptr);

  // Returns the new object's ETag. kInvalidArgument for metadata names or values that cannot be
  // header fields.
  Result<std::string> Put(std::string_view key, std::string_view body,
                          const PutOptions& options = {});
  // Ok when the key is gone, whether or not it was there.
  Status Delete(std::string_view key);

  // One page of ListObjectsV2.
  Result<ListResult> List(const ListRequest& request);

  // Starts a multipart upload; returns its upload id.
  Result<std::string> CreateMultipart(std::string_view key, const Metadata& metadata = {});
  // Parts but the last are at least 5 MiB. Returns the part's ETag.
  Result<std::string> UploadPart(std::string_view key, std::string_view upload_id,
                                 uint32_t part_number, std::span<const char> bytes);
  // Joins `parts` (ascending numbers) into the object; returns its ETag. A retry that finds the
  // upload gone (an earlier attempt completed it) answers with the object's ETag when it exists.
  Result<std::string> CompleteMultipart(std::string_view key, std::string_view upload_id,
                                        std::span<const CompletedPart> parts);
  // Ok when the upload is gone, whether or not it was there.
  Status AbortMultipart(std::string_view key, std::string_view upload_id);
  // Every unfinished upload whose key starts with `prefix` (all pages).
  Result<std::vector<MultipartUpload>> ListMultipartUploads(std::string_view prefix);

  S3Stats stats() const;
  // Easy handles (so connections) made so far: stays at the peak concurrency when reused.
  size_t connections_made() const { return transport_.handles_made(); }

 private:
  struct Call;
  struct Outcome;
  S3Client(const CurlLibrary& curl, const S3Options& options, std::string scheme,
           std::string authority);

  // Sends `call`, retrying transient failures; the error Status names `call`'s operation and key.
  Outcome Execute(const Call& call);
  HttpRequest BuildRequest(const Call& call) const;
  void Count(S3Operation op, std::chrono::steady_clock::duration took, bool retry);
  // After a HEAD's 404: kUnavailable when the bucket no longer exists, looked up unless another
  // lookup found it within kBucketCheckInterval; Ok otherwise.
  Status CheckBucketStillThere();

  const S3Credentials credentials_;
  const std::string region_;
  const std::string bucket_;
  const bool path_style_;
  const std::string scheme_;     // "http" or "https"
  const std::string authority_;  // host[:port] of the endpoint
  const RetryPolicy retry_;
  HttpTransport transport_;
  // When a lookup last found the bucket (steady_clock ticks); 0: never.
  std::atomic<int64_t> bucket_seen_{0};

  struct Counters {
    std::atomic<uint64_t> requests{0}, retries{0}, errors{0}, latency_us{0};
  };
  std::array<Counters, kS3OperationCount> counters_;
};

}  // namespace ocireg::internal::s3
