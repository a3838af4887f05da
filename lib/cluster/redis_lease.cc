// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_lease.h"

namespace ocireg::internal {
namespace {

using std::chrono::steady_clock;

// Extends the key's life while it still names this holder.
constexpr const char* kRenewScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
)lua";

// Removes the key while it still names this holder.
constexpr const char* kReleaseScript = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

int64_t Nanoseconds(steady_clock::time_point at) { return at.time_since_epoch().count(); }

std::string Milliseconds(std::chrono::seconds ttl) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count());
}

// The node part of a holder's token "<node>/<random>".
std::string HolderName(const std::string& token) { return token.substr(0, token.rfind('/')); }

}  // namespace

Result<std::unique_ptr<RedisLease>> RedisLease::Acquire(std::shared_ptr<void> owner,
                                                        RedisClient& client, std::string key,
                                                        std::string token,
                                                        std::chrono::seconds ttl) {
  const auto sent = steady_clock::now();
  auto reply = client.Run({"SET", key, token, "NX", "PX", Milliseconds(ttl)});
  OCIREG_RETURN_IF_ERROR(reply);
  if (reply->is_error()) return Unavailable("redis refused the lease: " + reply->text);
  if (reply->is_nil()) {
    auto holder = client.Run({"GET", key});
    const std::string who = holder.ok() && holder->type == RedisReply::Type::kString
                                ? HolderName(holder->text)
                                : "another replica";
    return AlreadyExists("held by " + who);
  }
  return std::unique_ptr<RedisLease>(
      new RedisLease(std::move(owner), client, std::move(key), std::move(token), ttl, sent));
}

RedisLease::RedisLease(std::shared_ptr<void> owner, RedisClient& client, std::string key,
                       std::string token, std::chrono::seconds ttl,
                       steady_clock::time_point acquired)
    : owner_(std::move(owner)),
      client_(client),
      key_(std::move(key)),
      token_(std::move(token)),
      ttl_(ttl),
      renewed_at_ns_(Nanoseconds(acquired)) {
  renewer_ = std::thread([this] { RenewUntilReleased(); });
}

RedisLease::~RedisLease() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  renewer_.join();
  // A release that gets no answer leaves the key to expire after lease_ttl.
  if (!lost_) (void)client_.Run({"EVAL", kReleaseScript, "1", key_, token_});
}

bool RedisLease::Held() const {
  if (lost_) return false;
  const auto renewed = steady_clock::time_point(steady_clock::duration(renewed_at_ns_.load()));
  return steady_clock::now() - renewed < ttl_ * 2 / 3;
}

Result<bool> RedisLease::Renew() {
  auto reply = client_.Run({"EVAL", kRenewScript, "1", key_, token_, Milliseconds(ttl_)});
  OCIREG_RETURN_IF_ERROR(reply);
  if (reply->type != RedisReply::Type::kInteger) return Unavailable("redis: " + reply->text);
  return reply->integer == 1;
}

void RedisLease::RenewUntilReleased() {
  const auto period = std::chrono::duration_cast<steady_clock::duration>(ttl_) / 6;
  std::unique_lock lock(mu_);
  while (!stop_cv_.wait_for(lock, period, [this] { return stop_; })) {
    lock.unlock();
    const auto sent = steady_clock::now();
    auto renewed = Renew();
    if (renewed.ok() && *renewed) {
      renewed_at_ns_ = Nanoseconds(sent);
    } else if (renewed.ok()) {
      lost_ = true;  // expired and maybe taken: this holding is over
    }
    lock.lock();
    if (lost_) return;
  }
}

}  // namespace ocireg::internal
