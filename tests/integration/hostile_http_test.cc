// SPDX-License-Identifier: Apache-2.0
// Hostile HTTP on raw sockets: request smuggling through unread or misframed bodies, unrouted
// methods, oversized and slow request heads, a missing Host. Each case names the defect it pins.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "test_server.h"

using ocireg::testing::RawConnection;
using ocireg::testing::RawResponse;
using ocireg::testing::Sha256;
using ocireg::testing::TempDir;
using ocireg::testing::TestServer;

namespace {

// A request a client could hide in a body: answering it means the body was taken for requests.
const std::string kHidden = "GET /v2/_catalog HTTP/1.1\r\nHost: x\r\n\r\n";
// Bodies are made larger than one receive: bytes received with the head in one piece could be
// dropped with the receive buffer instead of being read as requests, hiding the defect.
constexpr size_t kHiddenBytes = 64 * 1024;

// `size` bytes of hidden requests, one after another.
std::string HiddenRequests(size_t size) {
  std::string body;
  while (body.size() < size) body += kHidden;
  body.resize(size);
  return body;
}

// A server that requires a login (an htpasswd file with one user; anonymous gets 401).
TestServer::Adjust WithLogin(const std::filesystem::path& dir) {
  return [dir](ocireg::Config& config, ocireg::ServerHooks&) {
    const auto file = dir / "htpasswd";
    std::ofstream(file) << "alice:$2y$04$Yq20Y7XS11t72mL/SX3giOadAqqCt1suoAxwGFW7/EsjygZ.m26Hu\n";
    config.auth.htpasswd.file = file.string();
  };
}

// Reads one response with status `status`, then requires that the server closes the connection
// without a second response: nothing after the head was taken for a request.
void ExpectOneResponseThenClose(RawConnection& raw, int status) {
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == status);
  CHECK(res->HasHeader("application/json"));
  CHECK(raw.ClosedByPeer());
  CHECK_FALSE(raw.ReadResponse(false, 100));
}

}  // namespace

TEST_CASE("A 401 to a PATCH ends the connection: its 2 MiB body is never read as requests",
          "[integration][hostile]") {
  TempDir files;
  TestServer server(WithLogin(files.path()));
  RawConnection raw(server.port());
  const std::string body = HiddenRequests(2 * 1024 * 1024);
  raw.Send("PATCH /v2/a/blobs/uploads/x HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
  ExpectOneResponseThenClose(raw, 401);
}

TEST_CASE("A 401 to a manifest PUT with Expect: 100-continue does not run the body it sent",
          "[integration][hostile]") {
  TempDir files;
  TestServer server(WithLogin(files.path()));
  RawConnection raw(server.port());
  const std::string body = HiddenRequests(kHiddenBytes);
  raw.Send(
      "PUT /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
      "Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  ExpectOneResponseThenClose(raw, 401);
}

TEST_CASE("A 404 BLOB_UPLOAD_UNKNOWN ends the connection under a large unread body",
          "[integration][hostile]") {
  TestServer server;
  RawConnection raw(server.port());
  const std::string body = HiddenRequests(2 * 1024 * 1024);
  raw.Send("PATCH /v2/a/blobs/uploads/unknown HTTP/1.1\r\nHost: x\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 404);
  CHECK(ocireg::testing::ErrorCodeOf(res->body) == "BLOB_UPLOAD_UNKNOWN");
  CHECK(raw.ClosedByPeer());
  CHECK_FALSE(raw.ReadResponse(false, 100));
}

TEST_CASE("A GET or HEAD with a body is refused and its body not run", "[integration][hostile]") {
  TestServer server;
  const std::string method = GENERATE("GET", "HEAD");
  RawConnection raw(server.port());
  raw.Send(method + " /v2/ HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(kHiddenBytes) +
           "\r\n\r\n" + HiddenRequests(kHiddenBytes));
  auto res = raw.ReadResponse(method == "HEAD");
  REQUIRE(res);
  CHECK(res->status == 400);
  CHECK(raw.ClosedByPeer());
  CHECK_FALSE(raw.ReadResponse(false, 100));
}

TEST_CASE("Transfer-Encoding is matched without regard to case", "[integration][hostile]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.Send("POST /v2/te/blobs/uploads/?digest=" + Sha256("abc") +
           " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 201);
  // Had the body been taken as empty, its chunks would now be answered as a request.
  CHECK_FALSE(raw.ReadResponse(false, 300));
  auto client = server.Client();
  auto blob = client->Get("/v2/te/blobs/" + Sha256("abc"));
  REQUIRE(blob);
  CHECK(blob->body == "abc");
}

TEST_CASE("Transfer-Encoding with a Content-Length is refused, not stored as framing",
          "[integration][hostile]") {
  TestServer server;
  const std::string coding = GENERATE("chunked", "Chunked");
  const std::string data(1024 * 1024, 'd');
  const std::string framed = "100000\r\n" + data + "\r\n0\r\n\r\n";
  RawConnection raw(server.port());
  // The digest of the framed bytes: the blob a server reading Content-Length bytes would store.
  raw.Send("POST /v2/te/blobs/uploads/?digest=" + Sha256(framed) +
           " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding +
           "\r\nContent-Length: " + std::to_string(framed.size()) + "\r\n\r\n" + framed);
  ExpectOneResponseThenClose(raw, 400);
  auto client = server.Client();
  auto blob = client->Head("/v2/te/blobs/" + Sha256(framed));
  REQUIRE(blob);
  CHECK(blob->status == 404);
}

TEST_CASE("A malformed Content-Length is refused and its body not run", "[integration][hostile]") {
  TestServer server;
  const std::string length = GENERATE("+38", "38, 38", "0x26", "38 38");
  RawConnection raw(server.port());
  raw.Send("PUT /v2/a/manifests/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: " + length +
           "\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\n\r\n" +
           HiddenRequests(kHiddenBytes));
  ExpectOneResponseThenClose(raw, 400);
}

TEST_CASE("Two Content-Length headers are refused, equal or not", "[integration][hostile]") {
  TestServer server;
  const std::string second = GENERATE("3", "41");
  RawConnection raw(server.port());
  raw.Send("POST /v2/cl/blobs/uploads/?digest=" + Sha256("abc") +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: " + second +
           "\r\n\r\nabc" + HiddenRequests(kHiddenBytes));
  ExpectOneResponseThenClose(raw, 400);
}

TEST_CASE("Connection: close is honoured in any case", "[integration][hostile]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nconnection: CLOSE\r\n\r\n");
  auto res = raw.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 200);
  // A server that kept the connection would answer this one.
  raw.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK_FALSE(raw.ReadResponse(false, 1000));
}

TEST_CASE("A method the API does not use is refused before its body is read",
          "[integration][hostile]") {
  TestServer server;
  const std::string encoding = GENERATE("", "Content-Encoding: gzip\r\n");
  RawConnection raw(server.port());
  // Only the head is sent: the answer must not wait for the 10 MiB it announces.
  raw.Send("PRI /v2/ HTTP/1.1\r\nHost: x\r\n" + encoding + "Content-Length: 10485760\r\n\r\n");
  auto res = raw.ReadResponse(false, 5000);
  REQUIRE(res);
  CHECK(res->status == 501);
  CHECK(raw.ClosedByPeer());
}

TEST_CASE("A request line without end is refused at its limit and the connection closed",
          "[integration][hostile]") {
  TestServer server;
  RawConnection raw(server.port());
  REQUIRE(raw.Send("GET /"));
  const std::string piece(64 * 1024, 'a');
  size_t sent = 0;
  constexpr size_t kMost = 200 * 1024 * 1024;
  while (sent < kMost && raw.Send(piece)) sent += piece.size();
  // The server stopped reading long before 200 MiB; if its answer survived the reset, it is 414.
  CHECK(sent < kMost);
  if (auto res = raw.ReadResponse(false, 1000)) CHECK(res->status == 414);
}

TEST_CASE("More than 100 header fields are refused with 431", "[integration][hostile]") {
  TestServer server;
  std::string head = "GET /v2/ HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 120; ++i) head += "X-Field-" + std::to_string(i) + ": v\r\n";
  RawConnection raw(server.port());
  raw.Send(head + "\r\n");
  ExpectOneResponseThenClose(raw, 431);
}

TEST_CASE("A request head that does not arrive within header_timeout ends with 408",
          "[integration][hostile]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.header_timeout = std::chrono::seconds(1);
  });
  RawConnection raw(server.port());
  REQUIRE(raw.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n"));
  // One header byte every 200 ms keeps every single receive well within read_timeout (10 s).
  bool closed = false;
  for (int i = 0; i < 40 && !closed; ++i) {
    if (!raw.Send("X")) break;
    closed = raw.ClosedByPeer(200);
  }
  CHECK(closed);
  auto res = raw.ReadResponse(false, 100);
  REQUIRE(res);
  CHECK(res->status == 408);
}

TEST_CASE("An HTTP/1.1 request without Host is refused with 400", "[integration][hostile]") {
  TestServer server;
  RawConnection raw(server.port());
  raw.Send("GET /v2/ HTTP/1.1\r\n\r\n");
  ExpectOneResponseThenClose(raw, 400);
  RawConnection old(server.port());
  old.Send("GET /v2/ HTTP/1.0\r\n\r\n");
  auto res = old.ReadResponse();
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("Clients that send their heads slowly hold no worker: others are served beside them",
          "[integration][hostile][slow]") {
  // 16 worker threads (the test configuration) against 300 slow clients.
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.header_timeout = std::chrono::seconds(2);
  });
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 300; ++i) {
    slow.push_back(std::make_unique<RawConnection>(server.port()));
    slow.back()->Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  for (auto& connection : slow) connection->Send("a");
  // A hang here is the failure: the bound is generous.
  RawConnection normal(server.port());
  normal.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  auto res = normal.ReadResponse(false, 5000);
  REQUIRE(res);
  CHECK(res->status == 200);
  // Each slow head is cut off at its deadline.
  int closed = 0;
  for (auto& connection : slow) closed += connection->ClosedByPeer(10000) ? 1 : 0;
  CHECK(closed == 300);
}

TEST_CASE("Past max_open_connections a new connection gets 503 with Retry-After",
          "[integration][hostile][slow]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.limits.max_open_connections = 20;
  });
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 20; ++i) idle.push_back(std::make_unique<RawConnection>(server.port()));
  // Each of the 20 is open: one request on each keeps it so.
  for (auto& connection : idle) {
    connection->Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    auto ok = connection->ReadResponse();
    REQUIRE(ok);
  }
  RawConnection extra(server.port());
  auto res = extra.ReadResponse(false, 5000);
  REQUIRE(res);
  CHECK(res->status == 503);
  CHECK(res->HasHeader("Retry-After: 1"));
  CHECK(extra.ClosedByPeer());
  idle.clear();
  // Once they are gone, connections are served again (the count follows closes).
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    RawConnection again(server.port());
    again.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
    auto next = again.ReadResponse();
    served = next && next->status == 200;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(served);
}
