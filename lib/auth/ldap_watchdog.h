// SPDX-License-Identifier: Apache-2.0
// LdapWatchdog: ends the connections of an LDAP handle when a call on it overruns its limit.
//
// A backstop for waits that libldap does not bound itself: libldap 2.5 with GnuTLS spins without
// end in the TLS handshake (ldaps://, or after StartTLS) with a server that accepts the
// connection and never answers. Shutting the socket down makes the call fail at once. The
// watchdog keeps its own duplicate of each socket, so it can never touch a descriptor number that
// libldap has closed and the process has reused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ocireg::internal {

class LdapWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  LdapWatchdog();
  // Stops the watch and closes the duplicates.
  ~LdapWatchdog();
  LdapWatchdog(const LdapWatchdog&) = delete;
  LdapWatchdog& operator=(const LdapWatchdog&) = delete;

  // Watches the socket `fd` (a duplicate of it) from now on.
  void Watch(int fd);
  // Shuts the watched sockets down unless Disarm is called within `limit`.
  void Arm(Clock::duration limit);
  void Disarm();
  // Whether it shut the sockets down.
  bool fired();

 private:
  void Run();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::optional<Clock::time_point> deadline_;  // guarded by mutex_
  bool stopping_ = false;                      // guarded by mutex_
  bool fired_ = false;                         // guarded by mutex_
  std::vector<int> sockets_;                   // guarded by mutex_
  std::thread thread_;                         // last: starts once the rest exists
};

}  // namespace ocireg::internal
