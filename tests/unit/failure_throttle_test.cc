// SPDX-License-Identifier: Apache-2.0
// Tests of FailureThrottle with explicit time points: keying by (address, user), address and
// user, the doubling wait and its cap, the windows, and eviction under address rotation.
#include "auth/failure_throttle.h"

#include <string>

#include "catch.h"

namespace {

using ocireg::internal::FailureThrottle;
using std::chrono::milliseconds;
using std::chrono::seconds;

const FailureThrottle::Clock::time_point kStart =
    FailureThrottle::Clock::time_point() + seconds(1000);

FailureThrottle::Settings TestSettings() {
  FailureThrottle::Settings settings;
  settings.limit = 3;
  settings.spread_limit = 6;
  settings.window = seconds(60);
  settings.delay = seconds(1);
  settings.max_delay = seconds(8);
  settings.capacity = 64;
  return settings;
}

void Fail(FailureThrottle& throttle, const std::string& address, const std::string& user, int times,
          FailureThrottle::Clock::time_point now = kStart) {
  for (int i = 0; i < times; ++i) throttle.RecordFailure(address, user, now);
}

}  // namespace

TEST_CASE("throttle: below the limit attempts go on", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(0));
  Fail(throttle, "192.0.2.1", "alice", 2);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(0));
}

TEST_CASE("throttle: from the limit the wait doubles up to the maximum", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  Fail(throttle, "192.0.2.1", "alice", 3);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(1));
  // Rounded up to whole seconds, counted from the last failure.
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart + milliseconds(300)) == seconds(1));
  Fail(throttle, "192.0.2.1", "alice", 1);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(2));
  Fail(throttle, "192.0.2.1", "alice", 1);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(4));
  Fail(throttle, "192.0.2.1", "alice", 100);  // far past any shift width: still the cap
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(8));
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(5)) == seconds(3));
}

TEST_CASE("throttle: the longest configurable delays do not overflow", "[failure_throttle]") {
  FailureThrottle::Settings settings = TestSettings();
  settings.delay = seconds(int64_t{36500} * 86400);
  settings.max_delay = settings.delay;
  FailureThrottle throttle(settings);
  Fail(throttle, "192.0.2.1", "alice", 100);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == settings.max_delay);
}

TEST_CASE("throttle: after the wait one attempt goes through, the next waits again",
          "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  Fail(throttle, "192.0.2.1", "alice", 3);
  const auto later = kStart + seconds(1);
  CHECK(throttle.Admit("192.0.2.1", "alice", later) == seconds(0));
  // A parallel attempt at the same moment is refused: each wait buys one guess, not one per
  // connection.
  CHECK(throttle.Admit("192.0.2.1", "alice", later) == seconds(1));
  SECTION("a success clears the pair") {
    throttle.RecordSuccess("192.0.2.1", "alice", later);
    CHECK(throttle.Admit("192.0.2.1", "alice", later) == seconds(0));
    Fail(throttle, "192.0.2.1", "alice", 2, later);
    CHECK(throttle.Admit("192.0.2.1", "alice", later) == seconds(0));  // counting from zero
  }
  SECTION("a failure doubles the wait") {
    Fail(throttle, "192.0.2.1", "alice", 1, later);
    CHECK(throttle.Admit("192.0.2.1", "alice", later) == seconds(2));
  }
}

TEST_CASE("throttle: a throttled pair holds back neither its user elsewhere nor its address",
          "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  Fail(throttle, "203.0.113.66", "alice", 50);  // an attacker hammering alice
  REQUIRE(throttle.Admit("203.0.113.66", "alice", kStart) == seconds(8));
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(0));   // alice at home
  CHECK(throttle.Admit("203.0.113.66", "bob", kStart) == seconds(0));  // bob behind the same NAT
}

TEST_CASE("throttle: spraying many users from one address", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  throttle.RecordSuccess("198.51.100.1", "carol", kStart);  // carol logs in through the proxy
  for (int i = 0; i < 6; ++i) Fail(throttle, "198.51.100.1", "user" + std::to_string(i), 1);
  SECTION("throttles users who never logged in from there") {
    CHECK(throttle.Admit("198.51.100.1", "dave", kStart) == seconds(1));
    CHECK(throttle.Admit("198.51.100.1", "user0", kStart) == seconds(1));
  }
  SECTION("not users who did, nor other addresses") {
    CHECK(throttle.Admit("198.51.100.1", "carol", kStart) == seconds(0));
    CHECK(throttle.Admit("192.0.2.1", "dave", kStart) == seconds(0));
  }
  SECTION("repeated failures of one user count once") {
    FailureThrottle other(TestSettings());
    Fail(other, "198.51.100.1", "erin", 2);
    for (int i = 0; i < 4; ++i) Fail(other, "198.51.100.1", "user" + std::to_string(i), 1);
    CHECK(other.Admit("198.51.100.1", "dave", kStart) == seconds(0));
  }
}

TEST_CASE("throttle: guessing one user from many addresses", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  throttle.RecordSuccess("192.0.2.1", "alice", kStart);  // alice's usual address
  for (int i = 0; i < 6; ++i) Fail(throttle, "203.0.113." + std::to_string(i), "alice", 1);
  CHECK(throttle.Admit("203.0.113.99", "alice", kStart) == seconds(1));
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(0));
  CHECK(throttle.Admit("203.0.113.99", "bob", kStart) == seconds(0));
}

TEST_CASE("throttle: counts expire with the window", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  SECTION("below the limit, from the first failure: occasional typos never add up") {
    Fail(throttle, "192.0.2.1", "alice", 2, kStart);
    Fail(throttle, "192.0.2.1", "alice", 1, kStart + seconds(61));
    CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(61)) == seconds(0));
  }
  SECTION("past the limit, from the last failure: a key under attack stays") {
    Fail(throttle, "192.0.2.1", "alice", 3, kStart);
    Fail(throttle, "192.0.2.1", "alice", 1, kStart + seconds(50));
    CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(61)) == seconds(0));
    Fail(throttle, "192.0.2.1", "alice", 1, kStart + seconds(61));
    CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(61)) == seconds(4));
    CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(122)) == seconds(0));
    Fail(throttle, "192.0.2.1", "alice", 1, kStart + seconds(122));  // forgotten: one failure
    CHECK(throttle.Admit("192.0.2.1", "alice", kStart + seconds(122)) == seconds(0));
  }
}

TEST_CASE("throttle: a limit of 0 turns it off", "[failure_throttle]") {
  FailureThrottle::Settings settings = TestSettings();
  settings.limit = 0;
  FailureThrottle throttle(settings);
  Fail(throttle, "192.0.2.1", "alice", 1000);
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(0));
  CHECK(throttle.tracked() == 0);
}

TEST_CASE("throttle: memory stays bounded and rotation evicts quiet keys, not hot ones",
          "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());  // 64 keys
  Fail(throttle, "192.0.2.1", "alice", 10);
  REQUIRE(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(8));
  // An attacker rotates through 5000 addresses and user names; the client behind the hot key
  // keeps trying (and keeps being refused) meanwhile.
  for (int i = 0; i < 5000; ++i) {
    const std::string address = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    throttle.RecordFailure(address, "u" + std::to_string(i), kStart);
    if (i % 8 == 0) REQUIRE(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(8));
  }
  CHECK(throttle.tracked() == 64);  // full, never cleared
  CHECK(throttle.Admit("192.0.2.1", "alice", kStart) == seconds(8));
  SECTION("without attempts a key ages out one eviction at a time") {
    Fail(throttle, "192.0.2.2", "bob", 3);
    for (int i = 0; i < 10; ++i)
      throttle.RecordFailure("10.99.0." + std::to_string(i), "x", kStart);
    CHECK(throttle.tracked() == 64);
    CHECK(throttle.Admit("192.0.2.2", "bob", kStart) == seconds(1));  // recent: still there
  }
}

TEST_CASE("throttle: long user names share a bounded key", "[failure_throttle]") {
  FailureThrottle throttle(TestSettings());
  const std::string long_name(100000, 'a');
  Fail(throttle, "192.0.2.1", long_name, 3);
  CHECK(throttle.Admit("192.0.2.1", long_name, kStart) == seconds(1));
  // A short name equal to the kept prefix is another user.
  CHECK(throttle.Admit("192.0.2.1", long_name.substr(0, FailureThrottle::kMaxUserBytes), kStart) ==
        seconds(0));
}
