// SPDX-License-Identifier: Apache-2.0
// RedisCoordination: Coordination (ocireg/storage/coordination.h) kept in a Redis server. Its keys,
// all under the configured prefix P:
//   P mark:<repository>   a random token, replaced by every change of the repository's index
//   P catalog-mark        the same for the list of repositories
//   P in-use              sorted set: content digest -> when a writer last announced it (ms)
//   P claims              hash: content digest -> when a collector's claim on it ends (ms)
//   P lease:<job>         "<node>/<random>" of the lease holder, expiring after lease_ttl
//   P gc-started          when the last garbage collection took its lease (ms)
// The checks that must not interleave (announce versus claim, a claim versus a lost lease) are Lua
// scripts, which Redis runs atomically; times in them are the Redis server's clock, the one
// clock every replica then agrees on.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cluster/redis_client.h"
#include "ocireg/storage/coordination.h"

namespace ocireg::internal {

class RedisCoordination final : public Coordination,
                                public std::enable_shared_from_this<RedisCoordination> {
 public:
  RedisCoordination(RedisCoordinationOptions options, RedisConnectOptions connect);

  Result<std::string> ChangeMark(std::string_view scope) override;
  Status PublishChange(std::string_view scope) override;
  Status UseContent(const Digest& digest) override;
  Result<bool> ClaimContent(const Lease& lease, const Digest& digest) override;
  void ReleaseContent(const Digest& digest) override;
  Result<std::unique_ptr<Lease>> AcquireLease(std::string_view name) override;
  std::vector<DriverCounter> Counters() override;

  // Content announced in use since this long before a collection started is protected from its
  // claims. It must outlast the time between a writer's announcement and the index write that
  // references the content (a single request), so that a push under way when the collection
  // read the repositories is kept.
  static constexpr std::chrono::minutes kInUseWindow{10};

 private:
  std::string Key(std::string_view name) const { return options_.key_prefix + std::string(name); }
  std::string MarkKey(std::string_view scope) const;

  const RedisCoordinationOptions options_;
  RedisClient client_;
};

// A random token of 32 hex digits.
std::string RandomToken();

}  // namespace ocireg::internal
