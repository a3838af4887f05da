// SPDX-License-Identifier: Apache-2.0
// The values S3Client's operations take and return: plain data, safe to copy.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ocireg::internal::s3 {

// User metadata: the names of x-amz-meta-* headers without that prefix, in lower case.
using Metadata = std::map<std::string, std::string>;

// ETags are kept as S3 gives them, quotes included ("\"9b2cf535f27731c974343645a3985328\""): the
// form If-Match and CompleteMultipartUpload take back.
struct ObjectHead {
  uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
  std::string etag;
  Metadata metadata;
};

struct ObjectSummary {
  std::string key;
  uint64_t size = 0;
  std::chrono::system_clock::time_point last_modified;
  std::string etag;

  bool operator==(const ObjectSummary&) const = default;
};

struct ListRequest {
  std::string prefix{};
  std::string delimiter{};           // empty: no grouping
  std::string start_after{};         // a key; only on the first page
  std::string continuation_token{};  // next_continuation_token of the previous page
  uint32_t max_keys = 1000;          // S3 never returns more than 1,000
};

struct ListResult {
  std::vector<ObjectSummary> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // set when truncated
  bool truncated = false;
};

struct PutOptions {
  Metadata metadata;
  std::string content_type;  // empty: none sent (S3 then says binary/octet-stream)
  // Write only if no object has the key (If-None-Match: *); else kAlreadyExists.
  bool if_none_match_star = false;
  // Write only over the object of this ETag (If-Match; quoted or not, it is sent bare);
  // kAlreadyExists when the object has another, kNotFound when there is none.
  std::string if_match;
};

struct CompletedPart {
  uint32_t number = 0;  // 1 to 10,000, ascending in CompleteMultipart's list
  std::string etag;     // as UploadPart returned it
};

struct MultipartUpload {
  std::string key;
  std::string upload_id;
  std::chrono::system_clock::time_point initiated;

  bool operator==(const MultipartUpload&) const = default;
};

struct MultipartUploadList {
  std::vector<MultipartUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

// The <Error> document of a failed request (and, for CompleteMultipartUpload, of some that
// answered 200).
struct ErrorBody {
  std::string code;  // "NoSuchKey", "SlowDown"
  std::string message;
  std::string request_id;
};

}  // namespace ocireg::internal::s3
