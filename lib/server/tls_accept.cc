// SPDX-License-Identifier: Apache-2.0
// The server side of a TLS handshake: SSL_accept on a non-blocking socket.
#include "server/tls_accept.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

namespace ocireg::internal {

SSL* NewServerTls(int fd, SSL_CTX* context) {
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return nullptr;
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {
    SSL_free(ssl);
    return nullptr;
  }
  SSL_set_accept_state(ssl);
  return ssl;
}

TlsStep AcceptTlsStep(SSL* ssl) {
  ERR_clear_error();
  int result = SSL_accept(ssl);
  if (result == 1) return TlsStep::kDone;
  switch (SSL_get_error(ssl, result)) {
    case SSL_ERROR_WANT_READ:
      return TlsStep::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStep::kWantWrite;
    default:
      return TlsStep::kFailed;
  }
}

SSL* AcceptTls(int fd, SSL_CTX* context, std::chrono::steady_clock::time_point deadline) {
  SSL* ssl = NewServerTls(fd, context);
  if (ssl == nullptr) return nullptr;
  for (;;) {
    TlsStep step = AcceptTlsStep(ssl);
    if (step == TlsStep::kDone) return ssl;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, static_cast<short>(step == TlsStep::kWantWrite ? POLLOUT : POLLIN), 0};
    int ready = (step == TlsStep::kFailed || left.count() <= 0)
                    ? 0
                    : ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1 << 30)));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      SSL_free(ssl);
      return nullptr;
    }
  }
}

}  // namespace ocireg::internal
