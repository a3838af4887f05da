// SPDX-License-Identifier: Apache-2.0
// Tests of CachedProbe with a hand-moved clock: one probe per period, then a fresh one.
#include "http/cached_probe.h"

#include <chrono>

#include "catch.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::Status;
using ocireg::internal::CachedProbe;
using std::chrono::milliseconds;

TEST_CASE("CachedProbe probes once per period and then again", "[cached_probe]") {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(100)};
  int probes = 0;
  Status next = Status::Ok();
  CachedProbe probe(
      [&] {
        ++probes;
        return next;
      },
      std::chrono::seconds(1), [&] { return now; });

  for (int i = 0; i < 100; ++i) CHECK_OK(probe.Check());
  CHECK(probes == 1);

  // Storage fails: the cached answer stands for the rest of the period, then the failure shows.
  next = Status(ErrorCode::kInternal, "disk full");
  now += milliseconds(999);
  CHECK_OK(probe.Check());
  CHECK(probes == 1);
  now += milliseconds(1);
  CHECK(probe.Check().code() == ErrorCode::kInternal);
  CHECK(probes == 2);
  // A failure is cached too, so a failing disk is not hammered either.
  for (int i = 0; i < 10; ++i) CHECK_FALSE(probe.Check().ok());
  CHECK(probes == 2);

  next = Status::Ok();
  now += std::chrono::seconds(5);
  CHECK_OK(probe.Check());
  CHECK(probes == 3);
}
