// SPDX-License-Identifier: Apache-2.0
// FailureThrottle: per-address counts of failed logins within a window.
#include "auth/failure_throttle.h"

#include <algorithm>

namespace ocireg::internal {

using std::chrono::milliseconds;

FailureThrottle::FailureThrottle(uint32_t limit, std::chrono::seconds window,
                                 std::chrono::seconds delay, std::chrono::seconds max_delay)
    : limit_(limit), window_(window), delay_(delay), max_delay_(max_delay) {}

milliseconds FailureThrottle::DelayFor(std::string_view address, Clock::time_point now) const {
  if (limit_ == 0) return milliseconds(0);
  std::lock_guard lock(mutex_);
  auto it = failures_.find(std::string(address));
  if (it == failures_.end() || now - it->second.first > window_) return milliseconds(0);
  if (it->second.count < limit_) return milliseconds(0);
  // Doubling from delay_ for each failure beyond the limit; the shift is bounded so it cannot
  // overflow before the cap applies.
  const uint32_t doublings = std::min<uint32_t>(it->second.count - limit_, 20);
  return std::min<milliseconds>(delay_ * (int64_t{1} << doublings), max_delay_);
}

void FailureThrottle::RecordFailure(std::string_view address, Clock::time_point now) {
  if (limit_ == 0) return;
  std::lock_guard lock(mutex_);
  if (failures_.size() >= kMaxTracked) {
    std::erase_if(failures_, [&](const auto& entry) { return now - entry.second.first > window_; });
    if (failures_.size() >= kMaxTracked) failures_.clear();
  }
  Failures& entry = failures_[std::string(address)];
  if (entry.count == 0 || now - entry.first > window_) entry = Failures{0, now};
  ++entry.count;
}

void FailureThrottle::RecordSuccess(std::string_view address) {
  if (limit_ == 0) return;
  std::lock_guard lock(mutex_);
  failures_.erase(std::string(address));
}

size_t FailureThrottle::tracked() const {
  std::lock_guard lock(mutex_);
  return failures_.size();
}

}  // namespace ocireg::internal
