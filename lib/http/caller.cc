// SPDX-License-Identifier: Apache-2.0
// Who is calling: the client address behind trusted proxies, authentication of each request
// (once, and refused at once while failed logins throttle it), and the Basic challenge of 401s.
#include <httplib.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "address_range.h"
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

constexpr const char* kForwardedFor = "X-Forwarded-For";
// The distinct users failing from one address (or addresses failing for one user) that throttle
// it, as a multiple of auth.failure_limit.
constexpr uint64_t kSpreadFactor = 4;

FailureThrottle::Settings ThrottleSettings(const AuthConfig& auth) {
  FailureThrottle::Settings settings;
  settings.limit = auth.failure_limit;
  // Spraying and distributed guessing are judged against a looser bound than one pair, so that
  // a shared address's ordinary typos do not reach it (see config.h).
  settings.spread_limit =
      static_cast<uint32_t>(std::min<uint64_t>(auth.failure_limit * kSpreadFactor, UINT32_MAX));
  settings.window = auth.failure_window;
  settings.delay = auth.failure_delay;
  settings.max_delay = auth.failure_delay_max;
  return settings;
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
      throttle_(ThrottleSettings(config.auth)),
      trusted_proxies_(config.auth.trusted_proxies) {}

Result<Caller> CallerIdentification::IdentifyBeforeBody(const httplib::Request& req,
                                                        httplib::Response& res) {
  remembered_caller = {};
  Result<Caller> caller = Authenticate(req, res);
  if (caller.ok()) remembered_caller = {&req, *caller};
  return caller;
}

Result<Caller> CallerIdentification::Identify(const httplib::Request& req, httplib::Response& res) {
  RememberedCaller remembered = std::exchange(remembered_caller, {});
  if (remembered.request == &req && remembered.caller && WentThroughExpectCheck(req)) {
    return std::move(*remembered.caller);
  }
  return Authenticate(req, res);
}

std::string CallerIdentification::ClientAddress(const httplib::Request& req) const {
  if (trusted_proxies_.empty()) return req.remote_addr;
  std::vector<std::string> forwarded_for;
  const size_t fields = req.get_header_value_count(kForwardedFor);
  for (size_t i = 0; i < fields && i < TrustedProxies::kMaxHops; ++i) {
    forwarded_for.push_back(req.get_header_value(kForwardedFor, i));
  }
  return trusted_proxies_.ClientAddress(req.remote_addr, forwarded_for);
}

Result<Caller> CallerIdentification::Authenticate(const httplib::Request& req,
                                                  httplib::Response& res) {
  Caller caller;
  caller.remote_addr = ClientAddress(req);
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
  std::string throttle_address;
  std::string user;
  if (presents_password) {
    throttle_address = ThrottleAddress(caller.remote_addr);
    if (auto basic = ParseBasicAuthorization(authorization)) user = std::move(basic->user);
    const auto wait = throttle_.Admit(throttle_address, user, FailureThrottle::Clock::now());
    if (wait.count() > 0) {
      // Answered at once, before any password check: a throttled client costs no bcrypt and
      // holds no worker while it waits.
      res.set_header("Retry-After", std::to_string(wait.count()));
      return TooManyRequests("too many failed logins: retry after " + std::to_string(wait.count()) +
                             "s");
    }
  }
  Credentials credentials{authorization, caller.remote_addr, certificate};
  auto identity = authenticator->Authenticate(credentials);
  if (!identity.ok()) {
    if (!identity.status().Is(ErrorCode::kUnauthorized)) return identity.status();
    if (presents_password) {
      throttle_.RecordFailure(throttle_address, user, FailureThrottle::Clock::now());
    }
    return Unauthorized(kLoginRefused);
  }
  if (presents_password && identity->has_value()) {
    throttle_.RecordSuccess(throttle_address, user, FailureThrottle::Clock::now());
  }
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
