// SPDX-License-Identifier: Apache-2.0
// The watchdog of an LDAP handle: one thread that waits for the armed deadline.
#include "auth/ldap_watchdog.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace ocireg::internal {

LdapWatchdog::LdapWatchdog() : thread_([this] { Run(); }) {}

LdapWatchdog::~LdapWatchdog() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_one();
  thread_.join();
  for (int fd : sockets_) close(fd);
}

void LdapWatchdog::Watch(int fd) {
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return;  // out of descriptors: libldap's own timeouts still apply
  std::lock_guard lock(mutex_);
  sockets_.push_back(copy);
}

void LdapWatchdog::Arm(Clock::duration limit) {
  {
    std::lock_guard lock(mutex_);
    deadline_ = Clock::now() + limit;
  }
  changed_.notify_one();
}

void LdapWatchdog::Disarm() {
  std::lock_guard lock(mutex_);
  deadline_.reset();
}

bool LdapWatchdog::fired() {
  std::lock_guard lock(mutex_);
  return fired_;
}

void LdapWatchdog::Run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!deadline_) {
      changed_.wait(lock);
      continue;
    }
    const Clock::time_point deadline = *deadline_;
    if (changed_.wait_until(lock, deadline) == std::cv_status::no_timeout) continue;
    // Re-armed or disarmed while waking up: look again.
    if (deadline_ != deadline) continue;
    // Blocked reads and writes on the sockets now fail; libldap reports the server as gone.
    for (int fd : sockets_) shutdown(fd, SHUT_RDWR);
    fired_ = true;
    deadline_.reset();
  }
}

}  // namespace ocireg::internal
