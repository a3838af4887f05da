// SPDX-License-Identifier: Apache-2.0
// FailureThrottle: slows down guessing of passwords by counting failed logins per client address.
//
// After `limit` failures from one address within `window`, every further attempt from that
// address waits `delay`, doubled for each failure beyond the limit, up to `max_delay`. Counting
// per address (not per connection) means parallel connections do not multiply the guessing rate:
// each of their failures doubles the wait for all. A success from the address clears its count.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ocireg::internal {

class FailureThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  // limit 0 turns the throttle off.
  FailureThrottle(uint32_t limit, std::chrono::seconds window, std::chrono::seconds delay,
                  std::chrono::seconds max_delay);

  // How long an attempt from `address` should wait before its credentials are checked.
  std::chrono::milliseconds DelayFor(std::string_view address, Clock::time_point now) const;
  void RecordFailure(std::string_view address, Clock::time_point now);
  void RecordSuccess(std::string_view address);

  // Addresses currently tracked (bounded: see kMaxTracked).
  size_t tracked() const;

 private:
  struct Failures {
    uint32_t count = 0;
    Clock::time_point first;
  };
  // Beyond this many addresses, expired entries are purged; if none expired, the map is cleared,
  // so a flood of addresses cannot exhaust memory (it can only reset the counts).
  static constexpr size_t kMaxTracked = 65536;

  const uint32_t limit_;
  const Clock::duration window_;
  const std::chrono::milliseconds delay_;
  const std::chrono::milliseconds max_delay_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Failures> failures_;
};

}  // namespace ocireg::internal
