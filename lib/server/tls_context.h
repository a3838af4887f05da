// SPDX-License-Identifier: Apache-2.0
// The server's TLS settings applied to an OpenSSL context, and its reloadable certificate.
#pragma once

#include <memory>
#include <mutex>

#include "ocireg/config.h"
#include "ocireg/status.h"

struct ssl_ctx_st;
struct ssl_st;

namespace ocireg::internal {

// The certificate chain and private key the server presents. A certificate callback on the
// context puts the current ones on each connection as its handshake begins, so Load can replace
// them while other threads accept connections: a handshake uses the pair that was current when
// it began, never half of each. Thread-safe.
class ServerCertificate {
 public:
  ServerCertificate();
  ~ServerCertificate();
  ServerCertificate(const ServerCertificate&) = delete;
  ServerCertificate& operator=(const ServerCertificate&) = delete;

  // Reads tls.certificate (the certificate, then its chain) and tls.private_key, and checks that
  // OpenSSL would serve them (the key matches, the key is not too weak). On success they replace
  // the current pair; on an error (kInvalidArgument naming the key and the file: unreadable, not
  // PEM, a key that does not match) the current pair stays.
  Status Load(const TlsConfig& tls);

  // Installs the certificate callback on `context`. `this` must outlive `context` and every
  // connection made from it.
  void InstallOn(ssl_ctx_st& context);

 private:
  struct Pair;
  static int Callback(ssl_st* ssl, void* self);
  // Puts the current pair on `ssl`; the OpenSSL callback (1 on success, 0 to fail the handshake).
  int PutOn(ssl_st& ssl) const;

  mutable std::mutex mutex_;
  std::shared_ptr<const Pair> current_;  // null until the first successful Load
};

// TLS 1.2 at least, with forward-secret AEAD cipher suites only (TLS 1.3 keeps OpenSSL's
// suites, which are all of that kind); session resumption; `certificate` loaded from tls and
// installed (see ServerCertificate); with tls.client_ca, client certificates verified against
// it, demanded or optional as tls.client_auth says. Errors (kInvalidArgument) name the config
// key and the file: unreadable, not PEM, or a key that does not match.
Status ConfigureTls(ssl_ctx_st& context, const TlsConfig& tls, ServerCertificate& certificate);

}  // namespace ocireg::internal
