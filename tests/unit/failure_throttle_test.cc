// SPDX-License-Identifier: Apache-2.0
// Tests of FailureThrottle with explicit time points: the limit, the doubling delay and its cap,
// the window, success, the off switch and the bound on tracked addresses.
#include "auth/failure_throttle.h"

#include <chrono>
#include <string>

#include "catch.h"

using ocireg::internal::FailureThrottle;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

// The fixed bound of FailureThrottle (kMaxTracked in failure_throttle.h).
constexpr size_t kMaxTracked = 65536;

const FailureThrottle::Clock::time_point kStart =
    FailureThrottle::Clock::time_point() + seconds(1000);

void Fail(FailureThrottle& throttle, const std::string& address, int times,
          FailureThrottle::Clock::time_point now = kStart) {
  for (int i = 0; i < times; ++i) throttle.RecordFailure(address, now);
}

}  // namespace

TEST_CASE("below the limit there is no delay", "[failure_throttle]") {
  FailureThrottle throttle(3, seconds(60), seconds(1), seconds(8));
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(0));
  Fail(throttle, "192.0.2.1", 2);
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(0));
  CHECK(throttle.tracked() == 1);
}

TEST_CASE("from the limit the delay doubles up to the maximum", "[failure_throttle]") {
  FailureThrottle throttle(3, seconds(60), seconds(1), seconds(8));
  const std::string address = "192.0.2.1";
  Fail(throttle, address, 3);
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(1000));
  Fail(throttle, address, 1);
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(2000));
  Fail(throttle, address, 1);
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(4000));
  Fail(throttle, address, 1);
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(8000));
  Fail(throttle, address, 1);
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(8000));
  Fail(throttle, address, 100);  // far past any shift width: still the cap
  CHECK(throttle.DelayFor(address, kStart) == milliseconds(8000));
  SECTION("other addresses are not affected") {
    CHECK(throttle.DelayFor("192.0.2.2", kStart) == milliseconds(0));
    CHECK(throttle.DelayFor("2001:db8::1", kStart) == milliseconds(0));
  }
}

TEST_CASE("a maximum below the delay caps the first delay too", "[failure_throttle]") {
  FailureThrottle throttle(1, seconds(60), seconds(10), seconds(3));
  Fail(throttle, "192.0.2.1", 1);
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(3000));
}

TEST_CASE("failures are forgotten once the window has passed", "[failure_throttle]") {
  FailureThrottle throttle(2, seconds(60), seconds(1), seconds(30));
  const std::string address = "192.0.2.1";
  Fail(throttle, address, 1, kStart);
  Fail(throttle, address, 1, kStart + seconds(30));
  CHECK(throttle.DelayFor(address, kStart + seconds(30)) == milliseconds(1000));
  CHECK(throttle.DelayFor(address, kStart + seconds(60)) == milliseconds(1000));
  CHECK(throttle.DelayFor(address, kStart + seconds(61)) == milliseconds(0));
  SECTION("a failure after the window starts a new count") {
    Fail(throttle, address, 1, kStart + seconds(61));
    CHECK(throttle.DelayFor(address, kStart + seconds(61)) == milliseconds(0));
    Fail(throttle, address, 1, kStart + seconds(62));
    CHECK(throttle.DelayFor(address, kStart + seconds(62)) == milliseconds(1000));
  }
}

TEST_CASE("a success clears the address's failures", "[failure_throttle]") {
  FailureThrottle throttle(2, seconds(60), seconds(1), seconds(30));
  Fail(throttle, "192.0.2.1", 5);
  Fail(throttle, "192.0.2.2", 5);
  REQUIRE(throttle.DelayFor("192.0.2.1", kStart) > milliseconds(0));
  throttle.RecordSuccess("192.0.2.1");
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(0));
  CHECK(throttle.DelayFor("192.0.2.2", kStart) == milliseconds(8000));
  CHECK(throttle.tracked() == 1);
  Fail(throttle, "192.0.2.1", 1);
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(0));  // counting from zero again
  throttle.RecordSuccess("198.51.100.7");  // never failed: nothing to clear
  CHECK(throttle.tracked() == 2);
}

TEST_CASE("a limit of 0 turns the throttle off", "[failure_throttle]") {
  FailureThrottle throttle(0, seconds(60), seconds(1), seconds(30));
  Fail(throttle, "192.0.2.1", 1000);
  CHECK(throttle.DelayFor("192.0.2.1", kStart) == milliseconds(0));
  CHECK(throttle.tracked() == 0);
}

TEST_CASE("the number of tracked addresses stays bounded", "[failure_throttle]") {
  FailureThrottle throttle(1, seconds(60), seconds(1), seconds(30));
  SECTION("when none has expired, the table starts over") {
    for (size_t i = 0; i < kMaxTracked + 1000; ++i) {
      throttle.RecordFailure("10.0." + std::to_string(i), kStart);
      if (throttle.tracked() > kMaxTracked) break;  // one CHECK below, not one per address
    }
    CHECK(throttle.tracked() <= kMaxTracked);
    CHECK(throttle.tracked() > 0);
    // The latest address is tracked again.
    CHECK(throttle.DelayFor("10.0." + std::to_string(kMaxTracked + 999), kStart) ==
          milliseconds(1000));
  }
  SECTION("expired addresses are dropped first") {
    const auto later = kStart + seconds(40);
    for (size_t i = 0; i < kMaxTracked / 2; ++i)
      throttle.RecordFailure("old" + std::to_string(i), kStart);
    for (size_t i = 0; i < kMaxTracked / 2; ++i)
      throttle.RecordFailure("new" + std::to_string(i), later);
    REQUIRE(throttle.tracked() == kMaxTracked);
    const auto after_window = kStart + seconds(61);  // the "old" ones have expired, not the "new"
    throttle.RecordFailure("newest", after_window);
    CHECK(throttle.tracked() == kMaxTracked / 2 + 1);
    CHECK(throttle.DelayFor("new0", after_window) == milliseconds(1000));
    CHECK(throttle.DelayFor("newest", after_window) == milliseconds(1000));
    CHECK(throttle.DelayFor("old0", after_window) == milliseconds(0));
  }
}
