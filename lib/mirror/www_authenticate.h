// SPDX-License-Identifier: Apache-2.0
// ParseWwwAuthenticate: the challenges of an upstream registry's WWW-Authenticate header (RFC 9110
// section 11), for the upstream client's Basic and Bearer (Docker token) flows.
//
// The header comes from a remote server, so the parser is strict and bounded: a malformed header
// is an error rather than a guess, and its size and the number of challenges and parameters are
// capped. Quoted strings may hold backslash escapes; parameters the client has no use for are kept
// but ignored by the caller.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/status.h"

namespace ocireg::internal {

// Bounds of one header: longer or more is refused as malformed.
inline constexpr size_t kMaxWwwAuthenticateBytes = 16 * 1024;
inline constexpr size_t kMaxChallenges = 16;
inline constexpr size_t kMaxChallengeParams = 32;

struct AuthChallenge {
  std::string scheme;  // lower case: "basic", "bearer", ...
  // auth-params in order, names in lower case, values unquoted and unescaped.
  std::vector<std::pair<std::string, std::string>> params;
  std::string token68;  // the token68 form ("Negotiate abc=="), when the challenge has one

  // The value of parameter `name` (lower case), or nullptr.
  const std::string* Param(std::string_view name) const;
};

// The challenges of one WWW-Authenticate value (several headers: call once per header). Fails with
// kInvalidArgument "malformed WWW-Authenticate ..." on bad syntax, a parameter given twice in one
// challenge, control characters, or anything over the bounds above. The message never quotes the
// header.
Result<std::vector<AuthChallenge>> ParseWwwAuthenticate(std::string_view header);

}  // namespace ocireg::internal
