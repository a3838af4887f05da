// SPDX-License-Identifier: Apache-2.0
// HtpasswdUsers: the parsed users of an htpasswd file and the password check behind
// HtpasswdAuthenticator, with the bcrypt verification as a seam tests can observe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocireg/auth/authenticator.h"
#include "ocireg/status.h"

namespace ocireg::internal {

// Whether `password` hashes to the bcrypt `hash`. Must be thread-safe.
using BcryptCheck = std::function<bool(const std::string& password, const std::string& hash)>;

// The real check: crypt_rn from libxcrypt, with a fresh work area per call, and a constant-time
// comparison of the result. False when crypt fails (a malformed hash, a password over libcrypt's
// limit).
bool CheckBcrypt(const std::string& password, const std::string& hash);

// The cost field of a bcrypt hash ("$2y$05$..." -> 5); nullopt when `hash` is not one.
std::optional<int> BcryptCost(const std::string& hash);

// The entries of an htpasswd file, before any bcrypt work.
struct HtpasswdEntries {
  std::unordered_map<std::string, std::string> hashes;  // user -> bcrypt hash
  int common_cost = 5;  // the cost most entries have (the higher one on a tie); 5 without entries
};

// Parses the text of an htpasswd file (see HtpasswdAuthenticator::Load for the format and the
// errors); `source` names it in messages, "source:line: ...". Pure: no file, no hashing.
Result<HtpasswdEntries> ParseHtpasswd(std::string_view text, std::string_view source);

// Every call of Authenticate for a Basic header runs `check` exactly once: against the user's
// hash, or, for a user not in the file, against a dummy hash made at Load with the cost most
// entries of the file have. Immutable after Load, so safe to share between threads.
class HtpasswdUsers {
 public:
  // See HtpasswdAuthenticator::Load for the file format and the errors.
  static Result<HtpasswdUsers> Load(const std::string& path, BcryptCheck check = CheckBcrypt);

  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) const;

  // The hash unknown users are checked against.
  const std::string& dummy_hash() const { return dummy_hash_; }
  size_t size() const { return hashes_.size(); }

 private:
  HtpasswdUsers() = default;

  std::unordered_map<std::string, std::string> hashes_;  // user -> bcrypt hash
  std::string dummy_hash_;
  BcryptCheck check_;
};

}  // namespace ocireg::internal
