// SPDX-License-Identifier: Apache-2.0
// LdapLoginCache: successful LDAP logins remembered for a while, so that a client sending the
// same Basic credentials with every request (a pull of 20 layers) costs one round of binds, not
// twenty. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ocireg/auth/access.h"

namespace ocireg::internal {

class LdapLoginCache {
 public:
  using Clock = std::chrono::steady_clock;

  // `ttl` must be positive.
  explicit LdapLoginCache(Clock::duration ttl);
  LdapLoginCache(const LdapLoginCache&) = delete;
  LdapLoginCache& operator=(const LdapLoginCache&) = delete;

  // The identity of the last successful login of `user`, if it is younger than the ttl and used
  // this very password.
  std::optional<Identity> Find(std::string_view user, std::string_view password);

  // Remembers a successful login; it replaces any older one of `user`, so after a password
  // change the old password stops hitting the cache as soon as the new one has been used.
  void Insert(std::string_view user, std::string_view password, const Identity& identity);

 private:
  struct Entry {
    std::string fingerprint;
    Identity identity;
    Clock::time_point expires;
  };

  // A salted SHA-256 of `password`: the cache never holds a password, and the per-process salt
  // keeps a dump of it from being looked up in precomputed tables.
  std::string Fingerprint(std::string_view password) const;
  // Drops expired entries, so that the map holds at most the users of the last ttl.
  void EraseExpired(Clock::time_point now);

  const Clock::duration ttl_;
  const std::string salt_;
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;  // by user name; guarded by mutex_
};

}  // namespace ocireg::internal
