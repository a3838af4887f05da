// SPDX-License-Identifier: Apache-2.0
// HashHelper: one thread that hashes pieces handed over by writers, never more than one at a time.
#include "storage/hash_helper.h"

#include <exception>
#include <string>
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

Status HashHelper::UpdateAlongside(Digester& digester, std::span<const char> bytes,
                                   const std::function<void()>& work) {
  Job job{&digester, bytes, false, Status::Ok()};
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
  // `job` lives on this stack: whatever `work` does, the helper must let go of it first.
  std::exception_ptr work_failed;
  try {
    work();
  } catch (...) {
    work_failed = std::current_exception();
  }
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
  if (work_failed) std::rethrow_exception(work_failed);
  return handed_over ? job.status : Hash(digester, bytes);
}

Status HashHelper::Hash(Digester& digester, std::span<const char> bytes) {
  try {
    if (before_hash_) before_hash_();
    digester.Update(bytes);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Internal(std::string("hashing failed: ") + e.what());
  } catch (...) {
    return Internal("hashing failed: unknown exception");
  }
}

void HashHelper::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    changed_.wait(lock, [this] { return queued_ != nullptr || stopping_; });
    if (queued_ == nullptr) return;  // stopping, and nothing was handed over
    Job* job = std::exchange(queued_, nullptr);
    busy_ = true;
    lock.unlock();
    // Never throws: an exception here would end the thread and leave the job's owner waiting.
    Status hashed = Hash(*job->digester, job->bytes);
    lock.lock();
    busy_ = false;
    job->status = std::move(hashed);
    job->done = true;
    changed_.notify_all();
  }
}

}  // namespace ocireg::internal
