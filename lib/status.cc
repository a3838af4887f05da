// SPDX-License-Identifier: Apache-2.0
// The one table that maps each ErrorCode to its OCI code, HTTP status and description.
#include "ocireg/status.h"

#include <array>

namespace ocireg {
namespace {

struct CodeInfo {
  ErrorCode code;
  std::string_view spec_code;
  int http_status;
  std::string_view message;
};

constexpr std::array kCodes = {
    CodeInfo{ErrorCode::kOk, "OK", 200, "ok"},
    CodeInfo{ErrorCode::kBlobUnknown, "BLOB_UNKNOWN", 404, "blob unknown to registry"},
    CodeInfo{ErrorCode::kBlobUploadInvalid, "BLOB_UPLOAD_INVALID", 400, "blob upload invalid"},
    CodeInfo{ErrorCode::kBlobUploadUnknown, "BLOB_UPLOAD_UNKNOWN", 404,
             "blob upload unknown to registry"},
    CodeInfo{ErrorCode::kDigestInvalid, "DIGEST_INVALID", 400,
             "provided digest did not match uploaded content"},
    CodeInfo{ErrorCode::kManifestBlobUnknown, "MANIFEST_BLOB_UNKNOWN", 400,
             "manifest references a manifest or blob unknown to registry"},
    CodeInfo{ErrorCode::kManifestInvalid, "MANIFEST_INVALID", 400, "manifest invalid"},
    CodeInfo{ErrorCode::kManifestUnknown, "MANIFEST_UNKNOWN", 404, "manifest unknown to registry"},
    CodeInfo{ErrorCode::kNameInvalid, "NAME_INVALID", 400, "invalid repository name"},
    CodeInfo{ErrorCode::kNameUnknown, "NAME_UNKNOWN", 404, "repository name not known to registry"},
    CodeInfo{ErrorCode::kSizeInvalid, "SIZE_INVALID", 400,
             "provided length did not match content length"},
    CodeInfo{ErrorCode::kUnauthorized, "UNAUTHORIZED", 401, "authentication required"},
    CodeInfo{ErrorCode::kDenied, "DENIED", 403, "requested access to the resource is denied"},
    CodeInfo{ErrorCode::kUnsupported, "UNSUPPORTED", 405, "the operation is unsupported"},
    CodeInfo{ErrorCode::kTooManyRequests, "TOOMANYREQUESTS", 429, "too many requests"},
    CodeInfo{ErrorCode::kRangeInvalid, "BLOB_UPLOAD_INVALID", 416,
             "requested range not satisfiable"},
    CodeInfo{ErrorCode::kManifestTooLarge, "MANIFEST_INVALID", 413, "manifest too large"},
    CodeInfo{ErrorCode::kNotFound, "NOT_FOUND", 404, "not found"},
    CodeInfo{ErrorCode::kAlreadyExists, "ALREADY_EXISTS", 409, "already exists"},
    CodeInfo{ErrorCode::kInvalidArgument, "UNSUPPORTED", 400, "invalid argument"},
    CodeInfo{ErrorCode::kInternal, "UNKNOWN", 500, "internal error"},
    CodeInfo{ErrorCode::kUnavailable, "UNAVAILABLE", 503, "service unavailable"},
};

// The table is indexed by the enumerator's value; this keeps the two in step.
constexpr bool TableMatchesEnum() {
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (static_cast<size_t>(kCodes[i].code) != i) return false;
  }
  return kCodes.back().code == ErrorCode::kUnavailable;
}
static_assert(TableMatchesEnum(), "kCodes must list every ErrorCode in declaration order");

const CodeInfo& Info(ErrorCode code) {
  auto index = static_cast<size_t>(code);
  return index < kCodes.size() ? kCodes[index] : kCodes[static_cast<size_t>(ErrorCode::kInternal)];
}

}  // namespace

std::string_view SpecCode(ErrorCode code) { return Info(code).spec_code; }
int HttpStatus(ErrorCode code) { return Info(code).http_status; }
std::string_view SpecMessage(ErrorCode code) { return Info(code).message; }

std::string Status::ToString() const {
  if (ok()) return "OK";
  std::string out(SpecCode(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

}  // namespace ocireg
