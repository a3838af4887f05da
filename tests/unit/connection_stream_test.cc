// SPDX-License-Identifier: Apache-2.0
// ConnectionStream: reads serve the buffered head first and never go past the request's body; a
// chunked body is decoded to its exact end.
#include "server/connection_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>

#include "catch.h"

namespace {

using ocireg::internal::Clock;
using ocireg::internal::ConnectionStream;
using ocireg::internal::StreamTimeouts;

// A connected pair of local stream sockets: the stream owns one end, the test writes the other.
struct Pair {
  Pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~Pair() {
    if (fds[1] >= 0) ::close(fds[1]);
  }
  void Send(const std::string& bytes) const {
    REQUIRE(::send(fds[1], bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
  }
  int fds[2] = {-1, -1};
};

StreamTimeouts Short() {
  StreamTimeouts timeouts;
  timeouts.read = std::chrono::milliseconds(200);
  timeouts.write = std::chrono::milliseconds(200);
  return timeouts;
}

// Receives until at least `size` bytes are buffered.
void FillTo(ConnectionStream& stream, size_t size) {
  while (stream.Buffered().size() < size) {
    REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 1 << 20) > 0);
  }
}

std::string ReadAll(ConnectionStream& stream, size_t piece) {
  std::string out;
  std::string chunk(piece, '\0');
  for (;;) {
    ssize_t n = stream.read(chunk.data(), chunk.size());
    if (n <= 0) return out;
    out.append(chunk.data(), static_cast<size_t>(n));
  }
}

}  // namespace

TEST_CASE("ConnectionStream reads a request up to its body's end, not into the next one",
          "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  const std::string first = "PUT /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello";
  const std::string second = "GET /v2/ HTTP/1.1\r\nHost: a\r\n\r\n";
  pair.Send(first + second);
  FillTo(stream, first.size() + second.size());
  stream.BeginRequest(first.size() - 5, 5);
  CHECK(ReadAll(stream, 1) == first);  // a byte at a time, as httplib reads a line
  CHECK(stream.RequestConsumed());
  CHECK(stream.Buffered() == second);
}

TEST_CASE("ConnectionStream counts a body left unread", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  pair.Send("PATCH /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123");
  REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 1 << 20) > 0);
  stream.BeginRequest(std::string("PATCH /x HTTP/1.1\r\nContent-Length: 10\r\n\r\n").size(), 10);
  CHECK_FALSE(stream.RequestConsumed());
  // The rest of the body never comes: the read times out instead of returning other bytes.
  std::string out = ReadAll(stream, 4096);
  CHECK(out.ends_with("0123"));
  CHECK_FALSE(stream.RequestConsumed());
}

TEST_CASE("ConnectionStream reads a large body straight from the socket", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  const std::string body(64 * 1024, 'b');
  std::thread writer([&] { pair.Send("HEAD\r\n" + body + "tail"); });
  REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 6) == 6);
  stream.BeginRequest(6, body.size());
  std::string head(6, '\0');
  REQUIRE(stream.read(head.data(), head.size()) == 6);
  std::string got = ReadAll(stream, 128 * 1024);
  writer.join();
  CHECK(got == body);
  CHECK(stream.RequestConsumed());
  stream.BeginRequest(0, 4);
  CHECK(ReadAll(stream, 4096) == "tail");
}

TEST_CASE("ConnectionStream Fill times out and reports a closed peer", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  CHECK(stream.Fill(Clock::now() + std::chrono::milliseconds(50), 100) ==
        ConnectionStream::kTimedOut);
  ::close(pair.fds[1]);
  pair.fds[1] = -1;
  CHECK(stream.Fill(Clock::now() + std::chrono::seconds(5), 100) == 0);
}

namespace {

// Reads a chunked body through ReadBody in pieces of `piece` bytes; nullopt when it fails.
std::optional<std::string> ReadChunkedBody(ConnectionStream& stream, size_t piece) {
  std::string out;
  std::string chunk(piece, '\0');
  for (;;) {
    ssize_t n = stream.ReadBody(chunk);
    if (n < 0) return std::nullopt;
    if (n == 0) return out;
    out.append(chunk.data(), static_cast<size_t>(n));
  }
}

// Starts a request on `stream` whose head httplib has read: the head and a chunked body.
void BeginChunked(ConnectionStream& stream, const std::string& head) {
  FillTo(stream, head.size());
  stream.BeginRequest(head.size(), std::nullopt);
  std::string read_head(head.size(), '\0');
  REQUIRE(stream.read(read_head.data(), read_head.size()) == static_cast<ssize_t>(head.size()));
}

}  // namespace

TEST_CASE("ConnectionStream decodes a chunked body to its end and keeps the next request",
          "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  const std::string head = "PATCH /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string big(200 * 1024, 'd');  // larger than the stream's buffer
  std::string body = "3\r\nabc\r\n";
  body += "32000\r\n" + big + "\r\n";
  body += "0\r\nTrailer: x\r\n\r\n";
  const std::string next = "GET /v2/ HTTP/1.1\r\nHost: a\r\n\r\n";
  std::thread writer([&] { pair.Send(head + body + next); });
  BeginChunked(stream, head);
  CHECK_FALSE(stream.RequestConsumed());
  const size_t piece = GENERATE(1, 4096, 1 << 20);
  auto got = ReadChunkedBody(stream, piece);
  writer.join();
  REQUIRE(got);
  CHECK(*got == "abc" + big);
  CHECK(stream.RequestConsumed());
  FillTo(stream, next.size());
  CHECK(stream.Buffered() == next);
}

TEST_CASE("ConnectionStream refuses a malformed or unfinished chunked body", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  const std::string head = "PATCH /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  SECTION("data longer than its chunk size") {
    pair.Send(head + "3\r\nabcdef\r\n0\r\n\r\n");
    BeginChunked(stream, head);
    CHECK_FALSE(ReadChunkedBody(stream, 4096));
  }
  SECTION("a body that stops before its last chunk") {
    pair.Send(head + "3\r\nabc\r\n");
    BeginChunked(stream, head);
    CHECK_FALSE(ReadChunkedBody(stream, 4096));  // the read timeout ends the wait
  }
  SECTION("a peer that closes in the middle") {
    pair.Send(head + "10\r\nabc");
    ::close(pair.fds[1]);
    pair.fds[1] = -1;
    BeginChunked(stream, head);
    CHECK_FALSE(ReadChunkedBody(stream, 4096));
  }
  CHECK_FALSE(stream.RequestConsumed());
}
