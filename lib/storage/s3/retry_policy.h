// SPDX-License-Identifier: Apache-2.0
// When S3Client tries a request again, and how long it waits first.
//
// Only failures that say "try later" are retried: no answer at all (a transport error or timeout),
// HTTP 500, 502, 503 and 504, 429, and the S3 codes of throttling and transient trouble
// (SlowDown, RequestTimeout, InternalError, ServiceUnavailable, Throttling), whatever the status
// that carries them. Every other 4xx is the request's own fault and is final.
//
// The waits use exponential backoff with full jitter: before retry n (from 1) a uniform random
// wait in [0, base x 2^(n-1)], so that clients throttled together do not come back together.
// No retry starts later than max_time after the first attempt.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace ocireg::internal::s3 {

// Whether an answer of `http_status` with S3 error `code` (may be empty) is worth another try.
bool IsRetryableAnswer(long http_status, std::string_view code);

struct RetryPolicy {
  uint32_t max_retries = 5;
  std::chrono::milliseconds base_delay{100};
  std::chrono::milliseconds max_time{30000};
};

// The retries of one operation. Not thread-safe: one per call.
class RetrySchedule {
 public:
  using Clock = std::chrono::steady_clock;

  explicit RetrySchedule(const RetryPolicy& policy, Clock::time_point start = Clock::now())
      : policy_(policy), start_(start) {}

  // The wait before the next attempt, or nullopt when none may be made: max_retries reached, or
  // the attempt would start more than max_time after the first one.
  std::optional<std::chrono::milliseconds> NextDelay(Clock::time_point now = Clock::now());

  uint32_t retries() const { return retries_; }

 private:
  RetryPolicy policy_;
  Clock::time_point start_;
  uint32_t retries_ = 0;
};

// The longest wait before retry `retry` (from 1): base x 2^(retry-1), without overflow.
std::chrono::milliseconds BackoffCeiling(std::chrono::milliseconds base, uint32_t retry);

}  // namespace ocireg::internal::s3
