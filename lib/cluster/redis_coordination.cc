// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_coordination.h"

#include <openssl/rand.h>

#include <thread>

#include "cluster/redis_lease.h"
#include "ocireg/server.h"

namespace ocireg::internal {
namespace {

using std::chrono::milliseconds;

// Records that content ARGV[1] is in use now, unless a collector's claim on it is running: 1 when
// recorded, 0 when claimed. Entries are trimmed on the way once older than ARGV[2] ms before now,
// or before the start of the last collection (KEYS[3]) when that is earlier: a collection keeps
// what was used since shortly before it started.
constexpr const char* kUseScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local claim = redis.call('HGET', KEYS[2], ARGV[1])
if claim and tonumber(claim) > now then return 0 end
redis.call('ZADD', KEYS[1], now, ARGV[1])
local since = math.min(now, tonumber(redis.call('GET', KEYS[3]) or now))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', since - tonumber(ARGV[2]))
return 1
)lua";

// Records the start of a collection (now, on Redis's clock) in KEYS[1] for a day at most.
constexpr const char* kCollectionStartScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[1], now, 'PX', 86400000)
return now
)lua";

// The token of mark KEYS[1]; one with token ARGV[1] when there is none.
constexpr const char* kMarkScript = R"lua(
local token = redis.call('GET', KEYS[1])
if token then return token end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]
)lua";

// For the holder of lease KEYS[3] (token ARGV[3]): claims content ARGV[1] for ARGV[4] ms unless it
// was recorded in use since ARGV[2] ms before the collection started (KEYS[4]). 1 claimed, 0 in
// use, -1 the lease is not the caller's. A use after the start counts however long the collection
// has run: the content store's files are not touched by a link on every driver, so a blob linked
// after the collection read the repositories looks unreferenced to it until its end.
constexpr const char* kClaimScript = R"lua(
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local since = math.min(now, tonumber(redis.call('GET', KEYS[4]) or now))
local used = redis.call('ZSCORE', KEYS[1], ARGV[1])
if used and tonumber(used) > since - tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], now + tonumber(ARGV[4]))
return 1
)lua";

// How often a writer asks again while a collector claims the content it wants.
constexpr milliseconds kClaimPoll{50};

std::string Millis(std::chrono::milliseconds duration) { return std::to_string(duration.count()); }

Status Refused(const RedisReply& reply) { return Unavailable("redis: " + reply.text); }

}  // namespace

std::string RandomToken() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // Never expected; a token from the clock and the thread still differs between writers.
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return std::to_string(now) + "-" +
           std::to_string(std::hash<std::thread::id>()(std::this_thread::get_id()));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token.push_back(kHex[b >> 4]);
    token.push_back(kHex[b & 15]);
  }
  return token;
}

RedisCoordination::RedisCoordination(RedisCoordinationOptions options, RedisConnectOptions connect)
    : options_(std::move(options)), client_(std::move(connect)) {}

std::string RedisCoordination::MarkKey(std::string_view scope) const {
  return scope.empty() ? Key("catalog-mark") : Key("mark:") + std::string(scope);
}

Result<std::string> RedisCoordination::ChangeMark(std::string_view scope) {
  std::string server_run;
  const std::string key = MarkKey(scope);
  auto reply = client_.Run({"GET", key}, &server_run);
  OCIREG_RETURN_IF_ERROR(reply);
  if (reply->is_nil()) {
    // No token: nothing changed since this Redis started, or it lost the key (FLUSHALL, an
    // eviction). A fixed "none" mark could then equal one read before a change and the loss, so
    // the scope gets a token now.
    reply = client_.Run({"EVAL", kMarkScript, "1", key, RandomToken()}, &server_run);
    OCIREG_RETURN_IF_ERROR(reply);
  }
  if (reply->type != RedisReply::Type::kString) return Refused(*reply);
  // The server's run_id is part of the mark: a Redis restarted from an older snapshot may hold a
  // token a reader saw long ago, which must not read as "unchanged".
  return server_run + ":" + reply->text;
}

Status RedisCoordination::PublishChange(std::string_view scope) {
  auto reply = client_.Run({"SET", MarkKey(scope), RandomToken()});
  OCIREG_RETURN_IF_ERROR(reply);
  if (reply->is_error()) return Refused(*reply);
  return Status::Ok();
}

Status RedisCoordination::UseContent(const Digest& digest) {
  const std::string window = Millis(kInUseWindow);
  // A claim ends with its removal, or lease_ttl after it was made when its holder died.
  const auto deadline = std::chrono::steady_clock::now() + options_.lease_ttl + kClaimPoll * 20;
  while (true) {
    auto reply = client_.Run({"EVAL", kUseScript, "3", Key("in-use"), Key("claims"),
                              Key("gc-started"), digest.ToString(), window});
    OCIREG_RETURN_IF_ERROR(reply);
    if (reply->type != RedisReply::Type::kInteger) return Refused(*reply);
    if (reply->integer == 1) return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Unavailable(digest.ToString() + " stays claimed by a garbage collection");
    }
    std::this_thread::sleep_for(kClaimPoll);
  }
}

Result<bool> RedisCoordination::ClaimContent(const Lease& lease, const Digest& digest) {
  if (!lease.Held()) return Unavailable("the garbage collection lease was lost");
  const std::string claim_ttl = Millis(options_.lease_ttl);
  auto reply = client_.Run({"EVAL", kClaimScript, "4", Key("in-use"), Key("claims"),
                            Key("lease:gc"), Key("gc-started"), digest.ToString(),
                            Millis(kInUseWindow), lease.token(), claim_ttl});
  OCIREG_RETURN_IF_ERROR(reply);
  if (reply->type != RedisReply::Type::kInteger) return Refused(*reply);
  if (reply->integer < 0) return Unavailable("the garbage collection lease was lost");
  return reply->integer == 1;
}

void RedisCoordination::ReleaseContent(const Digest& digest) {
  // A claim left behind (no answer now) ends by itself after lease_ttl.
  (void)client_.Run({"HDEL", Key("claims"), digest.ToString()});
}

Result<std::unique_ptr<Lease>> RedisCoordination::AcquireLease(std::string_view name) {
  auto lease = RedisLease::Acquire(shared_from_this(), client_, Key("lease:") + std::string(name),
                                   options_.node_name + "/" + RandomToken(), options_.lease_ttl);
  if (!lease.ok()) {
    return Status(lease.status().code(),
                  "the " + std::string(name) + " lease: " + lease.status().message());
  }
  if (name == "gc") {
    // Before anything is read: content used from shortly before now on is kept (kClaimScript).
    auto started = client_.Run({"EVAL", kCollectionStartScript, "1", Key("gc-started")});
    OCIREG_RETURN_IF_ERROR(started);
    if (started->type != RedisReply::Type::kInteger) return Refused(*started);
  }
  return std::unique_ptr<Lease>(std::move(*lease));
}

std::vector<DriverCounter> RedisCoordination::Counters() {
  DriverCounter requests{"ocireg_coordination_requests_total",
                         "Commands sent to Redis, by outcome (answered, or no answer).",
                         {}};
  requests.samples.push_back({{{"outcome", "answered"}}, static_cast<double>(client_.answered())});
  requests.samples.push_back({{{"outcome", "failed"}}, static_cast<double>(client_.failed())});
  return {requests};
}

namespace {

Result<RedisConnectOptions> ConnectOptionsOf(const RedisCoordinationOptions& options) {
  auto address = ParseRedisUrl(options.url);
  if (!address.ok()) return InvalidArgument("redis_url " + address.status().message());
  RedisConnectOptions connect;
  connect.address = std::move(*address);
  connect.password = options.password;
  connect.ca_file = options.ca_file;
  connect.tls_verify = options.tls_verify;
  connect.connect_timeout = options.connect_timeout;
  connect.command_timeout = options.command_timeout;
  return connect;
}

}  // namespace

}  // namespace ocireg::internal

namespace ocireg {

Result<std::shared_ptr<Coordination>> ConnectRedisCoordination(
    const RedisCoordinationOptions& options) {
  auto connect = internal::ConnectOptionsOf(options);
  OCIREG_RETURN_IF_ERROR(connect);
  RedisCoordinationOptions named = options;
  ClusterConfig cluster;  // NodeName's rule: the name given, else the host name
  cluster.node_name = named.node_name;
  named.node_name = NodeName(cluster);
  return std::shared_ptr<Coordination>(
      std::make_shared<internal::RedisCoordination>(std::move(named), std::move(*connect)));
}

Status CheckRedisReachable(const RedisCoordinationOptions& options) {
  auto connect = internal::ConnectOptionsOf(options);
  OCIREG_RETURN_IF_ERROR(connect);
  auto connection = internal::RedisConnection::Open(*connect);
  OCIREG_RETURN_IF_ERROR(connection);
  auto pong = (*connection)->Run({"PING"});
  OCIREG_RETURN_IF_ERROR(pong);
  if (pong->is_error())
    return Unavailable("redis at " + connect->address.ToString() + ": " + pong->text);
  return Status::Ok();
}

}  // namespace ocireg
