// SPDX-License-Identifier: Apache-2.0
// The Redis coordination (ocireg/storage/coordination.h) against a private redis-server: change
// marks, content in use against a collector's claims, leases, and Redis that goes away, hangs,
// restarts or forgets (redis_connection_test.cc: passwords, TLS, no server).
#include "coordination_helpers.h"

namespace ocireg {
namespace {

using namespace coordination_test;  // NOLINT(google-build-using-namespace): the shared helpers

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

}  // namespace
}  // namespace ocireg
