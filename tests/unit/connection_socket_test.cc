// SPDX-License-Identifier: Apache-2.0
// ConnectionSocket: a request's two ends name exactly one of the process's sockets.
#include "http/connection_socket.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include "catch.h"

namespace {

using ocireg::internal::ConnectionSocket;

uint16_t PortOf(int fd, bool peer) {
  sockaddr_in addr{};
  socklen_t length = sizeof(addr);
  auto* generic = reinterpret_cast<sockaddr*>(&addr);
  REQUIRE((peer ? ::getpeername(fd, generic, &length) : ::getsockname(fd, generic, &length)) == 0);
  return ntohs(addr.sin_port);
}

// A listening socket on 127.0.0.1 and one accepted connection to it, closed at the end.
struct Loopback {
  Loopback() {
    listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    addr.sin_port = htons(PortOf(listener, false));
    client = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    server = ::accept(listener, nullptr, nullptr);
    REQUIRE(server >= 0);
  }
  ~Loopback() {
    for (int fd : {listener, client, server}) {
      if (fd >= 0) ::close(fd);
    }
  }
  // The request httplib would build for a request that came in on `server`.
  httplib::Request Request() const {
    httplib::Request req;
    req.remote_addr = "127.0.0.1";
    req.remote_port = PortOf(client, false);
    req.local_addr = "127.0.0.1";
    req.local_port = PortOf(listener, false);
    return req;
  }
  int listener = -1;
  int client = -1;
  int server = -1;
};

}  // namespace

TEST_CASE("ConnectionSocket finds the accepted socket, not the client's end", "[unit][socket]") {
  Loopback loopback;
  auto found = ConnectionSocket(loopback.Request());
  REQUIRE(found);
  CHECK(*found == loopback.server);
  // Asked again (the cached answer), the same.
  CHECK(ConnectionSocket(loopback.Request()) == loopback.server);
}

TEST_CASE("ConnectionSocket finds nothing for ends no socket has", "[unit][socket]") {
  Loopback loopback;
  auto req = loopback.Request();
  req.remote_port = req.remote_port == 65535 ? 65534 : req.remote_port + 1;
  CHECK_FALSE(ConnectionSocket(req));
  req = loopback.Request();
  req.local_addr = "127.0.0.2";
  CHECK_FALSE(ConnectionSocket(req));
  req.local_port = -1;
  CHECK_FALSE(ConnectionSocket(req));
}

TEST_CASE("ConnectionSocket does not hand out a socket that was closed since", "[unit][socket]") {
  auto first = std::make_unique<Loopback>();
  const auto req = first->Request();
  REQUIRE(ConnectionSocket(req) == first->server);
  first.reset();
  CHECK_FALSE(ConnectionSocket(req));
  // A new connection may reuse the descriptor number; it is found by its own ends only.
  Loopback second;
  CHECK_FALSE(ConnectionSocket(req));
  CHECK(ConnectionSocket(second.Request()) == second.server);
}
