// SPDX-License-Identifier: Apache-2.0
// HashHelper: one thread that hashes pieces handed over by writers, never more than one at a time.
#include "storage/hash_helper.h"

#include <utility>

namespace ocireg::internal {

HashHelper::~HashHelper() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    changed_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void HashHelper::UpdateAlongside(Digester& digester, std::span<const char> bytes,
                                 const std::function<void()>& work) {
  Job job{&digester, bytes};
  bool handed_over = false;
  {
    std::lock_guard lock(mu_);
    if (queued_ == nullptr && !busy_ && !stopping_) {
      if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
      queued_ = &job;
      handed_over = true;
      changed_.notify_all();
    }
  }
  work();
  if (handed_over) {
    std::unique_lock lock(mu_);
    if (queued_ == &job) {
      // The thread has not taken it yet: cheaper to hash here than to wait for it.
      queued_ = nullptr;
      handed_over = false;
    } else {
      changed_.wait(lock, [&] { return job.done; });
    }
  }
  if (!handed_over) digester.Update(bytes);
}

void HashHelper::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return queued_ != nullptr || stopping_; });
    if (queued_ == nullptr) return;  // stopping, and nothing was handed over
    Job* job = std::exchange(queued_, nullptr);
    busy_ = true;
    lock.unlock();
    job->digester->Update(job->bytes);
    lock.lock();
    busy_ = false;
    job->done = true;
    changed_.notify_all();
  }
}

}  // namespace ocireg::internal
