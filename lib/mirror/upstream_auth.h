// SPDX-License-Identifier: Apache-2.0
// How the upstream client authenticates: Basic credentials, and the Docker token flow (a Bearer
// challenge names a token endpoint; the client asks it for a token for the challenge's scopes and
// sends that token until shortly before it expires).
//
// Everything here is pure except TokenCache, which is thread-safe. Tokens and credentials never
// appear in any message returned.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mirror/www_authenticate.h"
#include "ocireg/status.h"

namespace ocireg::internal {

// A token endpoint's answer is a few kilobytes (a JWT, perhaps with a certificate chain in it).
inline constexpr size_t kMaxTokenResponseBytes = 64 * 1024;
// Docker's token spec: a token without expires_in lives 60 s.
inline constexpr std::chrono::seconds kDefaultTokenLifetime{60};

struct BearerChallenge {
  std::string realm;                // the token endpoint, http or https
  std::string service;              // may be empty
  std::vector<std::string> scopes;  // the scope parameter split on spaces; may be empty
};

struct BearerToken {
  std::string token;
  // When the token is no longer sent: a little before it expires, so that it does not expire on
  // its way.
  std::chrono::system_clock::time_point renew_at;
};

// "Basic base64(user:password)".
std::string BasicAuthorization(std::string_view user, std::string_view password);

// The first Bearer challenge among `challenges` with a realm that is an http(s) URL, or nullopt.
std::optional<BearerChallenge> FindBearerChallenge(const std::vector<AuthChallenge>& challenges);
// Whether one of `challenges` is Basic.
bool HasBasicChallenge(const std::vector<AuthChallenge>& challenges);

// realm?service=...&scope=...&scope=..., each value percent-encoded.
std::string TokenRequestUrl(const BearerChallenge& challenge);

// A token endpoint's JSON answer: `token` or `access_token` (the first non-empty), `expires_in`
// (seconds, default 60), `issued_at` (RFC 3339, optional: a token issued before `now` expires
// earlier; one from a clock ahead of ours is not given longer). kUnavailable "malformed token
// response" when it is not such a JSON object, has no token, or is over kMaxTokenResponseBytes.
Result<BearerToken> ParseTokenResponse(std::string_view body,
                                       std::chrono::system_clock::time_point now);

// Bearer tokens by key (the client keys them by repository, "" for /v2/ itself), with the
// challenge that led to each so that an expired one is renewed without another 401 first.
// Thread-safe. Holds at most kMaxEntries keys; when full, the entry renewed earliest goes.
class TokenCache {
 public:
  static constexpr size_t kMaxEntries = 1024;

  // The token for `key` when it is still usable at `now`.
  std::optional<std::string> Token(const std::string& key,
                                   std::chrono::system_clock::time_point now) const;
  // The challenge last seen for `key` (its token may have expired).
  std::optional<BearerChallenge> Challenge(const std::string& key) const;
  void Store(const std::string& key, BearerChallenge challenge, BearerToken token);
  // Drops the token of `key` (it was refused), keeping its challenge.
  void Forget(const std::string& key);

 private:
  struct Entry {
    BearerChallenge challenge;
    BearerToken token;
  };
  mutable std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace ocireg::internal
