// SPDX-License-Identifier: Apache-2.0
// CachedProbe: a probe result reused for one period.
#include "http/cached_probe.h"

#include <utility>

namespace ocireg::internal {

CachedProbe::CachedProbe(std::function<Status()> probe, std::chrono::steady_clock::duration period,
                         Clock clock)
    : probe_(std::move(probe)),
      period_(period),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

Status CachedProbe::Check() {
  std::lock_guard lock(mu_);
  if (probed_at_ && clock_() - *probed_at_ < period_) return result_;
  result_ = probe_();
  // Stamped after the probe: a slow probe still serves its result for a whole period.
  probed_at_ = clock_();
  return result_;
}

}  // namespace ocireg::internal
