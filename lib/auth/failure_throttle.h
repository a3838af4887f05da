// SPDX-License-Identifier: Apache-2.0
// FailureThrottle: turns away password attempts, at no cost, while failed logins say to wait.
//
// Every failed login counts against three keys:
//   (address, user)  failures of this user name from this client address;
//   (address)        distinct user names that failed from this address (password spraying);
//   (user)           distinct addresses this user name failed from (a distributed guess).
// A pair key reaches its threshold at `limit` failures; an address or user key at
// `spread_limit` distinct partners. Past its threshold a key makes attempts wait, from its last
// failure, `delay` doubled for each failure (or partner) beyond the threshold, up to `max_delay`.
// An attempt that comes earlier is refused with the time left (429 with Retry-After): no
// password check runs and no thread waits. The first attempt after the wait goes through alone:
// the key's clock restarts, so parallel connections do not each get a guess.
//
// An attempt is covered by its pair key always, and by the address and user keys only when the
// pair has no remembered success. So one attacker cannot lock others out: hammering one user
// from one address throttles only that pair (and adds one partner to the address and the user);
// spraying many users through one shared (proxy) address, or guessing one user from many
// addresses, refuses only logins that have never succeeded from their address, and users who
// logged in from there before keep logging in.
//
// A key's count restarts once `window` has passed since its first failure; a key past its
// threshold is kept until `window` has passed since its last failure. A success clears the
// pair's failures and is remembered while the pair's entry stays in the table.
//
// Memory: at most `capacity` keys. When full, the least recently used key (by failure,
// success or refusal) is evicted, one at a time: rotating addresses or user names pushes out
// old, quiet keys, never the whole table, and a key under attack stays because each refused
// attempt refreshes it. User names are truncated to kMaxUserBytes in keys.
//
// Thread-safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ocireg::internal {

class FailureThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  struct Settings {
    uint32_t limit = 5;  // 0 turns the throttle off
    uint32_t spread_limit = 20;
    std::chrono::seconds window{300};
    std::chrono::seconds delay{1};
    std::chrono::seconds max_delay{30};
    size_t capacity = 65536;  // keys; at least 3
  };
  static constexpr size_t kMaxUserBytes = 256;

  explicit FailureThrottle(const Settings& settings);

  // Zero when an attempt of `user` from `address` may check its password now; otherwise how long
  // the client should wait (at least one second), and the attempt must be refused unchecked.
  std::chrono::seconds Admit(std::string_view address, std::string_view user,
                             Clock::time_point now);
  void RecordFailure(std::string_view address, std::string_view user, Clock::time_point now);
  void RecordSuccess(std::string_view address, std::string_view user, Clock::time_point now);

  // Keys currently held (at most settings.capacity).
  size_t tracked() const;

 private:
  struct Entry {
    std::string key;
    uint32_t threshold = 0;
    uint32_t count = 0;  // failures (pair) or distinct partners (address, user)
    Clock::time_point first;
    Clock::time_point last;
    bool succeeded = false;  // pair keys: a login succeeded
  };
  using Lru = std::list<Entry>;  // most recently used first

  // The entry of `key`, refreshed, with a count that has outlived its window cleared; null when
  // absent.
  Entry* Find(const std::string& key, Clock::time_point now);
  // Find, or a new entry (evicting the least recently used one when full).
  Entry& Obtain(const std::string& key, uint32_t threshold, Clock::time_point now);
  // How long `entry` still makes attempts wait.
  Clock::duration Wait(const Entry* entry, Clock::time_point now) const;
  void CountFailure(Entry& entry, Clock::time_point now);

  const Settings settings_;
  mutable std::mutex mutex_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> index_;  // views of Entry::key
};

}  // namespace ocireg::internal
