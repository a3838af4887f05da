// SPDX-License-Identifier: Apache-2.0
// Draining before a graceful stop (limits.drain_delay): /readyz answers 503 at once while every
// request is still served, each on a connection that then ends; after the delay the listener
// closes; a second Stop ends the delay; without a delay the listener closes at once.
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "routed_probe.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::testing::RawConnection;
using ocireg::testing::RawResponse;
using ocireg::testing::RoutedProbe;
using ocireg::testing::TestServer;

namespace {

constexpr const char* kGetBase = "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n";
constexpr const char* kGetReadyz = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";

// Asks /readyz on a new connection each time until it answers 503, for up to 10 s (Stop runs on
// another thread and may not have begun yet). That answer, or the last one.
std::optional<RawResponse> AwaitOutOfRotation(uint16_t port) {
  std::optional<RawResponse> answer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    RawConnection raw(port);
    raw.Send(kGetReadyz);
    answer = raw.ReadResponse();
    if (answer && answer->status == 503) return answer;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return answer;
}

// Waits (up to 30 s) until nothing accepts connections on `port`.
bool AwaitListenerClosed(uint16_t port) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (RawConnection::PortAccepting(port)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

bool Logged(const TestServer& server, std::string_view text) {
  for (const std::string& message : server.messages()) {
    if (message.find(text) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("During the drain delay /readyz says 503 while every request is still served",
          "[integration][shutdown][drain]") {
  RoutedProbe probe("d", ocireg::Action::kCreate, 1);  // the POST passes, the PATCH reports
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks& hooks) {
    config.limits.drain_delay = std::chrono::seconds(2);
    config.limits.keep_alive_timeout = std::chrono::seconds(30);  // the pooled one stays open
    hooks.authorize = probe.Hook();
  });
  auto post = server.Client()->Post("/v2/d/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(post);
  REQUIRE(post->status == 202);

  // A load balancer's pooled keep-alive connection, idle when the stop begins.
  RawConnection pooled(server.port());
  pooled.Send(kGetReadyz);
  auto ready = pooled.ReadResponse();
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK_FALSE(ready->HasHeader("Connection: close"));

  // An upload halfway through its body when the stop begins.
  const std::string first_half(1000, 'a'), second_half(1000, 'b');
  RawConnection in_flight(server.port());
  in_flight.Send("PATCH " + post->get_header_value("Location") +
                 " HTTP/1.1\r\nHost: x\r\nContent-Range: 0-1999\r\nContent-Length: 2000\r\n\r\n" +
                 first_half);
  probe.routed.get_future().wait();
  auto stopping = std::async(std::launch::async, [&] { server.Stop(); });

  auto readyz = AwaitOutOfRotation(server.port());
  REQUIRE(readyz);
  CHECK(readyz->status == 503);
  CHECK(readyz->body == "draining\n");
  CHECK(readyz->HasHeader("Connection: close"));
  CHECK(server.server().is_running());

  // A new client is served, and its connection ends with the response.
  RawConnection fresh(server.port());
  fresh.Send(kGetBase);
  auto served = fresh.ReadResponse();
  REQUIRE(served);
  CHECK(served->status == 200);
  CHECK(served->HasHeader("Connection: close"));
  CHECK_FALSE(served->HasHeader("Keep-Alive"));
  CHECK(fresh.ClosedByPeer());

  // So is a request on a connection opened before the stop.
  pooled.Send(kGetBase);
  auto pooled_served = pooled.ReadResponse();
  REQUIRE(pooled_served);
  CHECK(pooled_served->status == 200);
  CHECK(pooled_served->HasHeader("Connection: close"));
  CHECK(pooled.ClosedByPeer());

  // The upload begun before the stop completes, and its connection ends too.
  in_flight.Send(second_half);
  auto done = in_flight.ReadResponse();
  REQUIRE(done);
  CHECK(done->status == 202);
  CHECK(done->HasHeader("Range: 0-1999"));
  CHECK(done->HasHeader("Connection: close"));
  CHECK(in_flight.ClosedByPeer());

  // After the delay the listener closes and the stop ends.
  CHECK(AwaitListenerClosed(server.port()));
  stopping.get();
  CHECK_OK(server.run_status());
  CHECK(Logged(server, "draining for 2s: /readyz answers 503"));
  CHECK(Logged(server, "listener closed"));
}

TEST_CASE("A second Stop during the drain delay stops at once, gracefully",
          "[integration][shutdown][drain]") {
  // Far longer than the test may take: only the second Stop can end it in time.
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.drain_delay = std::chrono::seconds(120);
  });
  auto first = std::async(std::launch::async, [&] { server.server().Stop(); });
  auto readyz = AwaitOutOfRotation(server.port());
  REQUIRE(readyz);
  CHECK(readyz->status == 503);
  CHECK(RawConnection::PortAccepting(server.port()));

  server.Stop();  // the second Stop; returns once Run has ended
  CHECK(first.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  CHECK_FALSE(RawConnection::PortAccepting(server.port()));
  CHECK_OK(server.run_status());
}

TEST_CASE("Without a drain delay Stop closes the listener at once; /readyz says 503",
          "[integration][shutdown][drain]") {
  RoutedProbe probe("n", ocireg::Action::kCreate, 1);
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks& hooks) {
    config.limits.keep_alive_timeout = std::chrono::seconds(30);
    hooks.authorize = probe.Hook();
  });
  REQUIRE(server.config().limits.drain_delay == std::chrono::seconds(0));
  auto post = server.Client()->Post("/v2/n/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(post);
  RawConnection idle(server.port());
  idle.Send(kGetReadyz);
  REQUIRE(idle.ReadResponse()->status == 200);
  // An upload in flight holds the stop open while the rest is checked.
  RawConnection in_flight(server.port());
  in_flight.Send("PATCH " + post->get_header_value("Location") +
                 " HTTP/1.1\r\nHost: x\r\nContent-Range: 0-9\r\nContent-Length: 10\r\n\r\n01234");
  probe.routed.get_future().wait();
  auto stopping = std::async(std::launch::async, [&] { server.Stop(); });

  CHECK(AwaitListenerClosed(server.port()));
  idle.Send(kGetReadyz);
  auto refused = idle.ReadResponse();
  REQUIRE(refused);
  CHECK(refused->status == 503);
  CHECK(refused->HasHeader("Connection: close"));
  CHECK(ocireg::testing::ErrorCodeOf(refused->body) == "UNAVAILABLE");
  in_flight.Send("56789");
  auto done = in_flight.ReadResponse();
  REQUIRE(done);
  CHECK(done->status == 202);
  stopping.get();
  CHECK_OK(server.run_status());
  CHECK_FALSE(Logged(server, "draining for"));
  CHECK(Logged(server, "listener closed"));
}
