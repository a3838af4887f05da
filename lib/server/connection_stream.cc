// SPDX-License-Identifier: Apache-2.0
// ConnectionStream: buffered, deadline-bounded reads and writes on a non-blocking socket or TLS.
#include "server/connection_stream.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ocireg::internal {
namespace {

// After our last response on a connection the client may still be sending: read and drop up to
// this much, for up to this long, before the socket is closed.
constexpr size_t kLingerBytes = 4 * 1024 * 1024;
constexpr std::chrono::milliseconds kLingerTime{2000};

void EndpointOf(const sockaddr_storage& storage, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST];
  char service[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&storage), length, host, sizeof(host),
                    service, sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(service);
}

}  // namespace

ConnectionStream::ConnectionStream(int fd, SSL* ssl, StreamTimeouts timeouts)
    : fd_(fd), ssl_(ssl), timeouts_(timeouts) {
  int flags = ::fcntl(fd_, F_GETFL);
  if (flags >= 0 && (flags & O_NONBLOCK) == 0) ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
}

ConnectionStream::~ConnectionStream() { Close(false, false); }

void ConnectionStream::EnsureBuffer() {
  if (!buffer_) buffer_.reset(new char[kBufferBytes]);
}

std::string_view ConnectionStream::Buffered() const {
  if (!buffer_) return {};
  return {buffer_.get() + begin_, end_ - begin_};
}

void ConnectionStream::LowercaseBuffered(size_t at, size_t size) {
  if (begin_ + at + size > end_) return;
  for (char* c = buffer_.get() + begin_ + at; size > 0; ++c, --size) {
    if (*c >= 'A' && *c <= 'Z') *c = static_cast<char>(*c - 'A' + 'a');
  }
}

bool ConnectionStream::WaitFor(short events, Clock::time_point deadline) const {
  for (;;) {
    const Clock::time_point now = Clock::now();
    if (deadline <= now) return false;  // also for time_point::min(): no wait at all
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    pollfd p{fd_, events, 0};
    int ready = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

ssize_t ConnectionStream::ReceiveNow(char* ptr, size_t size, bool& want_write) {
  want_write = false;
  if (ssl_ != nullptr) {
    ERR_clear_error();
    int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) return n;
    switch (SSL_get_error(ssl_, n)) {
      case SSL_ERROR_WANT_READ:
        return -2;
      case SSL_ERROR_WANT_WRITE:
        want_write = true;
        return -2;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      default:
        return -1;
    }
  }
  for (;;) {
    ssize_t n = ::recv(fd_, ptr, size, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
  }
}

ssize_t ConnectionStream::Receive(char* ptr, size_t size, Clock::time_point deadline) {
  for (;;) {
    bool want_write = false;
    ssize_t n = ReceiveNow(ptr, size, want_write);
    if (n != -2) return n;
    if (!WaitFor(want_write ? POLLOUT : POLLIN, deadline)) return kTimedOut;
  }
}

ssize_t ConnectionStream::Fill(Clock::time_point deadline, size_t room) {
  EnsureBuffer();
  if (begin_ == end_) begin_ = end_ = 0;
  if (begin_ > 0 && end_ == kBufferBytes) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  size_t space = std::min(kBufferBytes - end_, room);
  if (space == 0) return -1;
  ssize_t n = Receive(buffer_.get() + end_, space, deadline);
  if (n > 0) end_ += static_cast<size_t>(n);
  return n;
}

void ConnectionStream::BeginRequest(size_t head_size, std::optional<uint64_t> body_length) {
  consumed_ = 0;
  head_size_ = head_size;
  limit_ = body_length ? std::optional<uint64_t>(head_size + *body_length) : std::nullopt;
  if (body_length) {
    chunked_.reset();
  } else {
    chunked_.emplace();
  }
  end_requested_ = false;
}

bool ConnectionStream::RequestConsumed() const {
  if (limit_) return consumed_ == *limit_;
  // httplib read exactly the head, and ReadBody the body to its last CRLF.
  return chunked_ && chunked_->done() && consumed_ == head_size_;
}

bool ConnectionStream::is_readable() const {
  if (begin_ < end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) return true;
  return WaitFor(POLLIN, Clock::now() + timeouts_.read);
}

bool ConnectionStream::is_writable() const {
  return WaitFor(POLLOUT, Clock::now() + timeouts_.write);
}

ssize_t ConnectionStream::ReadAvailable(char* ptr, size_t size) {
  if (begin_ == end_ && size >= kDirectReadBytes) {
    return std::max<ssize_t>(Receive(ptr, size, Clock::now() + timeouts_.read), -1);
  }
  if (begin_ == end_) {
    // httplib reads a line a byte at a time and a body 4 KiB at a time: one receive serves many.
    ssize_t n = Fill(Clock::now() + timeouts_.read, kBufferBytes);
    if (n <= 0) return std::max<ssize_t>(n, -1);
  }
  const size_t n = std::min(size, end_ - begin_);
  std::memcpy(ptr, buffer_.get() + begin_, n);
  begin_ += n;
  return static_cast<ssize_t>(n);
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (limit_) size = static_cast<size_t>(std::min<uint64_t>(size, *limit_ - consumed_));
  if (size == 0) return 0;
  ssize_t n = ReadAvailable(ptr, size);
  if (n > 0) consumed_ += static_cast<uint64_t>(n);
  return n;
}

ssize_t ConnectionStream::ReadBody(std::span<char> out) {
  if (chunked_) return ReadChunked(out);
  return read(out.data(), out.size());
}

ssize_t ConnectionStream::ReadChunked(std::span<char> out) {
  ChunkedFraming& framing = *chunked_;
  // httplib reading the body as well would leave neither reader with all of it.
  if (consumed_ != head_size_) return -1;
  while (!out.empty()) {
    if (framing.failed()) return -1;
    if (framing.done()) return 0;
    if (framing.data_left() > 0) {
      const auto want = static_cast<size_t>(std::min<uint64_t>(out.size(), framing.data_left()));
      ssize_t n = ReadAvailable(out.data(), want);
      if (n <= 0) return -1;  // the client closed or went quiet in the middle of the body
      framing.TookData(static_cast<uint64_t>(n));
      return n;
    }
    if (begin_ == end_) {
      ssize_t n = Fill(Clock::now() + timeouts_.read, kBufferBytes);
      if (n <= 0) return -1;
    }
    begin_ += framing.Consume(Buffered());
  }
  return 0;
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  size_t written = 0;
  const Clock::time_point deadline = Clock::now() + timeouts_.write;
  while (written < size) {
    short wait_for = POLLOUT;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      int n = SSL_write(ssl_, ptr + written,
                        static_cast<int>(std::min<size_t>(size - written, 1 << 30)));
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      int error = SSL_get_error(ssl_, n);
      if (error == SSL_ERROR_WANT_READ) {
        wait_for = POLLIN;
      } else if (error != SSL_ERROR_WANT_WRITE) {
        return -1;
      }
    } else {
      ssize_t n = ::send(fd_, ptr + written, size - written, MSG_NOSIGNAL);
      if (n > 0) {
        written += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return -1;
    }
    if (!WaitFor(wait_for, deadline)) return -1;
  }
  return static_cast<ssize_t>(written);
}

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    EndpointOf(storage, length, ip, port);
  }
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage storage{};
  socklen_t length = sizeof(storage);
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&storage), &length) == 0) {
    EndpointOf(storage, length, ip, port);
  }
}

void ConnectionStream::Close(bool graceful, bool linger) {
  if (fd_ < 0) return;
  if (ssl_ != nullptr) {
    if (graceful) {
      ERR_clear_error();
      SSL_shutdown(ssl_);  // our close_notify; the client's is not awaited
    }
    SSL_free(ssl_);
    ssl_ = nullptr;
  }
  ::shutdown(fd_, SHUT_WR);
  const Clock::time_point deadline = Clock::now() + (linger ? kLingerTime : Clock::duration(0));
  char sink[16 * 1024];
  size_t dropped = 0;
  while (linger && dropped < kLingerBytes && WaitFor(POLLIN, deadline)) {
    ssize_t n = ::recv(fd_, sink, sizeof(sink), 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    dropped += static_cast<size_t>(n);
  }
  ::close(fd_);
  fd_ = -1;
  buffer_.reset();
  begin_ = end_ = 0;
}

}  // namespace ocireg::internal
