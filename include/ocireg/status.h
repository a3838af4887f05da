// SPDX-License-Identifier: Apache-2.0
// Status and Result<T>: errors as values, mapped onto the OCI distribution error codes.
//
// Every fallible call in libocireg returns a Status or a Result<T>; no exception crosses the public
// API. An ErrorCode knows its OCI code string (SpecCode) and its HTTP status (HttpStatus), so the
// HTTP layer turns any failure into a spec-conformant response in one step.
//
//   Result<Digest> d = Digest::Parse(text);
//   if (!d.ok()) return d.status();
//   Use(*d);
//
// The vocabulary: one factory a code, named after it, makes an error (`return BlobUnknown("...")`,
// not `Status(ErrorCode::kBlobUnknown, "...")`); `s.Is(code)` asks for a code, and IsNotFound and
// IsAlreadyExists ask the two questions storage code asks of a driver's answer.
//
// Status and Result are plain values: not thread-safe to mutate, safe to copy and share read-only.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ocireg/export.h"

namespace ocireg {

enum class ErrorCode {
  kOk = 0,
  // The fourteen error codes of the OCI distribution spec, in its order.
  kBlobUnknown,          // 404 BLOB_UNKNOWN
  kBlobUploadInvalid,    // 400 BLOB_UPLOAD_INVALID
  kBlobUploadUnknown,    // 404 BLOB_UPLOAD_UNKNOWN
  kDigestInvalid,        // 400 DIGEST_INVALID
  kManifestBlobUnknown,  // 400 MANIFEST_BLOB_UNKNOWN
  kManifestInvalid,      // 400 MANIFEST_INVALID
  kManifestUnknown,      // 404 MANIFEST_UNKNOWN
  kNameInvalid,          // 400 NAME_INVALID
  kNameUnknown,          // 404 NAME_UNKNOWN
  kSizeInvalid,          // 400 SIZE_INVALID
  kUnauthorized,         // 401 UNAUTHORIZED
  kDenied,               // 403 DENIED
  kUnsupported,          // 405 UNSUPPORTED
  kTooManyRequests,      // 429 TOOMANYREQUESTS
  // Conditions the spec names by HTTP status; the body uses the closest spec code.
  kRangeInvalid,      // 416 BLOB_UPLOAD_INVALID: chunk out of order, unsatisfiable range
  kManifestTooLarge,  // 413 MANIFEST_INVALID: manifest over the configured limit
  // Storage-level conditions. The store maps them to a spec code before they reach a client.
  kNotFound,         // 404 NOT_FOUND: a path of the storage driver does not exist
  kAlreadyExists,    // 409 ALREADY_EXISTS: a path of the storage driver exists already
  kInvalidArgument,  // 400 UNSUPPORTED: a bad argument or configuration (never from a request)
  kInternal,         // 500 UNKNOWN: a bug or an I/O failure
  kUnavailable,      // 503 UNAVAILABLE: shutting down, or a backend is unreachable
};

// The OCI error identifier of `code`, e.g. "BLOB_UNKNOWN". Never empty.
OCIREG_EXPORT std::string_view SpecCode(ErrorCode code);
// The HTTP status a response reporting `code` carries, e.g. 404.
OCIREG_EXPORT int HttpStatus(ErrorCode code);
// The spec's description of `code`, e.g. "blob unknown to registry".
OCIREG_EXPORT std::string_view SpecMessage(ErrorCode code);

// A success, or an error code with a message for humans. Cheap to copy when ok.
class [[nodiscard]] OCIREG_EXPORT Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  // Whether this is an error of `code`; Is(ErrorCode::kOk) is ok().
  bool Is(ErrorCode code) const { return code_ == code; }
  const std::string& message() const { return message_; }
  // "CODE: message", for logs and test failures.
  std::string ToString() const;

  bool operator==(const Status& other) const = default;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// One factory an error code: an error of that code with `message`, e.g. BlobUnknown("...").
inline Status BlobUnknown(std::string message) {
  return {ErrorCode::kBlobUnknown, std::move(message)};
}
inline Status BlobUploadInvalid(std::string message) {
  return {ErrorCode::kBlobUploadInvalid, std::move(message)};
}
inline Status BlobUploadUnknown(std::string message) {
  return {ErrorCode::kBlobUploadUnknown, std::move(message)};
}
inline Status DigestInvalid(std::string message) {
  return {ErrorCode::kDigestInvalid, std::move(message)};
}
inline Status ManifestBlobUnknown(std::string message) {
  return {ErrorCode::kManifestBlobUnknown, std::move(message)};
}
inline Status ManifestInvalid(std::string message) {
  return {ErrorCode::kManifestInvalid, std::move(message)};
}
inline Status ManifestUnknown(std::string message) {
  return {ErrorCode::kManifestUnknown, std::move(message)};
}
inline Status NameInvalid(std::string message) {
  return {ErrorCode::kNameInvalid, std::move(message)};
}
inline Status NameUnknown(std::string message) {
  return {ErrorCode::kNameUnknown, std::move(message)};
}
inline Status SizeInvalid(std::string message) {
  return {ErrorCode::kSizeInvalid, std::move(message)};
}
inline Status Unauthorized(std::string message) {
  return {ErrorCode::kUnauthorized, std::move(message)};
}
inline Status Denied(std::string message) { return {ErrorCode::kDenied, std::move(message)}; }
inline Status Unsupported(std::string message) {
  return {ErrorCode::kUnsupported, std::move(message)};
}
inline Status TooManyRequests(std::string message) {
  return {ErrorCode::kTooManyRequests, std::move(message)};
}
inline Status RangeInvalid(std::string message) {
  return {ErrorCode::kRangeInvalid, std::move(message)};
}
inline Status ManifestTooLarge(std::string message) {
  return {ErrorCode::kManifestTooLarge, std::move(message)};
}
inline Status NotFound(std::string message) { return {ErrorCode::kNotFound, std::move(message)}; }
inline Status AlreadyExists(std::string message) {
  return {ErrorCode::kAlreadyExists, std::move(message)};
}
inline Status InvalidArgument(std::string message) {
  return {ErrorCode::kInvalidArgument, std::move(message)};
}
inline Status Internal(std::string message) { return {ErrorCode::kInternal, std::move(message)}; }
inline Status Unavailable(std::string message) {
  return {ErrorCode::kUnavailable, std::move(message)};
}

// The checks storage code makes of a driver's answer.
inline bool IsNotFound(const Status& status) { return status.Is(ErrorCode::kNotFound); }
inline bool IsAlreadyExists(const Status& status) { return status.Is(ErrorCode::kAlreadyExists); }

// Either a T or a non-ok Status. Accessing the value of an error is a programmer bug (asserts).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "Result needs a value or an error");
    if (status_.ok()) status_ = Internal("Result built from an ok Status");
  }
  Result(ErrorCode code, std::string message) : Result(Status(code, std::move(message))) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace ocireg

// Returns the Status of `expr` (a Status or a Result) from the enclosing function when it is an
// error.
#define OCIREG_RETURN_IF_ERROR(expr)                                                    \
  do {                                                                                  \
    if (auto ocireg_status_ = ::ocireg::internal::StatusOf(expr); !ocireg_status_.ok()) \
      return ocireg_status_;                                                            \
  } while (0)

namespace ocireg::internal {
inline Status StatusOf(Status s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}
}  // namespace ocireg::internal
