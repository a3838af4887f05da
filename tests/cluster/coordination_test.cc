// SPDX-License-Identifier: Apache-2.0
// The Redis coordination (ocireg/storage/coordination.h) against a private redis-server: change
// marks, content in use against a collector's claims, leases, and Redis that goes away, hangs,
// restarts, forgets, wants a password or speaks TLS.
#include "ocireg/storage/coordination.h"

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
#include "process.h"
#include "redis.h"
#include "status_macros.h"
#include "temp_dir.h"

namespace ocireg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::RedisServer;

// What every call must stay well under while Redis cannot answer: a connect and a command
// timeout of 300 ms each, with room for a loaded machine.
constexpr milliseconds kFailFastLimit{2000};

// Options for a replica named `node` of the Redis at `url`: short timeouts, the shortest lease.
RedisCoordinationOptions OptionsFor(const std::string& url, const std::string& node,
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

RedisCoordinationOptions OptionsFor(const RedisServer& redis, const std::string& node) {
  return OptionsFor(redis.url(), node, redis.password());
}

std::shared_ptr<Coordination> Connect(const RedisCoordinationOptions& options) {
  Result<std::shared_ptr<Coordination>> coordination = ConnectRedisCoordination(options);
  REQUIRE_OK(coordination);
  return *coordination;
}

Digest DigestOf(std::string_view text) { return Digester::Of(DigestAlgorithm::kSha256, text); }

milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// Runs `call` and stores how long it took in `took`.
template <typename Call>
auto Timed(milliseconds& took, Call call) {
  const auto start = steady_clock::now();
  auto result = call();
  took = Since(start);
  return result;
}

// Calls `done` every 20 ms until it is true or `limit` has passed; how long that took, or nullopt.
template <typename Done>
std::optional<milliseconds> WaitUntil(milliseconds limit, Done done) {
  const auto start = steady_clock::now();
  while (Since(start) < limit) {
    if (done()) return Since(start);
    std::this_thread::sleep_for(milliseconds(20));
  }
  return std::nullopt;
}

// Claims `digest` for the holder of `lease`; the claim's answer, which must be one.
bool Claim(Coordination& collector, const Lease& lease, const Digest& digest) {
  Result<bool> claimed = collector.ClaimContent(lease, digest);
  REQUIRE_OK(claimed);
  return *claimed;
}

TEST_CASE("a change mark moves on every change of its scope, and never comes back", "[redis]") {
  RedisServer redis;
  auto reader = Connect(OptionsFor(redis, "reader"));
  auto writer = Connect(OptionsFor(redis, "writer"));
  // Every value each scope's mark has had; "" is the list of repositories.
  const std::vector<std::string> scopes = {"", "team/app", "team/other", "team/idle"};
  std::map<std::string, std::set<std::string>> seen;
  std::map<std::string, std::string> current;
  auto read = [&](const std::string& scope) {
    Result<std::string> mark = reader->ChangeMark(scope);
    REQUIRE_OK(mark);
    return *mark;
  };
  // Reads every scope's mark: each must be what it was unless `moved` names it, and then new.
  auto check_all = [&](const std::set<std::string>& moved) {
    for (const std::string& scope : scopes) {
      INFO("scope \"" << scope << "\"");
      const std::string mark = read(scope);
      CHECK(!mark.empty());
      if (moved.contains(scope)) {
        CHECK(mark != current[scope]);
        CHECK_FALSE(seen[scope].contains(mark));
      } else {
        CHECK(mark == current[scope]);
      }
      seen[scope].insert(mark);
      current[scope] = mark;
    }
  };
  for (const std::string& scope : scopes) {
    current[scope] = read(scope);
    seen[scope].insert(current[scope]);
    // Every replica reads the same mark.
    Result<std::string> same = writer->ChangeMark(scope);
    REQUIRE_OK(same);
    CHECK(*same == current[scope]);
  }
  // Scopes have marks of their own, also before any change.
  CHECK(std::set<std::string>{current[""], current["team/app"], current["team/other"],
                              current["team/idle"]}
            .size() == scopes.size());

  SECTION("every change moves its own scope's mark alone") {
    for (int i = 0; i < 20; ++i) {
      const std::string& scope = scopes[static_cast<size_t>(i) % 3];  // team/idle never changes
      REQUIRE_OK(writer->PublishChange(scope));
      check_all({scope});
    }
    // Marks of scopes that changed differ from each other.
    CHECK(current[""] != current["team/app"]);
    CHECK(current["team/app"] != current["team/other"]);
  }

  SECTION("a restarted Redis gives new marks, even for the keys it kept") {
    REQUIRE_OK(writer->PublishChange("team/app"));
    check_all({"team/app"});
    for (int restart = 0; restart < 2; ++restart) {
      redis.Restart();
      // The pooled connections are dead: the first call of each side goes through regardless.
      check_all({"", "team/app", "team/other", "team/idle"});
      REQUIRE_OK(writer->PublishChange("team/app"));
      check_all({"team/app"});
    }
  }

  SECTION("a Redis that lost its keys gives new marks, not ones read before") {
    // Reads every scope's mark after Redis lost its keys: a scope that had changed must not read
    // as any mark it had before (a replica holding a copy of the index from then would take it
    // for current); one that never changed may keep its mark or get a new one.
    auto check_after_loss = [&](const std::set<std::string>& changed) {
      for (const std::string& scope : scopes) {
        INFO("scope \"" << scope << "\"");
        const std::string mark = read(scope);
        if (changed.contains(scope) || mark != current[scope]) {
          CHECK_FALSE(seen[scope].contains(mark));
        }
        seen[scope].insert(mark);
        current[scope] = mark;
      }
    };
    // Each scope was read at least once as never changed; two of them change now.
    REQUIRE_OK(writer->PublishChange("team/app"));
    REQUIRE_OK(writer->PublishChange(""));
    check_all({"team/app", ""});
    redis.FlushAll();
    check_after_loss({"team/app", ""});
    REQUIRE_OK(writer->PublishChange("team/other"));
    check_all({"team/other"});
    // Lost again, and then restarted: still nothing old.
    redis.FlushAll();
    check_after_loss({"team/app", "", "team/other"});
    redis.Restart();
    check_all({"", "team/app", "team/other", "team/idle"});
    REQUIRE_OK(writer->PublishChange("team/idle"));
    check_all({"team/idle"});
  }
}

TEST_CASE("coordination fails fast while Redis is down or hung and recovers by itself", "[redis]") {
  RedisServer redis;
  const Digest digest = DigestOf("content");
  // Made while Redis is down: connecting is lazy.
  redis.Stop();
  auto coordination = Connect(OptionsFor(redis, "replica"));
  redis.Start();

  // Each call either answers or fails with kUnavailable within kFailFastLimit.
  auto all_fail_fast = [&] {
    milliseconds took{};
    Result<std::string> mark = Timed(took, [&] { return coordination->ChangeMark("team/app"); });
    CHECK_CODE(mark, ErrorCode::kUnavailable);
    CHECK(mark.status().message().find("redis") != std::string::npos);
    CHECK(took < kFailFastLimit);
    Status published = Timed(took, [&] { return coordination->PublishChange("team/app"); });
    CHECK_CODE(published, ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
    Status used = Timed(took, [&] { return coordination->UseContent(digest); });
    CHECK_CODE(used, ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
    auto lease = Timed(took, [&] { return coordination->AcquireLease("gc"); });
    CHECK_CODE(lease, ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
  };
  // After Redis is back, each call works again within a couple of seconds.
  auto all_work_again = [&] {
    const std::optional<milliseconds> back =
        WaitUntil(seconds(3), [&] { return coordination->ChangeMark("team/app").ok(); });
    REQUIRE(back);
    CHECK_OK(coordination->PublishChange("team/app"));
    CHECK_OK(coordination->UseContent(digest));
    auto lease = coordination->AcquireLease("gc");
    CHECK_OK(lease);
  };
  auto requests = [&](const std::string& outcome) {
    for (const DriverCounter& counter : coordination->Counters()) {
      if (counter.name != "ocireg_coordination_requests_total") continue;
      for (const auto& sample : counter.samples) {
        const auto label = std::pair<std::string, std::string>("outcome", outcome);
        if (sample.labels == std::vector{label}) return sample.value;
      }
    }
    FAIL("no ocireg_coordination_requests_total{outcome=\"" << outcome << "\"}");
    return 0.0;
  };

  REQUIRE_OK(coordination->ChangeMark("team/app"));  // a pooled connection to find broken
  const double failed_before = requests("failed");
  CHECK(requests("answered") >= 1);

  SECTION("stopped: connections refused") {
    redis.Stop();
    for (int round = 0; round < 3; ++round) all_fail_fast();
    CHECK(requests("failed") > failed_before);
    redis.Start();
    all_work_again();
  }

  SECTION("paused: connections accepted, nothing answered") {
    redis.Pause();
    for (int round = 0; round < 3; ++round) all_fail_fast();
    redis.Resume();
    all_work_again();
  }

  SECTION("a failure in the middle of a run of calls ends with the outage") {
    for (int cycle = 0; cycle < 2; ++cycle) {
      redis.Pause();
      all_fail_fast();
      redis.Resume();
      all_work_again();
      redis.Stop();
      all_fail_fast();
      redis.Start();
      all_work_again();
    }
  }
}

TEST_CASE("content in use cannot be claimed; claimed content makes its user wait", "[redis]") {
  RedisServer redis;
  auto writer = Connect(OptionsFor(redis, "writer"));
  auto collector = Connect(OptionsFor(redis, "collector"));
  auto lease = collector->AcquireLease("gc");
  REQUIRE_OK(lease);
  const Lease& held = **lease;

  SECTION("used since shortly before the collection started: kept however long it runs") {
    // Redis's clock, in ms, as the scripts read it.
    const auto time = [&] {
      const std::string reply = redis.Command({"TIME"});
      const size_t newline = reply.find('\n');
      return std::stoll(reply.substr(0, newline)) * 1000 +
             std::stoll(reply.substr(newline + 1)) / 1000;
    };
    const long long now = time();
    // The collection started half an hour ago; one blob was announced 15 minutes ago (after
    // that start), another 45 minutes ago (more than ten minutes before it).
    REQUIRE(redis.Command({"SET", "ocireg:gc-started", std::to_string(now - 30 * 60'000)}) == "OK");
    const Digest during = DigestOf("linked during the collection");
    const Digest before = DigestOf("linked long before it");
    REQUIRE(redis.Command({"ZADD", "ocireg:in-use", std::to_string(now - 15 * 60'000),
                           during.ToString()}) == "1");
    REQUIRE(redis.Command({"ZADD", "ocireg:in-use", std::to_string(now - 45 * 60'000),
                           before.ToString()}) == "1");
    // An announcement trims what the running collection no longer needs, and only that.
    REQUIRE_OK(writer->UseContent(DigestOf("another")));
    CHECK(redis.Command({"ZSCORE", "ocireg:in-use", during.ToString()}) != "");
    CHECK_FALSE(Claim(*collector, held, during));
    CHECK(Claim(*collector, held, before));
    collector->ReleaseContent(before);
  }

  SECTION("used lately: kept; never used: claimed") {
    const Digest used = DigestOf("used");
    const Digest unused = DigestOf("unused");
    REQUIRE_OK(writer->UseContent(used));
    CHECK_FALSE(Claim(*collector, held, used));
    CHECK(Claim(*collector, held, unused));
    collector->ReleaseContent(unused);
    // Asking again changes nothing: a use is remembered, a claim released is gone.
    CHECK_FALSE(Claim(*collector, held, used));
    CHECK(Claim(*collector, held, unused));
    collector->ReleaseContent(unused);
  }

  SECTION("a use waits while the content is claimed, until the claim is released") {
    const Digest digest = DigestOf("claimed");
    REQUIRE(Claim(*collector, held, digest));
    std::atomic<bool> returned{false};
    Status used;
    milliseconds waited{};
    std::thread user([&] {
      used = Timed(waited, [&] { return writer->UseContent(digest); });
      returned = true;
    });
    std::this_thread::sleep_for(milliseconds(700));
    CHECK_FALSE(returned.load());
    collector->ReleaseContent(digest);
    user.join();
    CHECK_OK(used);
    CHECK(waited >= milliseconds(500));
    CHECK(waited < milliseconds(700) + kFailFastLimit);
    // It is in use now: the next collection keeps it.
    CHECK_FALSE(Claim(*collector, held, digest));
  }

  SECTION("a claim its holder never releases ends lease_ttl after it was made") {
    const Digest digest = DigestOf("abandoned");
    const auto claimed_at = steady_clock::now();
    REQUIRE(Claim(*collector, held, digest));
    Status used = writer->UseContent(digest);
    const milliseconds waited = Since(claimed_at);
    CHECK_OK(used);
    CHECK(waited >= milliseconds(2900));
    CHECK(waited < milliseconds(3000) + kFailFastLimit);
  }

  SECTION("a claim under a lease that is no longer the holder's is refused (fencing)") {
    const Digest digest = DigestOf("fenced");
    // Another holder took the key (as after this one's expiry): refused at once, before the
    // renewal finds out, and nothing was claimed.
    REQUIRE(redis.Command({"SET", "ocireg:lease:gc", "intruder/0123456789"}) == "OK");
    Result<bool> claimed = collector->ClaimContent(held, digest);
    CHECK_CODE(claimed, ErrorCode::kUnavailable);
    CHECK(claimed.status().message().find("lease") != std::string::npos);
    CHECK(redis.Command({"HEXISTS", "ocireg:claims", digest.ToString()}) == "0");
    milliseconds took{};
    CHECK_OK(Timed(took, [&] { return writer->UseContent(digest); }));
    CHECK(took < kFailFastLimit);  // not the 3 s of a claim
    // The renewal finds out too, and the lease is never held again.
    CHECK(WaitUntil(seconds(2), [&] { return !held.Held(); }));
    REQUIRE(redis.Command({"DEL", "ocireg:lease:gc"}) == "1");
    CHECK_FALSE(held.Held());
    CHECK_CODE(collector->ClaimContent(held, digest), ErrorCode::kUnavailable);

    // A lease whose key was deleted is no longer the holder's either.
    auto again = collector->AcquireLease("gc");
    REQUIRE_OK(again);
    REQUIRE(redis.Command({"DEL", "ocireg:lease:gc"}) == "1");
    CHECK_CODE(collector->ClaimContent(**again, digest), ErrorCode::kUnavailable);
  }

  SECTION("only the gc lease claims: the scrub lease's token does not") {
    auto scrub = collector->AcquireLease("scrub");
    REQUIRE_OK(scrub);
    CHECK_CODE(collector->ClaimContent(**scrub, DigestOf("scrubbed")), ErrorCode::kUnavailable);
  }
}

TEST_CASE("registries with different key prefixes share one Redis without meeting", "[redis]") {
  RedisServer redis;
  RedisCoordinationOptions first = OptionsFor(redis, "first");
  RedisCoordinationOptions second = OptionsFor(redis, "second");
  second.key_prefix = "other-registry:";
  auto a = Connect(first);
  auto b = Connect(second);
  auto lease_a = a->AcquireLease("gc");
  REQUIRE_OK(lease_a);
  auto lease_b = b->AcquireLease("gc");
  REQUIRE_OK(lease_b);
  REQUIRE_OK(a->UseContent(DigestOf("shared")));
  CHECK(Claim(*b, **lease_b, DigestOf("shared")));
  b->ReleaseContent(DigestOf("shared"));
  const std::string before = *a->ChangeMark("team/app");
  REQUIRE_OK(b->PublishChange("team/app"));
  CHECK(*a->ChangeMark("team/app") == before);
  CHECK(redis.Command({"EXISTS", "other-registry:mark:team/app"}) == "1");
  CHECK(redis.Command({"EXISTS", "other-registry:lease:gc"}) == "1");
}

// Run only by "a lease whose holder dies..." below, in a child process: takes the gc lease of
// the Redis that OCIREG_TEST_LEASE_HOLDER_URL names, says so on stdout, and holds it until killed.
TEST_CASE("lease holder of a child process", "[.lease-holder]") {
  const char* url = getenv("OCIREG_TEST_LEASE_HOLDER_URL");
  REQUIRE(url != nullptr);
  auto coordination = Connect(OptionsFor(url, "doomed-node"));
  auto lease = coordination->AcquireLease("gc");
  REQUIRE_OK(lease);
  std::printf("lease held\n");
  std::fflush(stdout);
  std::this_thread::sleep_for(seconds(60));
}

TEST_CASE("a lease is one holder's at a time, renewed while held, freed when released", "[redis]") {
  RedisServer redis;
  auto a = Connect(OptionsFor(redis, "node-a"));
  auto b = Connect(OptionsFor(redis, "node-b"));
  auto lease = a->AcquireLease("gc");
  REQUIRE_OK(lease);
  CHECK((*lease)->Held());
  CHECK((*lease)->token().starts_with("node-a/"));
  CHECK(redis.Command({"GET", "ocireg:lease:gc"}) == (*lease)->token());

  SECTION("exclusive across replicas, naming the holder; other jobs are separate") {
    auto refused = b->AcquireLease("gc");
    CHECK_CODE(refused, ErrorCode::kAlreadyExists);
    INFO(refused.status().message());
    CHECK(refused.status().message().find("held by node-a") != std::string::npos);
    CHECK(refused.status().message().find("gc") != std::string::npos);
    // The same replica cannot hold it twice either.
    CHECK_CODE(a->AcquireLease("gc"), ErrorCode::kAlreadyExists);
    auto scrub = b->AcquireLease("scrub");
    REQUIRE_OK(scrub);
    CHECK((*scrub)->token() != (*lease)->token());
  }

  SECTION("destroying it releases it: another takes it at once") {
    lease->reset();
    CHECK(redis.Command({"EXISTS", "ocireg:lease:gc"}) == "0");
    auto taken = b->AcquireLease("gc");
    REQUIRE_OK(taken);
    CHECK((*taken)->token().starts_with("node-b/"));
  }

  SECTION("renewed: held well past lease_ttl") {
    std::this_thread::sleep_for(milliseconds(4500));
    CHECK((*lease)->Held());
    CHECK_CODE(b->AcquireLease("gc"), ErrorCode::kAlreadyExists);
    const long ttl = std::stol(redis.Command({"PTTL", "ocireg:lease:gc"}));
    CHECK(ttl > 1500);
    CHECK(ttl <= 3000);
  }

  SECTION("not held once renewals fail for two thirds of lease_ttl") {
    const auto paused_at = steady_clock::now();
    redis.Pause();
    const std::optional<milliseconds> lost =
        WaitUntil(seconds(4), [&] { return !(*lease)->Held(); });
    const milliseconds since_pause = Since(paused_at);
    redis.Resume();
    REQUIRE(lost);
    // Two thirds of 3 s after the last renewal, which was at most lease_ttl / 6 before the pause
    // (on a loaded machine the renewer may have run late: some slack).
    CHECK(since_pause >= milliseconds(1000));
    CHECK(since_pause <= milliseconds(2000) + milliseconds(500));
  }

  SECTION("not held once another holder has the key") {
    REQUIRE(redis.Command({"SET", "ocireg:lease:gc", "node-c/feed", "PX", "3000"}) == "OK");
    // The next renewal (every lease_ttl / 6) finds it.
    CHECK(WaitUntil(seconds(2), [&] { return !(*lease)->Held(); }));
    // Giving it up now leaves the other holder's key alone.
    lease->reset();
    CHECK(redis.Command({"GET", "ocireg:lease:gc"}) == "node-c/feed");
  }
}

TEST_CASE("a lease whose holder dies is free lease_ttl after its last renewal", "[redis]") {
  RedisServer redis;
  testing::TempDir dir;
  setenv("OCIREG_TEST_LEASE_HOLDER_URL", redis.url().c_str(), 1);
  const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
  const std::filesystem::path log = dir.path() / "holder.log";
  const pid_t holder = testing::SpawnProcess({self, "[.lease-holder]"}, log);
  const bool held = WaitUntil(seconds(10), [&] {
                      return testing::ReadTextFile(log).find("lease held") != std::string::npos;
                    }).has_value();
  if (!held) testing::EndChild(holder);
  INFO(testing::ReadTextFile(log));
  REQUIRE(held);
  // Let it renew a few times, then kill it without a chance to release anything.
  std::this_thread::sleep_for(milliseconds(1200));
  kill(holder, SIGKILL);
  const auto killed_at = steady_clock::now();
  REQUIRE(testing::WaitForChild(holder, seconds(10)));

  auto survivor = Connect(OptionsFor(redis, "survivor"));
  auto refused = survivor->AcquireLease("gc");
  CHECK_CODE(refused, ErrorCode::kAlreadyExists);
  CHECK(refused.status().message().find("held by doomed-node") != std::string::npos);
  std::optional<Result<std::unique_ptr<Lease>>> taken;
  const std::optional<milliseconds> freed = WaitUntil(seconds(6), [&] {
    taken.emplace(survivor->AcquireLease("gc"));
    return taken->ok();
  });
  REQUIRE(freed);
  // Its last renewal was at most lease_ttl / 6 before the kill (unless its renewer ran late).
  CHECK(*freed >= milliseconds(2000));
  CHECK(Since(killed_at) <= milliseconds(3000) + milliseconds(500));
  CHECK((**taken)->Held());
}

TEST_CASE("a Redis with a password: the right one logs in, others are told why not", "[redis]") {
  RedisServer redis("cluster-s3cret");

  SECTION("CheckRedisReachable") {
    CHECK_OK(CheckRedisReachable(OptionsFor(redis, "replica")));

    const Status wrong = CheckRedisReachable(OptionsFor(redis.url(), "replica", "not-it"));
    CHECK_CODE(wrong, ErrorCode::kUnavailable);
    INFO(wrong.message());
    CHECK(wrong.message().find("login refused") != std::string::npos);
    CHECK(wrong.message().find("WRONGPASS") != std::string::npos);
    CHECK(wrong.message().find(redis.url()) != std::string::npos);
    CHECK(wrong.message().find("not-it") == std::string::npos);

    const Status missing = CheckRedisReachable(OptionsFor(redis.url(), "replica"));
    CHECK_CODE(missing, ErrorCode::kUnavailable);
    INFO(missing.message());
    CHECK(missing.message().find("NOAUTH") != std::string::npos);
  }

  SECTION("the coordination's calls") {
    auto good = Connect(OptionsFor(redis, "replica"));
    CHECK_OK(good->PublishChange("team/app"));
    CHECK_OK(good->ChangeMark("team/app"));
    auto bad = Connect(OptionsFor(redis.url(), "replica", "not-it"));
    milliseconds took{};
    CHECK_CODE(Timed(took, [&] { return bad->ChangeMark("team/app"); }), ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
    CHECK_CODE(bad->PublishChange("team/app"), ErrorCode::kUnavailable);
    CHECK_CODE(bad->AcquireLease("gc"), ErrorCode::kUnavailable);
  }

  SECTION("an ACL user named in the URL, limited to the registry's keys") {
    REQUIRE(redis.Command({"ACL", "SETUSER", "registry", "on", ">registry-pass", "~ocireg:*",
                           "+@all"}) == "OK");
    const std::string url = "redis://registry@127.0.0.1:" + std::to_string(redis.port()) + "/0";
    CHECK_OK(CheckRedisReachable(OptionsFor(url, "replica", "registry-pass")));
    CHECK_CODE(CheckRedisReachable(OptionsFor(url, "replica", "cluster-s3cret")),
               ErrorCode::kUnavailable);
    auto user = Connect(OptionsFor(url, "replica", "registry-pass"));
    CHECK_OK(user->PublishChange("team/app"));
    CHECK_OK(user->UseContent(DigestOf("content")));
    // Keys outside its pattern: Redis refuses, and the error says so.
    RedisCoordinationOptions outside = OptionsFor(url, "replica", "registry-pass");
    outside.key_prefix = "elsewhere:";
    const Status refused = Connect(outside)->PublishChange("team/app");
    CHECK_CODE(refused, ErrorCode::kUnavailable);
    CHECK(refused.message().find("NOPERM") != std::string::npos);
  }

  SECTION("the database of the URL") {
    const std::string url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/3";
    REQUIRE_OK(Connect(OptionsFor(url, "replica", redis.password()))->PublishChange("team/db"));
    CHECK(redis.Command({"-n", "3", "EXISTS", "ocireg:mark:team/db"}) == "1");
    CHECK(redis.Command({"-n", "0", "EXISTS", "ocireg:mark:team/db"}) == "0");
  }
}

TEST_CASE("no Redis, or no URL: said at once", "[redis]") {
  const uint16_t port = testing::FreeLoopbackPort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
  milliseconds took{};
  const Status refused = Timed(took, [&] { return CheckRedisReachable(OptionsFor(url, "n")); });
  CHECK_CODE(refused, ErrorCode::kUnavailable);
  CHECK(refused.message().find(url) != std::string::npos);
  CHECK(refused.message().find("refused") != std::string::npos);
  CHECK(took < kFailFastLimit);

  for (const char* bad :
       {"http://127.0.0.1:6379", "redis://user:pw@127.0.0.1", "redis://h:99999"}) {
    INFO(bad);
    CHECK_CODE(ConnectRedisCoordination(OptionsFor(bad, "n")), ErrorCode::kInvalidArgument);
    CHECK_CODE(CheckRedisReachable(OptionsFor(bad, "n")), ErrorCode::kInvalidArgument);
  }
}

// A redis-server that accepts TLS alone, on a free port of 127.0.0.1, with the certificate
// `certificate` and key `key`; ended by its PID.
class TlsRedis {
 public:
  TlsRedis(const std::filesystem::path& dir, const std::string& certificate, const std::string& key,
           const std::string& ca) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      log_ = dir / ("tls-redis-" + std::to_string(port_) + ".log");
      pid_ = testing::SpawnProcess({"redis-server",
                                    "--port",
                                    "0",
                                    "--tls-port",
                                    std::to_string(port_),
                                    "--bind",
                                    "127.0.0.1",
                                    "--tls-cert-file",
                                    certificate,
                                    "--tls-key-file",
                                    key,
                                    "--tls-ca-cert-file",
                                    ca,
                                    "--tls-auth-clients",
                                    "no",
                                    "--dir",
                                    dir.string(),
                                    "--save",
                                    "",
                                    "--appendonly",
                                    "no",
                                    "--daemonize",
                                    "no",
                                    "--protected-mode",
                                    "no"},
                                   log_);
      if (WaitUntil(seconds(10),
                    [&] {
                      return testing::ReadTextFile(log_).find("Ready to accept connections") !=
                                 std::string::npos ||
                             testing::WaitForChild(pid_, milliseconds(0)).has_value();
                    }) &&
          testing::ReadTextFile(log_).find("Ready to accept connections") != std::string::npos) {
        return;
      }
      testing::EndChild(pid_);
    }
    throw std::runtime_error("redis-server with TLS did not start: " + testing::ReadTextFile(log_));
  }
  ~TlsRedis() { testing::EndChild(pid_); }
  TlsRedis(const TlsRedis&) = delete;
  TlsRedis& operator=(const TlsRedis&) = delete;

  std::string url(const std::string& host = "127.0.0.1") const {
    return "rediss://" + host + ":" + std::to_string(port_) + "/0";
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// A server certificate signed by `pki`'s CA whose subjectAltName is `san` alone (openssl's
// syntax): dir/`stem`.pem and dir/`stem`.key.
testing::ClientCertificate MakeServerWithNames(const testing::TestPki& pki, const std::string& stem,
                                               const std::string& san) {
  const std::filesystem::path& dir = pki.dir();
  const std::filesystem::path extensions = dir / (stem + ".ext");
  testing::WriteTextFile(extensions,
                         "basicConstraints = critical, CA:FALSE\n"
                         "keyUsage = critical, digitalSignature, keyEncipherment\n"
                         "extendedKeyUsage = serverAuth\n"
                         "subjectAltName = " +
                             san + "\n");
  testing::ClientCertificate made{(dir / (stem + ".pem")).string(),
                                  (dir / (stem + ".key")).string()};
  const std::filesystem::path log = dir / (stem + ".log");
  testing::RunCommand(
      {"openssl", "req", "-new", "-config", (dir / "ca.cnf").string(), "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", made.key, "-out",
       (dir / (stem + ".csr")).string(), "-subj", "/CN=127.0.0.1"},
      log);
  testing::RunCommand({"openssl", "x509", "-req", "-in", (dir / (stem + ".csr")).string(), "-CA",
                       pki.ca(), "-CAkey", (dir / "ca.key").string(), "-set_serial", "77",
                       "-extfile", extensions.string(), "-out", made.certificate},
                      log);
  return made;
}

RedisCoordinationOptions TlsOptions(const std::string& url, const std::string& ca,
                                    bool verify = true) {
  RedisCoordinationOptions options = OptionsFor(url, "replica");
  options.ca_file = ca;
  options.tls_verify = verify;
  return options;
}

TEST_CASE("rediss://: the server's certificate and name are checked", "[redis][tls]") {
  testing::TempDir dir;
  testing::TestPki pki(dir.path());  // server certificate for IP:127.0.0.1 and DNS:localhost
  const std::string other_ca = testing::MakeTestCa(dir.path(), "other").string();

  SECTION("a certificate for 127.0.0.1 and localhost") {
    TlsRedis redis(dir.path(), pki.server_certificate(), pki.server_key(), pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca())));
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca())));
    auto coordination = Connect(TlsOptions(redis.url(), pki.ca()));
    CHECK_OK(coordination->PublishChange("team/app"));
    CHECK_OK(coordination->ChangeMark("team/app"));
    CHECK_OK(coordination->UseContent(DigestOf("over tls")));
    auto lease = coordination->AcquireLease("gc");
    REQUIRE_OK(lease);
    CHECK(Claim(*coordination, **lease, DigestOf("not in use")));

    // Another CA: refused, saying it is the certificate.
    const Status untrusted = CheckRedisReachable(TlsOptions(redis.url(), other_ca));
    CHECK_CODE(untrusted, ErrorCode::kUnavailable);
    INFO(untrusted.message());
    CHECK(untrusted.message().find("certificate") != std::string::npos);
    CHECK(untrusted.message().find(redis.url()) != std::string::npos);
    CHECK_CODE(Connect(TlsOptions(redis.url(), other_ca))->ChangeMark("team/app"),
               ErrorCode::kUnavailable);
    // The system's CAs do not know the test CA either.
    CHECK_CODE(CheckRedisReachable(TlsOptions(redis.url(), "")), ErrorCode::kUnavailable);
    // Unchecked, any certificate will do.
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), other_ca, false)));
    CHECK_OK(Connect(TlsOptions(redis.url(), other_ca, false))->PublishChange("team/app"));

    // A CA file that cannot be read.
    const Status no_file = CheckRedisReachable(TlsOptions(redis.url(), "/nonexistent/ca.pem"));
    CHECK_CODE(no_file, ErrorCode::kUnavailable);
    CHECK(no_file.message().find("/nonexistent/ca.pem") != std::string::npos);

    // Plain text to the TLS port: refused quickly, not hung.
    milliseconds took{};
    const std::string plain = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
    CHECK_CODE(Timed(took, [&] { return CheckRedisReachable(OptionsFor(plain, "n")); }),
               ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
  }

  SECTION("the name: an IP address must be in the certificate's subjectAltName") {
    const testing::ClientCertificate named_only =
        MakeServerWithNames(pki, "localhost-only", "DNS:localhost");
    TlsRedis redis(dir.path(), named_only.certificate, named_only.key, pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca())));
    // The certificate's subject CN is 127.0.0.1, which does not count: only its IP entries.
    const Status mismatch = CheckRedisReachable(TlsOptions(redis.url(), pki.ca()));
    CHECK_CODE(mismatch, ErrorCode::kUnavailable);
    INFO(mismatch.message());
    CHECK(mismatch.message().find("certificate") != std::string::npos);
    CHECK(mismatch.message().find("IP address mismatch") != std::string::npos);
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca(), false)));
  }

  SECTION("a host name must be in the certificate's subjectAltName") {
    const testing::ClientCertificate ip_only = MakeServerWithNames(pki, "ip-only", "IP:127.0.0.1");
    TlsRedis redis(dir.path(), ip_only.certificate, ip_only.key, pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca())));
    const Status mismatch = CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca()));
    CHECK_CODE(mismatch, ErrorCode::kUnavailable);
    INFO(mismatch.message());
    CHECK(mismatch.message().find("certificate") != std::string::npos);
    CHECK(mismatch.message().find("mismatch") != std::string::npos);
  }

  SECTION("rediss:// to a Redis without TLS fails quickly, saying TLS") {
    RedisServer plain;
    const std::string url = "rediss://127.0.0.1:" + std::to_string(plain.port()) + "/0";
    milliseconds took{};
    const Status failed =
        Timed(took, [&] { return CheckRedisReachable(TlsOptions(url, pki.ca())); });
    CHECK_CODE(failed, ErrorCode::kUnavailable);
    INFO(failed.message());
    CHECK(failed.message().find("TLS") != std::string::npos);
    CHECK(took < kFailFastLimit);
  }
}

}  // namespace
}  // namespace ocireg
