// SPDX-License-Identifier: Apache-2.0
// ServeConnection: the keep-alive loop of one client connection, in place of httplib's.
//
// Per request: wait for it (keep-alive timeout), read its head into a bounded buffer within one
// deadline, check it strictly (request_head.h), then let httplib parse and route it from the
// buffer. The connection ends after a response when the request or the response asked for it,
// when any part of the request was left unread, or when the server stops.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "http/request_head.h"
#include "server/connection_stream.h"

namespace ocireg::internal {

struct ConnectionSettings {
  HeadLimits head_limits;
  // The whole head of a request must arrive within this, counted from its first byte (from the
  // accept for a connection's first request, the TLS handshake included).
  std::chrono::milliseconds header_timeout{20000};
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle wait for the next request
  size_t keep_alive_max_requests = 100;
  StreamTimeouts timeouts;
};

// A client connection and where its wait for the next request head stands.
struct Connection {
  Connection(std::unique_ptr<ConnectionStream> connection_stream, Clock::time_point accepted,
             const ConnectionSettings& settings, std::atomic<size_t>* open_count);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the wait for the next request: idle until `idle_deadline`, then the head deadline.
  void AwaitNext(Clock::time_point idle_until);
  // Called when bytes of a head have arrived: starts the head deadline if not started.
  void NoteHeadBytes(const ConnectionSettings& settings);

  std::unique_ptr<ConnectionStream> stream;
  bool handshaking = false;         // a TLS handshake is still under way
  Clock::time_point idle_deadline;  // the wait for a first byte of a head ends here
  Clock::time_point head_deadline;  // a started head must be complete by here
  size_t served = 0;                // requests served so far
  size_t scanned = 0;               // bytes of the head already checked
  std::atomic<size_t>* open_count;  // decremented when the connection ends, if set
};
using ConnectionPtr = std::unique_ptr<Connection>;

enum class HeadState { kIncomplete, kReady, kRefused };
// Checks the buffered bytes of `connection` for a complete head (its size in `head_size`) or a
// refusal, and when the head deadline has passed sets a 408 refusal.
HeadState CheckHead(Connection& connection, const ConnectionSettings& settings, size_t& head_size,
                    HeadRefusal& refusal);

// httplib::Server::process_request for one request on `stream`.
using ProcessRequestFn =
    std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;
// Takes a connection that waits for its next head.
using ParkFn = std::function<void(ConnectionPtr)>;

// Serves requests on `connection` until it ends, closing it. When `park` is set, a connection
// whose next head is not complete yet goes to `park` instead of being waited for here.
// `stopping` tells when the server no longer serves further requests.
void ServeConnection(ConnectionPtr connection, const ConnectionSettings& settings,
                     const ProcessRequestFn& process, const std::function<bool()>& stopping,
                     const ParkFn& park);

// Writes a complete error response with the OCI error body and `Connection: close` (and
// `Retry-After` for 503), without httplib; the answer to a HEAD request has no body. False
// when it could not be written.
bool WriteRefusal(httplib::Stream& stream, const HeadRefusal& refusal, bool head_request = false);

}  // namespace ocireg::internal
