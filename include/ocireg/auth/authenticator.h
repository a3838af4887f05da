// SPDX-License-Identifier: Apache-2.0
// Authenticator: turns what a request presents (an Authorization header, a verified client
// certificate) into an Identity. One interface for htpasswd files, LDAP, client certificates and
// whatever an embedding program brings.
//
//   class TokenAuthenticator : public ocireg::Authenticator { ... };
//   ocireg::ServerHooks hooks;
//   hooks.authenticator = std::make_shared<TokenAuthenticator>();
//
// examples/embed has a complete one. Authenticators are shared (std::shared_ptr): the HTTP layer
// keeps its own reference for as long as the handler lives, and calls it from every worker thread.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/auth/access.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// What one request presents. The views point into the request and are valid only during the
// Authenticate call: copy what you keep.
struct Credentials {
  std::string_view authorization;  // the Authorization header; empty when absent
  std::string_view remote_addr;    // the client (see auth.trusted_proxies)
  // The identity of a client certificate that the TLS layer verified against tls.client_ca
  // (its CN or the configured SAN); empty when there is none.
  std::string_view client_certificate;
};

// The user name and password of an "Authorization: Basic <base64(user:password)>" header.
struct BasicCredentials {
  std::string user;
  std::string password;
};

// Parses a Basic Authorization header (scheme case-insensitive). nullopt for another scheme,
// bad base64 or no colon. A pure function: thread-safe.
OCIREG_EXPORT std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view header);

// One authentication method. Authenticate answers:
//   an Identity     the credentials are valid;
//   nullopt         nothing here for this method (no credentials of its kind, or a user it does
//                   not know): the next method is asked;
//   kUnauthorized   the credentials are wrong (a known user with a wrong password);
//   kUnavailable    the method cannot decide now (its server is unreachable).
// Called concurrently from the server's workers: implementations must be thread-safe. A call runs
// on the worker of its request and may block it (a directory lookup); other requests go on.
// Report failures as a Status: an exception escaping Authenticate makes the request a 500.
class OCIREG_EXPORT Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual Result<std::optional<Identity>> Authenticate(const Credentials& credentials) = 0;
};

// Tries `methods` in order; the first Identity or error wins. A Basic header that no method
// recognised is kUnauthorized (an unknown user and a wrong password get the same answer).
// Shares ownership of `methods`; thread-safe when they are.
OCIREG_EXPORT std::shared_ptr<Authenticator> ChainAuthenticators(
    std::vector<std::shared_ptr<Authenticator>> methods);

// Accepts a verified client certificate: its identity becomes the user, with no groups. Without
// one: nullopt. Never fails; stateless, so thread-safe.
OCIREG_EXPORT std::shared_ptr<Authenticator> NewClientCertificateAuthenticator();

}  // namespace ocireg
