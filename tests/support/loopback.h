// SPDX-License-Identifier: Apache-2.0
// Sockets of tests on 127.0.0.1: a port for a child server to listen on, and a short exchange
// with a server that may be down or hung.
//
//   const uint16_t port = FreeLoopbackPort();   // then start the server on it; retry on failure
//   std::string answer = ExchangeWithLoopback(port, "PING\r\n", "\r\n", 500ms);
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ocireg::testing {

// A port that was free on 127.0.0.1 a moment ago. Another process may take it before the server
// meant for it binds it, so whoever starts a server on it checks that it came up and otherwise
// tries again with another port.
inline uint16_t FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) throw std::runtime_error("cannot find a free port on 127.0.0.1");
  return ntohs(address.sin_port);
}

// Connects to 127.0.0.1:`port`, sends `request` and reads until the answer ends with `until`
// (never when it is ""), the server closes the connection, or `timeout` has passed since the call.
// Returns what was read ("" when nothing listens). A hung server that the kernel still accepts
// connections for answers "" after `timeout`.
inline std::string ExchangeWithLoopback(uint16_t port, std::string_view request,
                                        std::string_view until, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  // On loopback, connect is refused or accepted at once (a stopped server's backlog accepts).
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    while (until.empty() || answer.size() < until.size() ||
           answer.compare(answer.size() - until.size(), until.size(), until) != 0) {
      const auto left =
          std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd waiting{fd, POLLIN, 0};
      if (poll(&waiting, 1, static_cast<int>(left.count())) != 1) break;
      char buffer[4096];
      const ssize_t got = recv(fd, buffer, sizeof(buffer), 0);
      if (got <= 0) break;
      answer.append(buffer, static_cast<size_t>(got));
    }
  }
  close(fd);
  return answer;
}

}  // namespace ocireg::testing
