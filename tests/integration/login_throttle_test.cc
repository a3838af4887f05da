// SPDX-License-Identifier: Apache-2.0
// The failed-login throttle over HTTP: a throttled attempt is answered 429 with Retry-After at
// once, and only its (address, user) pair is held back; X-Forwarded-For counts only from a
// trusted proxy.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "login_support.h"
#include "oci_checks.h"
#include "test_server.h"

using namespace ocireg::testing;

namespace {

// A wait far longer than the hang bound of GetBaseRaw: a server that slept on it instead of
// answering could not pass.
constexpr std::chrono::seconds kDelay{120};

TestServer::Adjust ThrottledServer(const std::string& htpasswd,
                                   std::vector<std::string> trusted_proxies) {
  return [htpasswd, trusted_proxies](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = htpasswd;
    config.auth.failure_limit = 3;
    config.auth.failure_delay = kDelay;
    config.auth.failure_delay_max = kDelay;
    config.auth.trusted_proxies = trusted_proxies;
    config.limits.shutdown_timeout = std::chrono::seconds(1);
  };
}

std::string From(const std::string& address) { return "X-Forwarded-For: " + address + "\r\n"; }

}  // namespace

TEST_CASE("After failed logins the pair gets 429 with Retry-After at once; others log in",
          "[integration][login]") {
  TempDir files;
  TestServer server(ThrottledServer(WriteAliceBobHtpasswd(files.path()), {"127.0.0.1"}));
  const std::string attacker = From("198.51.100.7");
  for (int i = 0; i < 3; ++i) {
    auto refused = GetBaseRaw(server.port(), "alice", "guess" + std::to_string(i), attacker);
    REQUIRE(refused);
    CHECK(refused->status == 401);
  }

  auto throttled = GetBaseRaw(server.port(), "alice", "guess3", attacker);
  REQUIRE(throttled);  // an answer, not a sleeping worker
  CHECK(throttled->status == 429);
  CHECK(ErrorCodeOf(throttled->body) == "TOOMANYREQUESTS");
  CHECK(throttled->HasHeader("Retry-After: " + std::to_string(kDelay.count()) + "\r\n"));
  // Even the right password is not checked while the pair waits.
  auto right = GetBaseRaw(server.port(), "alice", "alice-pw", attacker);
  REQUIRE(right);
  CHECK(right->status == 429);

  SECTION("alice from another address logs in") {
    auto other = GetBaseRaw(server.port(), "alice", "alice-pw", From("192.0.2.1"));
    REQUIRE(other);
    CHECK(other->status == 200);
  }
  SECTION("another user from the attacker's address is not held back") {
    auto bob = GetBaseRaw(server.port(), "bob", "bob-pw", attacker);
    REQUIRE(bob);
    CHECK(bob->status == 200);
    auto wrong = GetBaseRaw(server.port(), "bob", "wrong", attacker);
    REQUIRE(wrong);
    CHECK(wrong->status == 401);
  }
  SECTION("the proxy's own address is another client") {
    auto direct = GetBaseRaw(server.port(), "alice", "alice-pw");
    REQUIRE(direct);
    CHECK(direct->status == 200);
  }
  SECTION("the access log names the client behind the proxy") {
    std::vector<ocireg::AccessLogEntry> log;
    for (int i = 0; i < 200 && log.size() < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      log = server.access_log();
    }
    REQUIRE(log.size() >= 5);
    CHECK(log.front().remote_addr == "198.51.100.7");
  }
}

TEST_CASE("X-Forwarded-For from a peer that is not a trusted proxy changes nothing",
          "[integration][login]") {
  TempDir files;
  TestServer server(ThrottledServer(WriteAliceBobHtpasswd(files.path()), {"10.0.0.0/8"}));
  for (int i = 0; i < 3; ++i) {
    auto refused =
        GetBaseRaw(server.port(), "alice", "guess", From("198.51.100." + std::to_string(i)));
    REQUIRE(refused);
    CHECK(refused->status == 401);
  }
  auto spoofed = GetBaseRaw(server.port(), "alice", "guess", From("192.0.2.99"));
  REQUIRE(spoofed);
  CHECK(spoofed->status == 429);
}
