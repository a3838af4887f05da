// SPDX-License-Identifier: Apache-2.0
// RedisConnection: one connection to a Redis server, over TCP or TLS, that sends a command and
// waits for its reply within a timeout. hiredis formats the commands and parses the replies (its
// protocol reader); the socket and TLS are ours, because the hiredis of Debian 12 (0.14) has no
// TLS and its blocking context gives no per-command deadline we could rely on with TLS.
//
// Not thread-safe: a connection serves one command at a time (RedisClient pools them). After any
// error the connection is broken() and must be dropped.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/redis_reply.h"
#include "cluster/redis_url.h"
#include "ocireg/status.h"

namespace ocireg::internal {

struct RedisConnectOptions {
  RedisAddress address;
  std::string password;  // AUTH when not empty (with address.user when set)
  std::string ca_file;   // rediss://: PEM CAs; "" the system's
  bool tls_verify = true;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds command_timeout{1000};
};

class RedisConnection {
 public:
  // Connects, logs in (AUTH), selects the database and learns the server's run_id.
  // kUnavailable naming the address when the server cannot be reached or refuses.
  static Result<std::unique_ptr<RedisConnection>> Open(const RedisConnectOptions& options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends `args` as one command and returns its reply; an error reply is a reply (is_error()),
  // not a failed Status. kUnavailable when the connection failed or timed out (broken() then).
  Result<RedisReply> Run(const std::vector<std::string>& args);

  bool broken() const { return broken_; }
  // The server's run_id (INFO server): it changes whenever the server restarts.
  const std::string& server_run() const { return server_run_; }

  struct Transport;  // the socket, and the TLS session on rediss://

 private:
  RedisConnection(std::unique_ptr<Transport> transport, std::string address);
  Status Send(std::string_view bytes);
  Result<RedisReply> Receive();

  std::unique_ptr<Transport> transport_;
  std::string address_;  // for messages
  std::string server_run_;
  bool broken_ = false;
};

}  // namespace ocireg::internal
