// SPDX-License-Identifier: Apache-2.0
// What the tests of the Redis coordination share: options with short timeouts and the shortest
// lease, connecting, timing, and claiming.
#pragma once

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "catch.h"
#include "certificates.h"
#include "loopback.h"
#include "ocireg/digest.h"
#include "ocireg/storage/coordination.h"
#include "process.h"
#include "redis.h"
#include "status_macros.h"
#include "temp_dir.h"

namespace ocireg::coordination_test {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::RedisServer;

// What every call must stay well under while Redis cannot answer: a connect and a command
// timeout of 300 ms each, with room for a loaded machine.
constexpr milliseconds kFailFastLimit{2000};

// Options for a replica named `node` of the Redis at `url`: short timeouts, the shortest lease.
inline RedisCoordinationOptions OptionsFor(const std::string& url, const std::string& node,
                                           const std::string& password = "") {
  RedisCoordinationOptions options;
  options.url = url;
  options.password = password;
  options.node_name = node;
  options.connect_timeout = milliseconds(300);
  options.command_timeout = milliseconds(300);
  options.lease_ttl = seconds(3);
  return options;
}

inline RedisCoordinationOptions OptionsFor(const RedisServer& redis, const std::string& node) {
  return OptionsFor(redis.url(), node, redis.password());
}

inline std::shared_ptr<Coordination> Connect(const RedisCoordinationOptions& options) {
  Result<std::shared_ptr<Coordination>> coordination = ConnectRedisCoordination(options);
  REQUIRE_OK(coordination);
  return *coordination;
}

inline Digest DigestOf(std::string_view text) {
  return Digester::Of(DigestAlgorithm::kSha256, text);
}

inline milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// Runs `call` and stores how long it took in `took`.
template <typename Call>
inline auto Timed(milliseconds& took, Call call) {
  const auto start = steady_clock::now();
  auto result = call();
  took = Since(start);
  return result;
}

// Calls `done` every 20 ms until it is true or `limit` has passed; how long that took, or nullopt.
template <typename Done>
inline std::optional<milliseconds> WaitUntil(milliseconds limit, Done done) {
  const auto start = steady_clock::now();
  while (Since(start) < limit) {
    if (done()) return Since(start);
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

// Claims `digest` for the holder of `lease`; the claim's answer, which must be one.
inline bool Claim(Coordination& collector, const Lease& lease, const Digest& digest) {
  Result<bool> claimed = collector.ClaimContent(lease, digest);
  REQUIRE_OK(claimed);
  return *claimed;
}

}  // namespace ocireg::coordination_test
