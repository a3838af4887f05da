// SPDX-License-Identifier: Apache-2.0
// ConnectionDispatcher: the server's task queue. Each accepted connection goes to the
// HeadWaiter until a request head is complete, then to a worker thread for that request.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstddef>
#include <functional>

#include "server/connection_loop.h"
#include "server/connection_workers.h"
#include "server/head_waiter.h"

namespace ocireg::internal {

class ConnectionDispatcher final : public httplib::TaskQueue {
 public:
  // `threads` workers serve requests; at most `max_open` connections are open at once (beyond,
  // a new one is answered 503 and closed on the accepting thread). `tls` (null: plain HTTP)
  // is the context of each connection's handshake. on_shutdown runs first in shutdown().
  ConnectionDispatcher(const ConnectionSettings& settings, size_t threads, size_t max_open,
                       SSL_CTX* tls, ProcessRequestFn process, std::function<bool()> stopping,
                       std::function<void()> on_shutdown);
  ~ConnectionDispatcher() override;

  // httplib's accept loop queues process_and_close_socket(fd) here: it runs at once, on the
  // accepting thread, and only hands the socket over (Accept).
  void enqueue(std::function<void()> task) override { task(); }
  // After the accept loop: waits until the server stops serving (CutConnections), and every
  // connection has ended.
  void shutdown() override;

  // Takes an accepted socket.
  void Accept(int fd);

 private:
  void Serve(ConnectionPtr connection);

  const ConnectionSettings settings_;
  const size_t max_open_;
  SSL_CTX* const tls_;
  const ProcessRequestFn process_;
  const std::function<bool()> stopping_;
  const std::function<void()> on_shutdown_;
  std::atomic<size_t> open_{0};
  ConnectionWorkers workers_;
  HeadWaiter waiter_;
  bool shut_down_ = false;
};

}  // namespace ocireg::internal
