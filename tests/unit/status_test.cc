// SPDX-License-Identifier: Apache-2.0
// Status and Result<T>: the code table, the factories and predicates, and error propagation.
#include "ocireg/status.h"

#include <set>
#include <utility>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::Result;
using ocireg::Status;

TEST_CASE("every spec error code maps to its identifier and HTTP status", "[status]") {
  CHECK(ocireg::SpecCode(ErrorCode::kBlobUnknown) == "BLOB_UNKNOWN");
  CHECK(ocireg::HttpStatus(ErrorCode::kBlobUnknown) == 404);
  CHECK(ocireg::SpecCode(ErrorCode::kBlobUploadUnknown) == "BLOB_UPLOAD_UNKNOWN");
  CHECK(ocireg::HttpStatus(ErrorCode::kDigestInvalid) == 400);
  CHECK(ocireg::SpecCode(ErrorCode::kManifestBlobUnknown) == "MANIFEST_BLOB_UNKNOWN");
  CHECK(ocireg::HttpStatus(ErrorCode::kManifestBlobUnknown) == 400);
  CHECK(ocireg::HttpStatus(ErrorCode::kManifestUnknown) == 404);
  CHECK(ocireg::HttpStatus(ErrorCode::kNameUnknown) == 404);
  CHECK(ocireg::HttpStatus(ErrorCode::kUnauthorized) == 401);
  CHECK(ocireg::HttpStatus(ErrorCode::kDenied) == 403);
  CHECK(ocireg::HttpStatus(ErrorCode::kUnsupported) == 405);
  CHECK(ocireg::SpecCode(ErrorCode::kTooManyRequests) == "TOOMANYREQUESTS");
  CHECK(ocireg::HttpStatus(ErrorCode::kTooManyRequests) == 429);
  CHECK(ocireg::HttpStatus(ErrorCode::kRangeInvalid) == 416);
  CHECK(ocireg::HttpStatus(ErrorCode::kManifestTooLarge) == 413);
  CHECK(ocireg::HttpStatus(ErrorCode::kInternal) == 500);
  CHECK(ocireg::HttpStatus(ErrorCode::kUnavailable) == 503);
}

TEST_CASE("every 4xx code a client can see is one of the spec's fourteen", "[status]") {
  const std::set<std::string_view> spec = {
      "BLOB_UNKNOWN",          "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID",
      "MANIFEST_BLOB_UNKNOWN", "MANIFEST_INVALID",    "MANIFEST_UNKNOWN",    "NAME_INVALID",
      "NAME_UNKNOWN",          "SIZE_INVALID",        "UNAUTHORIZED",        "DENIED",
      "UNSUPPORTED",           "TOOMANYREQUESTS"};
  for (int i = static_cast<int>(ErrorCode::kBlobUnknown);
       i <= static_cast<int>(ErrorCode::kManifestTooLarge); ++i) {
    auto code = static_cast<ErrorCode>(i);
    INFO("code " << i);
    CHECK(spec.count(ocireg::SpecCode(code)) == 1);
    CHECK(ocireg::HttpStatus(code) >= 400);
    CHECK(ocireg::HttpStatus(code) < 500);
  }
}

namespace {
Result<int> Half(int n) {
  if (n % 2 != 0) return ocireg::SizeInvalid("odd");
  return n / 2;
}
Status HalfTwice(int n, int* out) {
  auto a = Half(n);
  OCIREG_RETURN_IF_ERROR(a);
  auto b = Half(*a);
  OCIREG_RETURN_IF_ERROR(b);
  *out = *b;
  return Status::Ok();
}
}  // namespace

TEST_CASE("Result carries a value or an error, and errors propagate", "[status]") {
  int out = 0;
  CHECK_OK(HalfTwice(8, &out));
  CHECK(out == 2);
  Status s = HalfTwice(6, &out);
  CHECK(s.code() == ErrorCode::kSizeInvalid);
  CHECK(s.message() == "odd");
  CHECK(s.ToString() == "SIZE_INVALID: odd");
  CHECK(Status().ToString() == "OK");
}

TEST_CASE("every error code has a factory that makes it", "[status]") {
  const std::vector<std::pair<Status, ErrorCode>> made = {
      {ocireg::BlobUnknown("m"), ErrorCode::kBlobUnknown},
      {ocireg::BlobUploadInvalid("m"), ErrorCode::kBlobUploadInvalid},
      {ocireg::BlobUploadUnknown("m"), ErrorCode::kBlobUploadUnknown},
      {ocireg::DigestInvalid("m"), ErrorCode::kDigestInvalid},
      {ocireg::ManifestBlobUnknown("m"), ErrorCode::kManifestBlobUnknown},
      {ocireg::ManifestInvalid("m"), ErrorCode::kManifestInvalid},
      {ocireg::ManifestUnknown("m"), ErrorCode::kManifestUnknown},
      {ocireg::NameInvalid("m"), ErrorCode::kNameInvalid},
      {ocireg::NameUnknown("m"), ErrorCode::kNameUnknown},
      {ocireg::SizeInvalid("m"), ErrorCode::kSizeInvalid},
      {ocireg::Unauthorized("m"), ErrorCode::kUnauthorized},
      {ocireg::Denied("m"), ErrorCode::kDenied},
      {ocireg::Unsupported("m"), ErrorCode::kUnsupported},
      {ocireg::TooManyRequests("m"), ErrorCode::kTooManyRequests},
      {ocireg::RangeInvalid("m"), ErrorCode::kRangeInvalid},
      {ocireg::ManifestTooLarge("m"), ErrorCode::kManifestTooLarge},
      {ocireg::NotFound("m"), ErrorCode::kNotFound},
      {ocireg::AlreadyExists("m"), ErrorCode::kAlreadyExists},
      {ocireg::InvalidArgument("m"), ErrorCode::kInvalidArgument},
      {ocireg::Internal("m"), ErrorCode::kInternal},
      {ocireg::Unavailable("m"), ErrorCode::kUnavailable},
  };
  std::set<ErrorCode> covered;
  for (const auto& [status, code] : made) {
    INFO(status.ToString());
    CHECK(status == Status(code, "m"));
    CHECK(status.Is(code));
    CHECK_FALSE(status.Is(ErrorCode::kOk));
    covered.insert(code);
  }
  // The last code of the enum is kUnavailable: a new code needs a factory too.
  for (int i = static_cast<int>(ErrorCode::kBlobUnknown);
       i <= static_cast<int>(ErrorCode::kUnavailable); ++i) {
    INFO("code " << i);
    CHECK(covered.count(static_cast<ErrorCode>(i)) == 1);
  }
}

TEST_CASE("Is asks for one code; IsNotFound and IsAlreadyExists for the storage ones", "[status]") {
  CHECK(Status::Ok().Is(ErrorCode::kOk));
  CHECK_FALSE(Status::Ok().Is(ErrorCode::kNotFound));
  CHECK_FALSE(ocireg::IsNotFound(Status::Ok()));

  const Status missing = ocireg::NotFound("a/b: No such file or directory");
  CHECK(missing.Is(ErrorCode::kNotFound));
  CHECK(ocireg::IsNotFound(missing));
  CHECK_FALSE(ocireg::IsAlreadyExists(missing));

  const Status there = ocireg::AlreadyExists("a/b: File exists");
  CHECK(ocireg::IsAlreadyExists(there));
  CHECK_FALSE(ocireg::IsNotFound(there));

  // A spec code a client sees is not the storage condition it may have come from.
  CHECK_FALSE(ocireg::IsNotFound(ocireg::BlobUnknown("sha256:...")));
  CHECK_FALSE(ocireg::IsNotFound(ocireg::NameUnknown("team/app")));
}

TEST_CASE("the status assertions take a Status or a Result", "[status]") {
  int out = 0;
  REQUIRE_OK(HalfTwice(8, &out));
  REQUIRE_OK(Half(4));
  CHECK_OK(Status::Ok());
  CHECK_CODE(Half(3), ErrorCode::kSizeInvalid);
  CHECK_CODE(HalfTwice(6, &out), ErrorCode::kSizeInvalid);
}
