// SPDX-License-Identifier: Apache-2.0
// ConnectionStream: one client connection (plain or TLS) as an httplib::Stream, with its own
// read buffer, that httplib reads only the request it was given from.
//
// Why: httplib's own stream reads a request line and headers of any size, and would read the
// next request's bytes as the body of this one. Here the server reads the head itself into a
// bounded buffer, checks it, then lets httplib parse it from the buffer; reads past the head are
// held to the body's Content-Length, so an unread body can never become a request. A chunked
// body read through ReadBody is decoded here (chunked_framing.h), so its end is known too. Large
// reads go straight from the socket into the caller's memory, in one recv() each.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "http/chunked_framing.h"
#include "http/current_connection.h"

namespace ocireg::internal {

using Clock = std::chrono::steady_clock;

struct StreamTimeouts {
  std::chrono::milliseconds read{60000};   // longest wait for a byte of a body
  std::chrono::milliseconds write{60000};  // longest wait for the client to take bytes
};

class ConnectionStream final : public httplib::Stream, public RequestConnection {
 public:
  // Takes the socket (made non-blocking here) and, when not null, the TLS session on it; both
  // are closed by Close() or the destructor.
  ConnectionStream(int fd, SSL* ssl, StreamTimeouts timeouts);
  ~ConnectionStream() override;
  ConnectionStream(const ConnectionStream&) = delete;
  ConnectionStream& operator=(const ConnectionStream&) = delete;

  // httplib::Stream: what httplib's request parser and response writer call.
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // RequestConnection: what a handler calls.
  ssize_t ReadBody(std::span<char> out) override;
  void EndAfterResponse() override { end_requested_ = true; }
  bool SendsAsIs() const override { return ssl_ == nullptr; }

  // Bytes received and not yet read.
  std::string_view Buffered() const;
  // Lowercases `size` buffered bytes from offset `at` (a header value httplib compares exactly).
  void LowercaseBuffered(size_t at, size_t size);
  // Receives what the client sent, waiting until `deadline` at most. >0: bytes added to the
  // buffer (at most `room` more bytes are kept: the head's bound); 0: the client closed;
  // -1: error; kTimedOut: nothing before the deadline.
  static constexpr ssize_t kTimedOut = -2;
  ssize_t Fill(Clock::time_point deadline, size_t room);

  // Starts a request whose head is the first `head_size` buffered bytes and whose body has
  // `body_length` bytes, or is chunked (nullopt). Reads stop at a Content-Length body's end;
  // httplib's reads of a chunked body are not bounded here (ReadBody's are, by its framing).
  void BeginRequest(size_t head_size, std::optional<uint64_t> body_length);
  // Whether the whole request was read: head and Content-Length body, or head (by httplib) and
  // chunked body to its end (by ReadBody).
  bool RequestConsumed() const;
  bool end_requested() const { return end_requested_; }
  bool is_tls() const { return ssl_ != nullptr; }
  SSL* ssl() const { return ssl_; }

  // Ends the connection: TLS close_notify when `graceful`, our FIN, then with `linger` reads and
  // drops what the client still sends for a short while, so that it gets to read our last
  // response (closing with unread bytes sends a reset, which can discard it at the client).
  void Close(bool graceful, bool linger);

 private:
  // One receive into [ptr, ptr+size) without waiting: >0 bytes, 0 closed, -1 error, -2 would
  // block (wait for `want_write` when TLS needs to write first).
  ssize_t ReceiveNow(char* ptr, size_t size, bool& want_write);
  // Receives with waits of up to `deadline` (then kTimedOut).
  ssize_t Receive(char* ptr, size_t size, Clock::time_point deadline);
  bool WaitFor(short events, Clock::time_point deadline) const;
  // Reads up to `size` bytes: from the buffer, or straight into `ptr` when the buffer is empty
  // and the read is large. >0 bytes, 0 closed, -1 error or timeout.
  ssize_t ReadAvailable(char* ptr, size_t size);
  // ReadBody of a chunked body: the decoded bytes, 0 at its end, -1 when it is malformed, cut
  // short or late.
  ssize_t ReadChunked(std::span<char> out);
  void EnsureBuffer();

  static constexpr size_t kBufferBytes = 128 * 1024;
  // Reads of at least this size skip the buffer when it is empty.
  static constexpr size_t kDirectReadBytes = 16 * 1024;

  int fd_;
  SSL* ssl_;
  StreamTimeouts timeouts_;
  std::unique_ptr<char[]> buffer_;
  size_t begin_ = 0;               // first unread byte in buffer_
  size_t end_ = 0;                 // one past the last received byte
  std::optional<uint64_t> limit_;  // bytes of the current request (head and body)
  uint64_t consumed_ = 0;          // bytes of the current request read by read()
  size_t head_size_ = 0;
  std::optional<ChunkedFraming> chunked_;  // the framing of a chunked body
  bool end_requested_ = false;
};

}  // namespace ocireg::internal
