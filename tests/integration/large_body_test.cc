// SPDX-License-Identifier: Apache-2.0
// Large request bodies, which the server receives straight from the connection's socket (from
// 1 MiB with a Content-Length, or chunked): they arrive whole whatever pieces the client sends
// them in, the next request on the connection is read correctly, and a body cut short or
// misframed leaves no blob.
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "test_server.h"

using ocireg::testing::RawConnection;
using ocireg::testing::RawResponse;
using ocireg::testing::Sha256;
using ocireg::testing::TestServer;

namespace {

// Bytes that differ from one offset to the next, so that a piece lost, repeated or reordered
// changes the digest. Not a multiple of any buffer size.
std::string LargeBody() {
  std::string body(3 * 1024 * 1024 + 17, '\0');
  uint32_t state = 2463534242u;
  for (char& c : body) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    c = static_cast<char>(state);
  }
  return body;
}

std::string HeaderValue(const RawResponse& res, const std::string& name) {
  size_t at = res.head.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  at += name.size() + 4;
  return res.head.substr(at, res.head.find("\r\n", at) - at);
}

// Opens an upload session on `raw`; returns its Location.
std::string StartUpload(RawConnection& raw, const std::string& repo) {
  raw.Send("POST /v2/" + repo + "/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  auto started = raw.ReadResponse();
  REQUIRE(started);
  REQUIRE(started->status == 202);
  return HeaderValue(*started, "Location");
}

std::string PutHead(const std::string& location, const std::string& digest, size_t length) {
  return "PUT " + location + (location.find('?') == std::string::npos ? "?" : "&") +
         "digest=" + digest + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n" +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

// A server, the large body with its digest, and an upload session opened on a raw connection.
struct LargeUpload {
  explicit LargeUpload(const std::string& repo)
      : raw(server.port()), location(StartUpload(raw, repo)) {}

  // The closing PUT's answer is 201, and the blob reads back as the body on a new connection.
  void CheckCommitted(const std::string& repo) {
    auto put = raw.ReadResponse();
    REQUIRE(put);
    CHECK(put->status == 201);
    auto get = server.Client()->Get("/v2/" + repo + "/blobs/" + digest);
    REQUIRE(get);
    CHECK(get->status == 200);
    CHECK(get->body == body);
  }

  TestServer server;
  const std::string body = LargeBody();
  const std::string digest = Sha256(body);
  RawConnection raw;
  std::string location;
};

}  // namespace

TEST_CASE("A large body sent in one go is stored whole, and a pipelined request follows",
          "[integration][large-body]") {
  LargeUpload up("large/one");
  auto& [server, body, digest, raw, location] = up;
  // The next request right behind the body, in the same send: its bytes must not be taken for
  // the body, nor the body's for it.
  raw.Send(PutHead(location, digest, body.size()) + body + "GET /v2/large/one/blobs/" + digest +
           " HTTP/1.1\r\nHost: x\r\n\r\n");
  auto put = raw.ReadResponse();
  REQUIRE(put);
  CHECK(put->status == 201);
  CHECK(HeaderValue(*put, "Docker-Content-Digest") == digest);
  CHECK_FALSE(put->HasHeader("Connection: close"));
  auto get = raw.ReadResponse();
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body.size() == body.size());
  CHECK(get->body == body);
}

TEST_CASE("A large body that arrives in small, slow pieces is stored whole",
          "[integration][large-body]") {
  LargeUpload up("large/slow");
  auto& [server, body, digest, raw, location] = up;
  raw.Send(PutHead(location, digest, body.size()));
  // One byte, then uneven pieces with pauses: each read returns whatever has arrived.
  const size_t pieces[] = {1, 4095, 70000, 1 << 20, 3, 1 << 20};
  size_t sent = 0;
  for (size_t piece : pieces) {
    raw.Send(std::string_view(body).substr(sent, piece));
    sent += piece;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
  }
  raw.Send(std::string_view(body).substr(sent));
  up.CheckCommitted("large/slow");
}

TEST_CASE("Large PATCH chunks on one keep-alive connection make one blob",
          "[integration][large-body]") {
  LargeUpload up("large/chunks");
  auto& [server, body, digest, raw, location] = up;
  const size_t split = 2 * 1024 * 1024 + 5;
  for (auto [first, length] :
       {std::pair{size_t{0}, split}, std::pair{split, body.size() - split}}) {
    raw.Send("PATCH " + location +
             " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
             "Content-Range: " +
             std::to_string(first) + "-" + std::to_string(first + length - 1) +
             "\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n" +
             body.substr(first, length));
    auto patched = raw.ReadResponse();
    REQUIRE(patched);
    REQUIRE(patched->status == 202);
    CHECK(HeaderValue(*patched, "Range") == "0-" + std::to_string(first + length - 1));
    location = HeaderValue(*patched, "Location");
  }
  raw.Send(PutHead(location, digest, 0));
  up.CheckCommitted("large/chunks");
}

TEST_CASE("A large body cut short leaves no blob, and the server goes on",
          "[integration][large-body]") {
  LargeUpload up("large/short");
  auto& [server, body, digest, raw, location] = up;
  raw.Send(PutHead(location, digest, body.size()) + body.substr(0, 2 * 1024 * 1024));
  raw.FinishSending();
  // httplib 0.11 writes nothing to a peer that has shut its side (it takes end-of-file for a
  // dead connection), so the only answer is the close.
  CHECK(raw.ClosedByPeer());

  auto client = server.Client();
  auto head = client->Head("/v2/large/short/blobs/" + digest);
  REQUIRE(head);
  CHECK(head->status == 404);
  auto base = client->Get("/v2/");
  REQUIRE(base);
  CHECK(base->status == 200);
}

namespace {

// `body` as a chunked body in chunks of `chunk` bytes, with an extension and a trailer field.
std::string Chunked(std::string_view body, size_t chunk) {
  std::string out;
  char size[32];
  for (size_t at = 0; at < body.size(); at += chunk) {
    std::string_view piece = body.substr(at, chunk);
    std::snprintf(size, sizeof(size), "%zx", piece.size());
    out += std::string(size) + (at == 0 ? ";first=yes" : "") + "\r\n";
    out.append(piece);
    out += "\r\n";
  }
  return out + "0\r\nX-Trailer: dropped\r\n\r\n";
}

std::string ChunkedPatchHead(const std::string& location) {
  return "PATCH " + location +
         " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
         "Transfer-Encoding: chunked\r\n\r\n";
}

}  // namespace

TEST_CASE("A chunked PATCH is stored whole and the connection serves the next request",
          "[integration][large-body][chunked]") {
  LargeUpload up("large/te");
  auto& [server, body, digest, raw, location] = up;
  // 32 KiB chunks, as Go's HTTP client sends for skopeo and podman, and uneven ones.
  const size_t chunk = GENERATE(32 * 1024, 1000 * 1000 + 7);
  raw.Send(ChunkedPatchHead(location) + Chunked(body, chunk));
  auto patched = raw.ReadResponse();
  REQUIRE(patched);
  REQUIRE(patched->status == 202);
  CHECK(HeaderValue(*patched, "Range") == "0-" + std::to_string(body.size() - 1));
  CHECK_FALSE(patched->HasHeader("Connection: close"));
  // The same connection carries the closing PUT: the body's end was found exactly.
  raw.Send(PutHead(HeaderValue(*patched, "Location"), digest, 0));
  up.CheckCommitted("large/te");
}

TEST_CASE("A chunked PATCH with bad framing is refused, keeps nothing and ends the connection",
          "[integration][large-body][chunked]") {
  LargeUpload up("large/te-bad");
  auto& [server, body, digest, raw, location] = up;
  std::string framed = Chunked(std::string_view(body).substr(0, 2 * 1024 * 1024), 64 * 1024);
  // A chunk longer than its size: what follows its size must not be read as anything else.
  const std::string hidden = "GET /v2/_catalog HTTP/1.1\r\nHost: x\r\n\r\n";
  framed.insert(framed.find("\r\n", 10) + 2 + 100, "\r\n0\r\n\r\n" + hidden);
  raw.Send(ChunkedPatchHead(location) + framed);
  auto refused = raw.ReadResponse();
  REQUIRE(refused);
  CHECK(refused->status == 400);
  CHECK(ocireg::testing::ErrorCodeOf(refused->body) == "BLOB_UPLOAD_INVALID");
  CHECK(raw.ClosedByPeer());
  CHECK_FALSE(raw.ReadResponse(false, 100));
  // The session still has the 0 bytes it had: a client may resume from there.
  auto status = server.Client()->Get(location);
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-0");
}
