// SPDX-License-Identifier: Apache-2.0
// CachedProbe: runs a costly health check at most once per period and shares its result.
//
// Why: GET /readyz needs no login and its probe writes and fsyncs a file, so without a cache
// every request costs the disk two flushes and a client can keep it busy at will. A readiness
// answer a second old is as good to a load balancer as a fresh one.
//
// Thread-safety: Check may be called concurrently; callers that arrive while the probe runs wait
// for it and share its result, so at most one probe runs at a time.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>

#include "ocireg/status.h"

namespace ocireg::internal {

class CachedProbe {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // `probe` is called at most once per `period` of `clock` (default: steady_clock::now).
  CachedProbe(std::function<Status()> probe, std::chrono::steady_clock::duration period,
              Clock clock = nullptr);
  CachedProbe(const CachedProbe&) = delete;
  CachedProbe& operator=(const CachedProbe&) = delete;

  // The result of the latest probe when it is younger than the period, else of a new one.
  Status Check();

 private:
  const std::function<Status()> probe_;
  const std::chrono::steady_clock::duration period_;
  const Clock clock_;

  std::mutex mu_;  // held while probing, so that concurrent callers share one probe
  std::optional<std::chrono::steady_clock::time_point> probed_at_;
  Status result_;
};

}  // namespace ocireg::internal
