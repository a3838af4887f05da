// SPDX-License-Identifier: Apache-2.0
// The server's TLS settings applied to an OpenSSL context.
#pragma once

#include "ocireg/config.h"
#include "ocireg/status.h"

struct ssl_ctx_st;

namespace ocireg::internal {

// TLS 1.2 at least, with forward-secret AEAD cipher suites only (TLS 1.3 keeps OpenSSL's
// suites, which are all of that kind); session resumption; the certificate chain and its key; with
// tls.client_ca, client certificates verified against it, demanded or optional as tls.client_auth
// says. Errors (kInvalidArgument) name the config key and the file: unreadable, not PEM, or a key
// that does not match.
Status ConfigureTls(ssl_ctx_st& context, const TlsConfig& tls);

}  // namespace ocireg::internal
