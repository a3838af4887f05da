// SPDX-License-Identifier: Apache-2.0
// ConnectionSocket: the socket a plain-HTTP request arrived on, so that a large body can be read
// from it in large pieces.
//
// Why: httplib 0.11 (Debian ships it compiled, so its buffer size is fixed) reads a body 4 KiB at
// a time with a poll() before every recv(). A 1 GiB push then costs about 520,000 system calls,
// which perf put at 40% of the server's CPU for the push. httplib gives a handler no access to the
// socket, but the request carries both ends' addresses and ports, and at any moment exactly one
// TCP connection has a given pair of ends.
#pragma once

#include <optional>

namespace httplib {
struct Request;
}

namespace ocireg::internal {

// The descriptor of the connection `req` came on, or nullopt (a TLS connection, whose bytes
// must go through OpenSSL, or no socket matches). The descriptor stays owned by httplib; it is
// valid for as long as the handler of `req` runs, since only this thread closes it.
std::optional<int> ConnectionSocket(const httplib::Request& req);

}  // namespace ocireg::internal
