// SPDX-License-Identifier: Apache-2.0
// ConnectionDispatcher: accepted sockets to the HeadWaiter, complete heads to worker threads.
#include "server/connection_dispatcher.h"

#include <unistd.h>

#include <memory>
#include <utility>

#include "server/tls_accept.h"

namespace ocireg::internal {

ConnectionDispatcher::ConnectionDispatcher(const ConnectionSettings& settings, size_t threads,
                                           size_t max_open, SSL_CTX* tls, ProcessRequestFn process,
                                           std::function<bool()> stopping,
                                           std::function<void()> on_shutdown)
    : settings_(settings),
      max_open_(max_open == 0 ? 1 : max_open),
      tls_(tls),
      process_(std::move(process)),
      stopping_(std::move(stopping)),
      on_shutdown_(std::move(on_shutdown)),
      workers_(threads, nullptr),
      waiter_(
          settings, [this](ConnectionPtr connection) { Serve(std::move(connection)); }, stopping_) {
}

ConnectionDispatcher::~ConnectionDispatcher() { shutdown(); }

void ConnectionDispatcher::Accept(int fd) {
  const Clock::time_point accepted = Clock::now();
  SSL* ssl = nullptr;
  if (tls_ != nullptr && (ssl = NewServerTls(fd, tls_)) == nullptr) {
    ::close(fd);
    return;
  }
  auto stream = std::make_unique<ConnectionStream>(fd, ssl, settings_.timeouts);
  if (open_.fetch_add(1) >= max_open_) {
    --open_;
    // Over the cap: a plain client is told to come back; a TLS one cannot be told in clear.
    if (ssl == nullptr) {
      WriteRefusal(*stream, HeadRefusal{503, ErrorCode::kUnavailable, "too many connections"});
    }
    stream->Close(false, false);
    return;
  }
  auto connection = std::make_unique<Connection>(std::move(stream), accepted, settings_, &open_);
  connection->handshaking = ssl != nullptr;
  waiter_.Hold(std::move(connection));
}

void ConnectionDispatcher::Serve(ConnectionPtr connection) {
  // std::function needs a copyable callable: the connection travels in a shared holder.
  auto holder = std::make_shared<ConnectionPtr>(std::move(connection));
  workers_.enqueue([this, holder] {
    ServeConnection(std::move(*holder), settings_, process_, stopping_,
                    [this](ConnectionPtr next) { waiter_.Hold(std::move(next)); });
  });
}

void ConnectionDispatcher::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  if (on_shutdown_) on_shutdown_();
  waiter_.Join();
  workers_.shutdown();
}

}  // namespace ocireg::internal
