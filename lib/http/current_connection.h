// SPDX-License-Identifier: Apache-2.0
// RequestConnection: what a handler may ask of the connection its request arrived on.
//
// Why: httplib 0.11 gives a handler no access to its connection, reads a body 4 KiB at a time
// with a poll() before each recv(), and keeps a connection open after a response that says
// `Connection: close`. The server runs each connection on one thread from the first byte of a
// request to the end of its response, so it can publish the connection in a thread_local.
#pragma once

#include <sys/types.h>

#include <span>

namespace ocireg::internal {

class RequestConnection {
 public:
  virtual ~RequestConnection() = default;
  // Reads up to out.size() bytes of the current request's body, straight into `out` when none
  // are buffered; never past the body's Content-Length. A chunked body comes decoded, and its
  // framing is never passed. Waits up to the read timeout. Returns the count; 0 at the end of
  // the body, or of the connection within a Content-Length body; -1 on error or timeout, or
  // when a chunked body is malformed or cut short.
  virtual ssize_t ReadBody(std::span<char> out) = 0;
  // The connection ends after the current response, whatever the request said.
  virtual void EndAfterResponse() = 0;
  // Whether the response's bytes reach the socket as they are, with send(2): the kernel reads
  // what httplib's sink is given and this process never does. Not so over TLS, which encrypts
  // them in user space first.
  virtual bool SendsAsIs() const = 0;
};

// The connection of the request this thread serves, or null outside one.
RequestConnection* CurrentConnection();

// Publishes `connection` for this thread while it lives.
class CurrentConnectionScope {
 public:
  explicit CurrentConnectionScope(RequestConnection* connection);
  ~CurrentConnectionScope();
  CurrentConnectionScope(const CurrentConnectionScope&) = delete;
  CurrentConnectionScope& operator=(const CurrentConnectionScope&) = delete;

 private:
  RequestConnection* previous_;
};

}  // namespace ocireg::internal
