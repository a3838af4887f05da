// SPDX-License-Identifier: Apache-2.0
// HeadWaiter: one thread that holds every connection while it has no complete request head (a
// TLS handshake, a head still arriving, an idle keep-alive), and hands it to a worker thread
// once the head is complete.
//
// Why: a worker thread per waiting connection lets clients that send a header byte every few
// seconds hold every worker; then normal clients wait. Here a connection takes a worker only
// for a request whose head has arrived, and the number of connections held is capped.
#pragma once

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "server/connection_loop.h"

namespace ocireg::internal {

class HeadWaiter {
 public:
  // `ready` takes each connection whose head is complete (or must be refused); `stopping` says
  // when idle connections are to be closed and the thread to end.
  HeadWaiter(const ConnectionSettings& settings, std::function<void(ConnectionPtr)> ready,
             std::function<bool()> stopping);
  ~HeadWaiter();
  HeadWaiter(const HeadWaiter&) = delete;
  HeadWaiter& operator=(const HeadWaiter&) = delete;

  // Holds `connection` until its head is complete. Any thread. After Join, closes it instead.
  void Hold(ConnectionPtr connection);
  // Waits for the thread to end (it ends once `stopping` says so), closing what it held.
  void Join();

 private:
  void Run();
  // Takes what Hold queued into the epoll set.
  void AdmitQueued();
  // Reads what `connection` has sent; true when it stays held.
  bool Progress(Connection& connection);
  // Closes held connections past their deadlines (all of them when stopping).
  void Sweep(bool stopping);
  void Release(int fd);
  void Wake();

  const ConnectionSettings settings_;
  const std::function<void(ConnectionPtr)> ready_;
  const std::function<bool()> stopping_;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::mutex mutex_;
  std::deque<ConnectionPtr> queued_;
  bool joined_ = false;
  std::unordered_map<int, ConnectionPtr> held_;  // by descriptor; only the waiter thread
  std::thread thread_;
};

}  // namespace ocireg::internal
