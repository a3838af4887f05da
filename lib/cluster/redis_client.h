// SPDX-License-Identifier: Apache-2.0
// RedisClient: commands to one Redis server from many threads, over a small pool of
// RedisConnections opened on demand.
//
// A connection that fails is dropped. A command that fails on a connection taken from the pool
// (the server may have restarted since it was last used) is sent once more on a new one, so
// commands must be safe to repeat: all of this registry's are (docs/cluster.md). While the server
// cannot be reached, commands fail at once for a short while after each failed connect instead of
// each waiting for the connect timeout.
//
// Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cluster/redis_connection.h"

namespace ocireg::internal {

class RedisClient {
 public:
  explicit RedisClient(RedisConnectOptions options) : options_(std::move(options)) {}

  // Runs `args` and returns the reply; `server_run`, when given, receives the run_id of the server
  // that answered. kUnavailable when no server answered; an error reply is returned as a reply.
  Result<RedisReply> Run(const std::vector<std::string>& args, std::string* server_run = nullptr);

  // Commands answered, and commands that got no answer, since the client was made.
  uint64_t answered() const { return answered_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }
  const RedisAddress& address() const { return options_.address; }

 private:
  // A pooled connection, or a new one.
  Result<std::unique_ptr<RedisConnection>> Take(bool& reused);
  void Give(std::unique_ptr<RedisConnection> connection);

  static constexpr size_t kMaxIdle = 16;
  static constexpr std::chrono::milliseconds kFailFast{250};

  const RedisConnectOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_;
  std::chrono::steady_clock::time_point last_failed_connect_{};
  Status last_connect_error_;
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> failed_{0};
};

}  // namespace ocireg::internal
