// SPDX-License-Identifier: Apache-2.0
// How an S3 answer becomes a Status: one table of S3's errors onto ocireg's codes.
//
//   404 NoSuchKey, NotFound, NoSuchBucket, NoSuchUpload     -> kNotFound
//   403 (AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ...) -> kDenied
//   412 PreconditionFailed (If-None-Match or If-Match lost)  -> kAlreadyExists
//   409 BucketAlreadyExists, BucketAlreadyOwnedByYou        -> kAlreadyExists
//   everything else, and no answer at all                     -> kUnavailable
//
// The message names the operation, the key, the status, S3's code and message and the request id:
// "S3 GetObject a/b: 503 SlowDown: Please reduce your request rate. (request id tx00..)". It never
// holds a header of the request, so never a credential.
#pragma once

#include <optional>
#include <string_view>

#include "net/http_transport.h"
#include "ocireg/status.h"
#include "storage/s3/s3_types.h"

namespace ocireg::internal::s3 {

// The Status of a failed exchange: `response` has a transport error or a non-2xx status (or a 2xx
// with an <Error> body: `error`).
Status S3ErrorStatus(std::string_view operation, std::string_view key, const HttpResponse& response,
                     const std::optional<ErrorBody>& error);

}  // namespace ocireg::internal::s3
