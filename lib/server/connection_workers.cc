// SPDX-License-Identifier: Apache-2.0
// ConnectionWorkers: threads started on demand for accepted connections.
#include "server/connection_workers.h"

#include <algorithm>
#include <utility>

namespace ocireg::internal {

ConnectionWorkers::ConnectionWorkers(size_t max_threads, std::function<void()> on_shutdown,
                                     std::chrono::milliseconds idle_timeout)
    : max_threads_(max_threads == 0 ? 1 : max_threads),
      on_shutdown_(std::move(on_shutdown)),
      idle_timeout_(idle_timeout) {}

ConnectionWorkers::~ConnectionWorkers() { shutdown(); }

void ConnectionWorkers::enqueue(std::function<void()> task) {
  JoinRetired();
  {
    std::lock_guard lock(mutex_);
    tasks_.push_back(std::move(task));
    // An idle thread will take it; otherwise start one while under the limit. A task queued
    // behind the limit waits for the first thread that finishes its connection.
    if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
      threads_.emplace_back([this] { Work(); });
    }
  }
  ready_.notify_one();
}

void ConnectionWorkers::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
  }
  if (on_shutdown_) on_shutdown_();
  ready_.notify_all();
  {
    // No thread is started once stopping_ is set, so the list is final.
    std::lock_guard lock(mutex_);
    threads.swap(threads_);
  }
  for (auto& thread : threads) thread.join();
  JoinRetired();
}

void ConnectionWorkers::JoinRetired() {
  std::vector<std::thread> retired;
  {
    std::lock_guard lock(mutex_);
    retired.swap(retired_);
  }
  // Each has left Work() or is about to: it gave up the lock for good when it retired.
  for (auto& thread : retired) thread.join();
}

size_t ConnectionWorkers::threads_started() const {
  std::lock_guard lock(mutex_);
  return threads_.size();
}

void ConnectionWorkers::Work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    ++idle_;
    bool woken =
        ready_.wait_for(lock, idle_timeout_, [this] { return !tasks_.empty() || stopping_; });
    --idle_;
    if (!woken) {
      // Idle too long: hand this thread's handle to the next enqueue() or shutdown() to join.
      auto self = std::find_if(threads_.begin(), threads_.end(), [](const std::thread& t) {
        return t.get_id() == std::this_thread::get_id();
      });
      retired_.push_back(std::move(*self));
      threads_.erase(self);
      return;
    }
    if (tasks_.empty()) return;  // stopping, and every queued connection has been served
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace ocireg::internal
