// SPDX-License-Identifier: Apache-2.0
// The private parts S3Client's source files share: one API call as the retry loop sees it, and
// checks of what goes into its header fields.
#pragma once

#include <atomic>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/s3/s3_client.h"
#include "storage/s3/sigv4.h"

namespace ocireg::internal::s3 {

struct S3Client::Call {
  S3Operation op{};
  std::string_view method{};
  std::string_view key{};  // empty: the bucket itself
  std::vector<QueryParam> query{};
  std::vector<HeaderField> headers{};  // signed, besides those every request has
  std::string_view body{};
  std::function<bool(long status, std::string_view piece)> on_body{};  // see HttpRequest
  const std::atomic<bool>* cancel = nullptr;                           // see HttpRequest
  size_t max_body = 64u << 20;
  // Adjusts the headers before each attempt (a resumed read moves its Range on).
  std::function<void(std::vector<HeaderField>& headers)> before_attempt{};
  // CompleteMultipartUpload may answer 200 with an <Error> body.
  bool error_in_200 = false;
  // A non-2xx answer that counts as success (a Delete of what is gone).
  std::function<bool(const HttpResponse& response)> accept{};
};

struct S3Client::Outcome {
  Status status;
  HttpResponse response;
  std::optional<ErrorBody> error;  // S3's <Error>, when it sent one
  uint32_t attempts = 0;
};

// kInvalidArgument for an empty key or one longer than S3's 1,024 bytes.
Status CheckKey(std::string_view key);
// Adds `name: value` unless value is empty; kInvalidArgument when value cannot be a header value
// (control characters: CR and LF would split the request).
Status AddHeader(std::string_view name, std::string_view value, std::vector<HeaderField>& headers);
// Adds x-amz-meta-<name> for each entry; names must be lower-case tokens.
Status AddMetadata(const Metadata& metadata, std::vector<HeaderField>& headers);
// Whether `response` is a 404 for a missing key or upload (`code`), not for a missing bucket.
bool IsMissingKey(const HttpResponse& response, std::string_view code);

}  // namespace ocireg::internal::s3
