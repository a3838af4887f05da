// SPDX-License-Identifier: Apache-2.0
// RedisLease: a Lease (ocireg/storage/coordination.h) held as a Redis key that expires after
// lease_ttl, renewed by a thread of its own every lease_ttl / 6 while it is held.
//
// Held() is judged on this process's clock, conservatively: from when the last renewal that
// succeeded was sent, the key lives lease_ttl on the server; the holder stops calling itself the
// holder a third of lease_ttl before that, which leaves the rest for the clocks' drift and the
// last step it started.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/redis_client.h"
#include "ocireg/storage/coordination.h"

namespace ocireg::internal {

class RedisLease final : public Lease {
 public:
  // Takes key `key` for `token`; kAlreadyExists naming the holder when another holds it,
  // kUnavailable when Redis does not answer. `owner`
  // keeps `client` alive as long as the lease.
  static Result<std::unique_ptr<RedisLease>> Acquire(std::shared_ptr<void> owner,
                                                     RedisClient& client, std::string key,
                                                     std::string token, std::chrono::seconds ttl);
  ~RedisLease() override;

  bool Held() const override;
  const std::string& token() const override { return token_; }

 private:
  RedisLease(std::shared_ptr<void> owner, RedisClient& client, std::string key, std::string token,
             std::chrono::seconds ttl, std::chrono::steady_clock::time_point acquired);
  void RenewUntilReleased();
  // One renewal: true when the key is still ours (and now extended).
  Result<bool> Renew();

  std::shared_ptr<void> owner_;
  RedisClient& client_;
  const std::string key_;
  const std::string token_;
  const std::chrono::seconds ttl_;
  std::atomic<int64_t> renewed_at_ns_;  // steady_clock, when the last good renewal was sent
  std::atomic<bool> lost_{false};       // the key names another holder: never held again
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread renewer_;
};

}  // namespace ocireg::internal
