// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/s3_errors.h"

#include <string>

namespace ocireg::internal::s3 {

namespace {

ErrorCode CodeOf(long status, std::string_view code) {
  // A bucket that is gone is an outage of the storage, not an object that is missing: a
  // registry whose bucket vanished must fail its requests rather than answer "unknown".
  if (code == "NoSuchBucket") return ErrorCode::kUnavailable;
  if (status == 404 || code == "NoSuchKey" || code == "NoSuchUpload") {
    return ErrorCode::kNotFound;
  }
  if (status == 403) return ErrorCode::kDenied;
  if (status == 412 || code == "BucketAlreadyExists" || code == "BucketAlreadyOwnedByYou") {
    return ErrorCode::kAlreadyExists;
  }
  return ErrorCode::kUnavailable;
}

// The code of an answer without an <Error> body (HEAD has none), after the status.
std::string_view CodeFromStatus(long status) {
  switch (status) {
    case 301:
      return "PermanentRedirect";
    case 400:
      return "BadRequest";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 412:
      return "PreconditionFailed";
    case 416:
      return "InvalidRange";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    default:
      return "";
  }
}

}  // namespace

Status S3ErrorStatus(std::string_view operation, std::string_view key, const HttpResponse& response,
                     const std::optional<ErrorBody>& error) {
  std::string message = "S3 ";
  message += operation;
  if (!key.empty()) {
    message += ' ';
    message += key;
  }
  message += ": ";
  if (!response.transport_error.empty()) {
    message += "no answer: ";
    message += response.transport_error;
    return Unavailable(std::move(message));
  }
  const std::string_view code =
      error ? std::string_view(error->code) : CodeFromStatus(response.status);
  message += std::to_string(response.status);
  if (!code.empty()) {
    message += ' ';
    message += code;
  }
  if (error && !error->message.empty()) {
    message += ": ";
    message += error->message;
  }
  std::string request_id = error ? error->request_id : std::string();
  if (const std::string* header = response.Header("x-amz-request-id")) request_id = *header;
  if (!request_id.empty()) message += " (request id " + request_id + ")";
  return Status(CodeOf(response.status, code), std::move(message));
}

}  // namespace ocireg::internal::s3
