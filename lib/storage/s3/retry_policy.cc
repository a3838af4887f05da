// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/retry_policy.h"

#include <algorithm>
#include <array>
#include <random>

namespace ocireg::internal::s3 {

namespace {

// A random wait in [0, ceiling]: each thread its own generator, seeded once.
std::chrono::milliseconds FullJitter(std::chrono::milliseconds ceiling) {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(0, ceiling.count());
  return std::chrono::milliseconds(pick(generator));
}

}  // namespace

bool IsRetryableAnswer(long http_status, std::string_view code) {
  static constexpr std::array<std::string_view, 5> kTransientCodes = {
      "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable", "Throttling"};
  for (std::string_view transient : kTransientCodes) {
    if (code == transient) return true;
  }
  return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
         http_status == 504;
}

std::chrono::milliseconds BackoffCeiling(std::chrono::milliseconds base, uint32_t retry) {
  constexpr int64_t kLongest = int64_t{1} << 40;  // ms: ~35 years, far past any max_time
  int64_t ceiling = std::max<int64_t>(base.count(), 0);
  for (uint32_t i = 1; i < retry && ceiling < kLongest; ++i) ceiling *= 2;
  return std::chrono::milliseconds(std::min(ceiling, kLongest));
}

std::optional<std::chrono::milliseconds> RetrySchedule::NextDelay(Clock::time_point now) {
  if (retries_ >= policy_.max_retries) return std::nullopt;
  const std::chrono::milliseconds delay =
      FullJitter(BackoffCeiling(policy_.base_delay, retries_ + 1));
  if (now + delay - start_ > policy_.max_time) return std::nullopt;
  ++retries_;
  return delay;
}

}  // namespace ocireg::internal::s3
