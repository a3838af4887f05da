// SPDX-License-Identifier: Apache-2.0
// The retry policy of the S3 client (which answers are retried, how long it waits, when it stops)
// and the mapping of S3's errors onto Status codes.
#include <string>

#include "catch.h"
#include "storage/s3/retry_policy.h"
#include "storage/s3/s3_errors.h"

namespace {

using namespace ocireg::internal::s3;
using ocireg::internal::HttpResponse;  // the shared transport (net/http_transport.h)
using std::chrono::milliseconds;

}  // namespace

TEST_CASE("Only transient answers are retried", "[unit][s3]") {
  for (long status : {429L, 500L, 502L, 503L, 504L}) CHECK(IsRetryableAnswer(status, ""));
  for (const char* code :
       {"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"}) {
    CHECK(IsRetryableAnswer(400, code));
  }
  for (long status : {400L, 401L, 403L, 404L, 409L, 412L, 416L, 501L}) {
    CHECK_FALSE(IsRetryableAnswer(status, "AccessDenied"));
  }
}

TEST_CASE("Backoff doubles from the base and never overflows", "[unit][s3]") {
  CHECK(BackoffCeiling(milliseconds(100), 1) == milliseconds(100));
  CHECK(BackoffCeiling(milliseconds(100), 2) == milliseconds(200));
  CHECK(BackoffCeiling(milliseconds(100), 4) == milliseconds(800));
  CHECK(BackoffCeiling(milliseconds(100), 1000) == milliseconds(int64_t{1} << 40));
}

TEST_CASE("RetrySchedule stops after max_retries, with waits within the ceiling", "[unit][s3]") {
  RetrySchedule schedule({3, milliseconds(100), milliseconds(3600000)});
  for (uint32_t retry = 1; retry <= 3; ++retry) {
    auto delay = schedule.NextDelay();
    REQUIRE(delay);
    CHECK(*delay >= milliseconds(0));
    CHECK(*delay <= BackoffCeiling(milliseconds(100), retry));
  }
  CHECK_FALSE(schedule.NextDelay());
  CHECK(schedule.retries() == 3);
}

TEST_CASE("RetrySchedule starts no attempt after max_retry_time", "[unit][s3]") {
  const auto start = RetrySchedule::Clock::now();
  RetrySchedule schedule({100, milliseconds(0), milliseconds(1000)}, start);
  CHECK(schedule.NextDelay(start + milliseconds(999)));
  CHECK_FALSE(schedule.NextDelay(start + milliseconds(1001)));
}

TEST_CASE("S3 errors map onto ocireg's codes, with code, message and request id", "[unit][s3]") {
  using ocireg::ErrorCode;
  HttpResponse response;
  response.status = 503;
  response.headers = {{"x-amz-request-id", "tx123"}};
  ErrorBody slow{"SlowDown", "Please reduce your request rate.", "ignored"};
  ocireg::Status status = S3ErrorStatus("GetObject", "a/b", response, slow);
  CHECK(status.code() == ErrorCode::kUnavailable);
  CHECK(status.message() ==
        "S3 GetObject a/b: 503 SlowDown: Please reduce your request rate. (request id tx123)");

  response.status = 403;
  CHECK(S3ErrorStatus("PutObject", "k", response, ErrorBody{"SignatureDoesNotMatch", "", ""})
            .Is(ErrorCode::kDenied));
  response.status = 404;
  // A bucket gone is an outage, not a missing object; HeadBucket (no body) says only 404.
  status = S3ErrorStatus("GetObject", "k", response, ErrorBody{"NoSuchBucket", "", ""});
  CHECK(status.Is(ErrorCode::kUnavailable));
  CHECK(status.message().find("NoSuchBucket") != std::string::npos);
  CHECK(S3ErrorStatus("HeadBucket", "", response, std::nullopt).Is(ErrorCode::kNotFound));
  CHECK(S3ErrorStatus("HeadObject", "k", response, std::nullopt).Is(ErrorCode::kNotFound));
  response.status = 412;
  CHECK(S3ErrorStatus("PutObject", "k", response, std::nullopt).Is(ErrorCode::kAlreadyExists));
  response.status = 400;
  CHECK(S3ErrorStatus("PutObject", "k", response, ErrorBody{"InvalidArgument", "", ""})
            .Is(ErrorCode::kUnavailable));

  HttpResponse silent;
  silent.transport_error = "Timeout was reached";
  status = S3ErrorStatus("GetObject", "k", silent, std::nullopt);
  CHECK(status.Is(ErrorCode::kUnavailable));
  CHECK(status.message() == "S3 GetObject k: no answer: Timeout was reached");
}
