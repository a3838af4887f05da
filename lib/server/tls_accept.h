// SPDX-License-Identifier: Apache-2.0
// The server side of a TLS handshake on an accepted, non-blocking socket, one step at a time.
#pragma once

#include <openssl/ssl.h>

#include <chrono>

namespace ocireg::internal {

// A new session of `context` on `fd` (made non-blocking), or null. The socket stays owned by
// the caller.
SSL* NewServerTls(int fd, SSL_CTX* context);

enum class TlsStep { kDone, kWantRead, kWantWrite, kFailed };

// Advances the handshake as far as the bytes at hand allow.
TlsStep AcceptTlsStep(SSL* ssl);

// The whole handshake, waiting until `deadline` at most: the session, or null (socket left open).
SSL* AcceptTls(int fd, SSL_CTX* context, std::chrono::steady_clock::time_point deadline);

}  // namespace ocireg::internal
