// SPDX-License-Identifier: Apache-2.0
// RawConnection: a plain TCP client for the HTTP cases httplib::Client cannot produce (bodies
// without framing, Expect: 100-continue, several requests on one connection, exact bytes).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ocireg::testing {

struct RawResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool HasHeader(std::string_view line) const { return head.find(line) != std::string::npos; }
};

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      if (fd_ >= 0) ::close(fd_);
      fd_ = -1;
      throw std::runtime_error("connect to 127.0.0.1 failed");
    }
  }
  // Whether something accepts TCP connections on 127.0.0.1:`port`.
  static bool PortAccepting(uint16_t port) {
    try {
      RawConnection probe(port);
      return true;
    } catch (const std::runtime_error&) {
      return false;
    }
  }

  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  // False when the peer is gone.
  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Ends the request stream: the server reads end-of-file after what was sent.
  void FinishSending() { ::shutdown(fd_, SHUT_WR); }

  // One response: head, then a Content-Length body (HEAD responses: pass head_request). nullopt
  // when the connection closed or nothing came within `timeout_ms`.
  std::optional<RawResponse> ReadResponse(bool head_request = false, int timeout_ms = 10000) {
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(timeout_ms)) return std::nullopt;
    }
    RawResponse res;
    res.head = buffer_.substr(0, end + 2);
    buffer_.erase(0, end + 4);
    res.status = std::atoi(res.head.c_str() + res.head.find(' ') + 1);
    size_t length = 0;
    for (const char* name : {"Content-Length: ", "content-length: "}) {
      size_t at = res.head.find(name);
      if (at != std::string::npos) length = std::strtoull(res.head.c_str() + at + 16, nullptr, 10);
    }
    if (head_request || res.status == 100 || res.status == 204) length = 0;
    while (buffer_.size() < length) {
      if (!Fill(timeout_ms)) return std::nullopt;
    }
    res.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return res;
  }

  // True when the server closes the connection (EOF or reset) within `timeout_ms`; bytes that
  // arrive meanwhile are kept for ReadResponse.
  bool ClosedByPeer(int timeout_ms = 10000) {
    while (true) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n <= 0) return true;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  bool Fill(int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char chunk[16384];
    ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buffer_;
};

}  // namespace ocireg::testing
