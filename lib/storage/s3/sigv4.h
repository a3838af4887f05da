// SPDX-License-Identifier: Apache-2.0
// AWS Signature Version 4 for S3: the Authorization header of a request.
//
// Our own signer over OpenSSL rather than libcurl's CURLOPT_AWS_SIGV4: curl 7.88 (Debian 12) does
// not sort query parameters into the canonical request (curl issue #9717), which breaks
// ListObjectsV2 and the multipart calls, and it signs with the wall clock inside the transfer, so
// it cannot be checked against AWS's published example. Here every step is a pure function, and
// tests/unit/s3_sigv4_test.cc checks them against that example.
//
//   SigV4Request r{"GET", "/bucket/key", CanonicalQuery({}), headers, kEmptyPayloadSha256};
//   std::string authorization = SigV4Authorization(credentials, "us-east-1", AmzDate(now), r);
//
// The secret key only enters HMACs; nothing here returns or formats it.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/storage/s3.h"

namespace ocireg::internal::s3 {

// SHA-256 of an empty payload, and the marker for a payload whose hash is not signed (bodies
// too large to hash up front; TLS or loopback protects them on the way).
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

using HeaderField = std::pair<std::string, std::string>;
using QueryParam = std::pair<std::string, std::string>;

struct SigV4Request {
  std::string_view method;           // "GET"
  std::string_view path;             // URI-encoded as sent (UriEncode, Slash::kKeep), from '/'
  std::string_view query;            // CanonicalQuery(...): sent in this very form
  std::vector<HeaderField> headers;  // every header to sign, with host and x-amz-date
  std::string_view payload_hash;     // hex SHA-256 of the body, or kUnsignedPayload
};

// Query parameters (not encoded) as S3 wants them signed: each name and value URI-encoded ('/'
// too), sorted by name then value, "name=value" joined by '&'; a parameter without a value is
// "name=". The request must send exactly this string, so both sides agree.
std::string CanonicalQuery(std::vector<QueryParam> params);

// "20130524T000000Z": the x-amz-date of `time`, in UTC.
std::string AmzDate(std::chrono::system_clock::time_point time);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// The steps of the signature, exposed for the test against AWS's example.
std::string CanonicalRequest(const SigV4Request& request);
// "AWS4-HMAC-SHA256\n<amz_date>\n<date>/<region>/s3/aws4_request\n<hex sha256 of canonical>".
std::string StringToSign(std::string_view amz_date, std::string_view region,
                         std::string_view canonical_request);
// Lower-case hex of the signature.
std::string Signature(const S3Credentials& credentials, std::string_view region,
                      std::string_view amz_date, const SigV4Request& request);

// The Authorization header's value: "AWS4-HMAC-SHA256 Credential=<access key id>/<scope>,
// SignedHeaders=<names>,Signature=<hex>". `request.headers` must hold x-amz-date = amz_date.
std::string SigV4Authorization(const S3Credentials& credentials, std::string_view region,
                               std::string_view amz_date, const SigV4Request& request);

}  // namespace ocireg::internal::s3
