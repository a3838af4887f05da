// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_client.h"

namespace ocireg::internal {

Result<std::unique_ptr<RedisConnection>> RedisClient::Take(bool& reused) {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      reused = true;
      return connection;
    }
    if (std::chrono::steady_clock::now() - last_failed_connect_ < kFailFast) {
      return last_connect_error_;
    }
  }
  reused = false;
  auto opened = RedisConnection::Open(options_);
  if (!opened.ok()) {
    std::lock_guard lock(mu_);
    last_failed_connect_ = std::chrono::steady_clock::now();
    last_connect_error_ = opened.status();
  }
  return opened;
}

void RedisClient::Give(std::unique_ptr<RedisConnection> connection) {
  if (connection->broken()) return;
  std::lock_guard lock(mu_);
  if (idle_.size() < kMaxIdle) idle_.push_back(std::move(connection));
}

Result<RedisReply> RedisClient::Run(const std::vector<std::string>& args, std::string* server_run) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    bool reused = false;
    auto connection = Take(reused);
    if (!connection.ok()) break;
    auto reply = (*connection)->Run(args);
    if (reply.ok()) {
      if (server_run != nullptr) *server_run = (*connection)->server_run();
      Give(std::move(*connection));
      answered_.fetch_add(1, std::memory_order_relaxed);
      return reply;
    }
    // A fresh connection that fails says the server is in trouble now: no second try.
    if (!reused) {
      failed_.fetch_add(1, std::memory_order_relaxed);
      return reply.status();
    }
    // The server may have restarted since the pooled connections were opened: none is trusted.
    std::lock_guard lock(mu_);
    idle_.clear();
  }
  failed_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  return last_connect_error_.ok()
             ? Unavailable("redis at " + options_.address.ToString() + ": no answer")
             : last_connect_error_;
}

}  // namespace ocireg::internal
