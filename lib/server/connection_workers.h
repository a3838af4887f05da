// SPDX-License-Identifier: Apache-2.0
// ConnectionWorkers: the server's task queue, one task per accepted connection, served by threads
// started on demand up to a limit.
#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ocireg::internal {

// httplib's own pool starts every thread up front: at the default limit of 512 connections that
// is 512 stacks and a slower start for a server that may never see more than a few clients. Here
// a thread is started only when a connection arrives and no started thread is idle, so the
// number of threads follows the connections held open at once. A thread idle for `idle_timeout`
// ends, so a burst does not leave its threads behind. Beyond the limit, connections wait in the
// queue for a thread, as with httplib's.
//
// on_shutdown runs first in shutdown(), which httplib calls right after its accept loop ends.
class ConnectionWorkers final : public httplib::TaskQueue {
 public:
  static constexpr std::chrono::seconds kIdleTimeout{60};

  ConnectionWorkers(size_t max_threads, std::function<void()> on_shutdown,
                    std::chrono::milliseconds idle_timeout = kIdleTimeout);
  ~ConnectionWorkers() override;

  void enqueue(std::function<void()> task) override;
  // Runs on_shutdown, then lets the threads finish the queued connections and joins them.
  void shutdown() override;

  // Threads running now (started and not yet ended).
  size_t threads_started() const;

 private:
  void Work();
  // Joins the threads that ended for idleness. Takes the lock itself.
  void JoinRetired();

  const size_t max_threads_;
  const std::function<void()> on_shutdown_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::vector<std::thread> retired_;  // ended for idleness, not joined yet
  size_t idle_ = 0;
  bool stopping_ = false;
};

}  // namespace ocireg::internal
