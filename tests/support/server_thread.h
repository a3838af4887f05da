// SPDX-License-Identifier: Apache-2.0
// ServerThread: an httplib::Server of a test (a fake upstream, a proxy, a handler under test)
// serving on a free 127.0.0.1 port on a thread of its own, from when it is made until it goes.
//
//   httplib::Server server;
//   server.Get(".*", ...);                    // routes first
//   std::optional<ServerThread> running;      // declared after the server: stopped before it
//   running.emplace(server);
//   httplib::Client client("127.0.0.1", running->port());
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <thread>

namespace ocireg::testing {

class ServerThread {
 public:
  // Binds `server` and serves; returns once it accepts (at most about 5 s).
  explicit ServerThread(httplib::Server& server) : server_(server) {
    port_ = static_cast<uint16_t>(server_.bind_to_any_port("127.0.0.1"));
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 5000 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  ~ServerThread() {
    server_.stop();
    thread_.join();
  }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  uint16_t port() const { return port_; }

 private:
  httplib::Server& server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace ocireg::testing
