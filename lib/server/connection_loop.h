// SPDX-License-Identifier: Apache-2.0
// ServeConnection: the keep-alive loop of one client connection, in place of httplib's.
//
// Per request: wait for it (keep-alive timeout), read its head into a bounded buffer within one
// deadline, check it strictly (request_head.h), then let httplib parse and route it from the
// buffer. The connection ends after a response when the request or the response asked for it,
// when any part of the request was left unread, or when the server stops.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <functional>

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

// httplib::Server::process_request for one request on `stream`.
using ProcessRequestFn =
    std::function<bool(httplib::Stream& stream, bool close_connection, bool& connection_closed)>;

// Serves requests on `stream` until the connection ends, then closes it. `accepted` is when the
// connection was accepted; `stopping` tells when the server no longer serves further requests.
void ServeConnection(ConnectionStream& stream, Clock::time_point accepted,
                     const ConnectionSettings& settings, const ProcessRequestFn& process,
                     const std::function<bool()>& stopping);

// Writes a complete error response with the OCI error body and `Connection: close` (and
// `Retry-After` for 503), without httplib. False when it could not be written.
bool WriteRefusal(httplib::Stream& stream, const HeadRefusal& refusal);

}  // namespace ocireg::internal
