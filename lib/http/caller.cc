// SPDX-License-Identifier: Apache-2.0
// Who is calling: authentication of each request, its slowdown after failed logins, and the
// Basic challenge of every 401.
#include <httplib.h>

#include <optional>
#include <thread>
#include <utility>

#include "http/api.h"
#include "http/client_certificate.h"

namespace ocireg::internal {
namespace {

// The message of every refused login, whichever method refused it and why: a known user with a
// wrong password and an unknown user must get byte-identical answers, or the 401 body tells what
// the equal bcrypt work hides.
constexpr const char* kLoginRefused = "unknown user or wrong password";

// The caller that the Expect: 100-continue check of this thread's current request identified.
// httplib runs that check and then the request's handler on one thread, with no other request
// in between; the handler takes the caller instead of authenticating (a bcrypt) a second time.
// A connection's next request may reuse the same Request object, so a remembered caller is used
// only by a request that went through the check (the test below is httplib's own), and every
// check starts by forgetting the last one.
struct RememberedCaller {
  const httplib::Request* request = nullptr;
  std::optional<Caller> caller;
};
thread_local RememberedCaller remembered_caller;

bool WentThroughExpectCheck(const httplib::Request& req) {
  return req.get_header_value("Expect") == "100-continue";
}

// realm is a quoted-string (RFC 9110 5.6.4): backslash and double quote are escaped.
std::string BasicChallenge(std::string_view realm) {
  std::string challenge = "Basic realm=\"";
  for (char c : realm) {
    if (c == '"' || c == '\\') challenge += '\\';
    challenge += c;
  }
  return challenge + "\"";
}

}  // namespace

CallerIdentification::CallerIdentification(const Config& config,
                                           std::shared_ptr<Authenticator> authenticator)
    : authenticator_(std::move(authenticator)),
      client_identity_(config.tls.client_identity),
      challenge_(BasicChallenge(config.auth.realm)),
      throttle_(config.auth.failure_limit, config.auth.failure_window, config.auth.failure_delay,
                config.auth.failure_delay_max) {}

Result<Caller> CallerIdentification::IdentifyBeforeBody(const httplib::Request& req) {
  remembered_caller = {};
  Result<Caller> caller = Authenticate(req);
  if (caller.ok()) remembered_caller = {&req, *caller};
  return caller;
}

Result<Caller> CallerIdentification::Identify(const httplib::Request& req) {
  RememberedCaller remembered = std::exchange(remembered_caller, {});
  if (remembered.request == &req && remembered.caller && WentThroughExpectCheck(req)) {
    return std::move(*remembered.caller);
  }
  return Authenticate(req);
}

Result<Caller> CallerIdentification::Authenticate(const httplib::Request& req) {
  Caller caller;
  caller.remote_addr = req.remote_addr;
  std::shared_ptr<Authenticator> authenticator;
  {
    std::lock_guard lock(authenticator_mutex_);
    authenticator = authenticator_;
  }
  if (!authenticator) return caller;
  const std::string authorization = req.get_header_value("Authorization");
  const std::string certificate = ClientCertificateIdentity(req.ssl, client_identity_);
  // Clients that were challenged but have no credentials may send an empty Basic pair.
  if (certificate.empty() && IsEmptyBasic(authorization)) return caller;
  const bool presents_password = !authorization.empty() && certificate.empty();
  if (presents_password) {
    const auto wait = throttle_.DelayFor(req.remote_addr, FailureThrottle::Clock::now());
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
  }
  Credentials credentials{authorization, req.remote_addr, certificate};
  auto identity = authenticator->Authenticate(credentials);
  if (!identity.ok()) {
    if (identity.status().code() == ErrorCode::kUnauthorized) {
      throttle_.RecordFailure(req.remote_addr, FailureThrottle::Clock::now());
      return Status(ErrorCode::kUnauthorized, kLoginRefused);
    }
    return identity.status();
  }
  if (presents_password && identity->has_value()) throttle_.RecordSuccess(req.remote_addr);
  caller.identity = std::move(*identity);
  return caller;
}

bool CallerIdentification::IsEmptyBasic(std::string_view authorization) {
  auto basic = ParseBasicAuthorization(authorization);
  return basic && basic->user.empty() && basic->password.empty();
}

void CallerIdentification::SetAuthenticator(std::shared_ptr<Authenticator> authenticator) {
  std::lock_guard lock(authenticator_mutex_);
  authenticator_ = std::move(authenticator);
}

void CallerIdentification::Challenge(httplib::Response& res) const {
  res.set_header("WWW-Authenticate", challenge_);
}

}  // namespace ocireg::internal
