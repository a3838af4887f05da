// SPDX-License-Identifier: Apache-2.0
// ConnectionStream: reads serve the buffered head first and never go past the request's body;
// SendFile sends a file's bytes that httplib then counts without sending them again.
#include "server/connection_stream.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
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
  while (stream.Buffered().size() < first.size() + second.size()) {
    REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 1 << 20) > 0);
  }
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
  while (stream.Buffered().size() < head.size()) {
    REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 1 << 20) > 0);
  }
  stream.BeginRequest(head.size(), std::nullopt);
  std::string read_head(head.size(), '\0');
  REQUIRE(stream.read(read_head.data(), read_head.size()) == static_cast<ssize_t>(head.size()));
}

// A file of `bytes` that the stream may sendfile() from; removed with the object.
struct TempFile {
  explicit TempFile(const std::string& bytes) {
    char name[] = "/tmp/ocireg-sendfile-XXXXXX";
    fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    ::unlink(name);
    REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  ~TempFile() { ::close(fd); }
  int fd = -1;
};

// Reads `size` bytes from the test's end of `pair` (fewer when it closes first).
std::string Receive(const Pair& pair, size_t size) {
  std::string out(size, '\0');
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::recv(pair.fds[1], out.data() + got, size - got, 0);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

std::string Pattern(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131) ^ (i >> 9));
  return bytes;
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
  while (stream.Buffered().size() < next.size()) {
    REQUIRE(stream.Fill(Clock::now() + std::chrono::seconds(5), 1 << 20) > 0);
  }
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

TEST_CASE("ConnectionStream sends a file's range, and httplib's write of it adds nothing",
          "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  REQUIRE(stream.CanSendFile());
  const std::string bytes = Pattern(3 * 1024 * 1024 + 5);
  TempFile file(bytes);
  const uint64_t first = 1024 * 1024 - 3;
  const size_t length = 2 * 1024 * 1024;
  std::string got;
  std::thread reader([&] { got = Receive(pair, length + 4); });
  REQUIRE(stream.SendFile(file.fd, first, length) == static_cast<ssize_t>(length));
  // httplib counts the bytes through its sink: that write sends nothing, nor reads the buffer.
  REQUIRE(stream.write(nullptr, length) == static_cast<ssize_t>(length));
  REQUIRE(stream.write("tail", 4) == 4);
  reader.join();
  CHECK(got == bytes.substr(first, length) + "tail");
}

TEST_CASE("ConnectionStream counts sent bytes across httplib's writes", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  TempFile file("0123456789");
  REQUIRE(stream.SendFile(file.fd, 2, 5) == 5);
  // A write longer than what was sent ahead skips the sent part and sends the rest.
  REQUIRE(stream.write("XXXab", 3) == 3);
  REQUIRE(stream.write("XXab", 4) == 4);
  CHECK(Receive(pair, 7) == "23456ab");
}

TEST_CASE("ConnectionStream SendFile stops where the file ends", "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  TempFile file("short file");
  // The file changed under the reader: fewer bytes than asked, then none.
  CHECK(stream.SendFile(file.fd, 6, 100) == 4);
  CHECK(stream.SendFile(file.fd, 10, 100) == 0);
  CHECK(stream.write(nullptr, 4) == 4);
  CHECK(stream.write("!", 1) == 1);
  CHECK(Receive(pair, 5) == "file!");
}

TEST_CASE("ConnectionStream SendFile gives up when the client takes nothing",
          "[unit][connection]") {
  Pair pair;
  ConnectionStream stream(pair.fds[0], nullptr, Short());
  const std::string bytes = Pattern(32 * 1024 * 1024);
  TempFile file(bytes);
  // Nobody reads the other end: once the socket buffers are full, the write timeout ends it.
  CHECK(stream.SendFile(file.fd, 0, bytes.size()) == -1);
  CHECK(stream.SendFile(-1, 0, 10) == -1);
}
