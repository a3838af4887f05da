// SPDX-License-Identifier: Apache-2.0
// Connection-level behaviour: unread bodies, unframed bodies, Expect: 100-continue, 256 keep-alive
// clients, and graceful stop with requests in flight.
#include <atomic>
#include <future>
#include <latch>
#include <map>
#include <set>
#include <thread>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "routed_probe.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::testing::PushBlob;
using ocireg::testing::RawConnection;
using ocireg::testing::RoutedProbe;
using ocireg::testing::Sha256;
using ocireg::testing::TempDir;
using ocireg::testing::TestServer;

TEST_CASE("A small body left unread by a rejection is drained: the connection stays usable",
          "[integration][connection]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.Send(
      "PATCH /v2/a/blobs/uploads/unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"
      "0123456789");
  auto first = raw.ReadResponse();
  REQUIRE(first);
  CHECK(first->status == 404);
  CHECK(ocireg::testing::ErrorCodeOf(first->body) == "BLOB_UPLOAD_UNKNOWN");
  CHECK_FALSE(first->HasHeader("Connection: close"));
  // Were the ten bytes still on the socket, this request line would be garbage.
  raw.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  auto second = raw.ReadResponse();
  REQUIRE(second);
  CHECK(second->status == 200);
}

TEST_CASE("A large unread body gets Connection: close, and the client reconnects cleanly",
          "[integration][connection]") {
  TestServer server;
  auto client = server.Client();
  client->set_keep_alive(true);
  const std::string big(3 * 1024 * 1024, 'z');
  auto res = client->Patch("/v2/a/blobs/uploads/unknown", big, "application/octet-stream");
  CHECK_OCI_ERROR(res, 404, "BLOB_UPLOAD_UNKNOWN");
  CHECK(res->get_header_value("Connection") == "close");
  auto next = client->Get("/v2/");
  REQUIRE(next);
  CHECK(next->status == 200);
  // Also when the rejection comes before routing (an over-long path) with a body.
  auto early = client->Post("/v2/" + std::string(1500, 'a') + "/blobs/uploads/", big,
                            "application/octet-stream");
  CHECK_OCI_ERROR(early, 414, "NAME_INVALID");
  CHECK(early->get_header_value("Connection") == "close");
  auto after = client->Get("/v2/");
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("A body without Content-Length or chunked framing is not read to EOF",
          "[integration][connection]") {
  TestServer server;
  RawConnection raw(server.port());
  const std::string empty = Sha256("");
  // Had the server read this body until the connection closed, no answer would come while the
  // connection stays open. (httplib 0.11 does not support pipelining, so one request at a time.)
  raw.Send("POST /v2/u/blobs/uploads/?digest=" + empty + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto post = raw.ReadResponse();
  REQUIRE(post);
  CHECK(post->status == 201);
  raw.Send("GET /v2/u/blobs/" + empty + " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto get = raw.ReadResponse();
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->HasHeader("Content-Length: 0\r\n"));
}

TEST_CASE("Expect: 100-continue rejects before the body is sent", "[integration][connection]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.max_manifest_bytes = 1000;
  });
  {
    RawConnection raw(server.port());
    raw.Send(
        "PUT /v2/e/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
        "Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
        "Expect: 100-continue\r\n\r\n");
    auto res = raw.ReadResponse();  // the final answer, without a 100 first
    REQUIRE(res);
    CHECK(res->status == 413);
    CHECK(ocireg::testing::ErrorCodeOf(res->body) == "MANIFEST_INVALID");
  }
  {
    RawConnection raw(server.port());
    raw.Send("POST /v2/e/blobs/uploads/?digest=" + Sha256("abc") +
             " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Encoding: gzip\r\n"
             "Expect: 100-continue\r\n\r\n");
    auto res = raw.ReadResponse();
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(ocireg::testing::ErrorCodeOf(res->body) == "BLOB_UPLOAD_INVALID");
  }
  {
    RawConnection raw(server.port());
    raw.Send("POST /v2/e/blobs/uploads/?digest=" + Sha256("abc") +
             " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    auto cont = raw.ReadResponse();
    REQUIRE(cont);
    CHECK(cont->status == 100);
    raw.Send("abc");
    auto res = raw.ReadResponse();
    REQUIRE(res);
    CHECK(res->status == 201);
  }
}

TEST_CASE("256 simultaneous keep-alive connections are all served", "[integration][connection]") {
  constexpr int kClients = 256;
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.max_connections = 300;
    // Idle connections keep their worker this long: were the pool too small, clients past it
    // would wait for that instead of being served.
    config.limits.keep_alive_timeout = std::chrono::seconds(60);
  });
  std::latch all_connected(kClients);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&] {
      auto client = server.Client();
      client->set_keep_alive(true);
      // Far below the keep-alive timeout: a client queued behind idle connections fails.
      client->set_read_timeout(20);
      int good = 0;
      auto first = client->Get("/v2/");
      good += first && first->status == 200;
      // Every connection is open and idle before any sends its next request.
      all_connected.arrive_and_wait();
      for (int r = 0; r < 2; ++r) {
        auto res = client->Get("/v2/_catalog");
        good += res && res->status == 200;
      }
      if (good == 3) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kClients);
  // Keep-alive for real: three requests per connection (one remote port each).
  // A request is logged after its response went out: wait, bounded, for the last lines.
  auto log = server.access_log();
  for (int i = 0; i < 300 && log.size() < 3u * kClients; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.access_log();
  }
  std::map<int, int> per_port;
  for (const auto& entry : log) ++per_port[entry.remote_port];
  CHECK(per_port.size() == static_cast<size_t>(kClients));
  int three = 0;
  for (const auto& [port, count] : per_port) three += count == 3;
  CHECK(three == kClients);
}

TEST_CASE("Graceful stop: no new connections, in-flight requests finish, sessions survive",
          "[integration][connection][shutdown]") {
  TempDir root;
  std::string upload_location;
  const std::string first_half(1000, 'a'), second_half(1000, 'b');
  {
    RoutedProbe probe("g", ocireg::Action::kCreate, 1);  // the POST passes, the PATCH reports
    TestServer server([&](ocireg::Config& config, ocireg::ServerHooks& hooks) {
      ocireg::testing::SetTestStorage(config, root.path() / "data");
      hooks.authorize = probe.Hook();
    });
    auto client = server.Client();
    auto post = client->Post("/v2/g/blobs/uploads/", "", "application/octet-stream");
    REQUIRE(post);
    upload_location = post->get_header_value("Location");

    RawConnection in_flight(server.port());  // an upload halfway through its body
    RawConnection idle(server.port());       // a keep-alive connection with nothing to do
    idle.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    REQUIRE(idle.ReadResponse()->status == 200);
    in_flight.Send("PATCH " + upload_location +
                   " HTTP/1.1\r\nHost: x\r\nContent-Range: 0-1999\r\n"
                   "Content-Length: 2000\r\n\r\n" +
                   first_half);
    probe.routed.get_future().wait();
    auto stopping = std::async(std::launch::async, [&] { server.Stop(); });

    // The listener closes at once.
    while (RawConnection::PortAccepting(server.port())) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    // A new request on an open connection is refused while draining.
    idle.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    auto refused = idle.ReadResponse();
    REQUIRE(refused);
    CHECK(refused->status == 503);
    CHECK(refused->HasHeader("Connection: close"));
    CHECK(ocireg::testing::ErrorCodeOf(refused->body) == "UNAVAILABLE");

    // The request in flight completes.
    in_flight.Send(second_half);
    auto done = in_flight.ReadResponse();
    REQUIRE(done);
    CHECK(done->status == 202);
    CHECK(done->HasHeader("Range: 0-1999"));
    stopping.get();
    CHECK_OK(server.run_status());
  }
  // After a restart over the same storage the session resumes.
  TestServer again([&](ocireg::Config& config, ocireg::ServerHooks&) {
    ocireg::testing::SetTestStorage(config, root.path() / "data");
  });
  auto client = again.Client();
  auto status = client->Get(upload_location);
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-1999");
  const std::string digest = Sha256(first_half + second_half);
  auto put = client->Put(upload_location + "?digest=" + digest, "", "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
}

TEST_CASE("Graceful stop lets a download in progress finish",
          "[integration][connection][shutdown]") {
  RoutedProbe probe("dl", ocireg::Action::kRead);
  TestServer server(
      [&](ocireg::Config&, ocireg::ServerHooks& hooks) { hooks.authorize = probe.Hook(); });
  std::string blob(24 * 1024 * 1024, '\0');
  for (size_t i = 0; i < blob.size(); i += 4096) blob[i] = static_cast<char>(i / 4096);
  const std::string digest = PushBlob(*server.Client(), "dl", blob);

  RawConnection raw(server.port());
  raw.Send("GET /v2/dl/blobs/" + digest + " HTTP/1.1\r\nHost: x\r\n\r\n");
  probe.routed.get_future().wait();
  // We read nothing yet: the server stalls on full socket buffers while it stops.
  auto stopping = std::async(std::launch::async, [&] { server.Stop(); });
  auto res = raw.ReadResponse(false, 30000);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body.size() == blob.size());
  CHECK(Sha256(res->body) == digest);
  stopping.get();
}

TEST_CASE("Past the shutdown deadline a stalled request is cut off", "[integration][shutdown]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.shutdown_timeout = std::chrono::seconds(1);
    config.limits.read_timeout = std::chrono::seconds(2);
  });
  auto post = server.Client()->Post("/v2/s/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(post);
  RawConnection stalled(server.port());
  stalled.Send("PATCH " + post->get_header_value("Location") +
               " HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\npartial");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.Stop();  // returns: the stalled body does not hold the server forever
  CHECK(stalled.ClosedByPeer());
  bool warned = false;
  for (const auto& m : server.messages())
    warned |= m.find("shutdown deadline") != std::string::npos;
  CHECK(warned);
}

TEST_CASE("Past the shutdown deadline a stalled download is cut off", "[integration][shutdown]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.shutdown_timeout = std::chrono::seconds(1);
  });
  // Larger than the socket buffers hold: the server is still sending when it stops.
  std::string blob(40 * 1024 * 1024, '\0');
  for (size_t i = 0; i < blob.size(); i += 4096) blob[i] = static_cast<char>(i / 4096);
  const std::string digest = PushBlob(*server.Client(), "stalled", blob);
  RawConnection stalled(server.port());
  stalled.Send("GET /v2/stalled/blobs/" + digest + " HTTP/1.1\r\nHost: x\r\n\r\n");
  // The client reads nothing: no Content-Length worth of bytes can have left the server.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server.Stop();
  CHECK(stalled.ClosedByPeer());
  CHECK_FALSE(stalled.ReadResponse(false, 1000));
  bool warned = false;
  for (const auto& m : server.messages())
    warned |= m.find("shutdown deadline") != std::string::npos;
  CHECK(warned);
}
