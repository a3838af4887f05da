// SPDX-License-Identifier: Apache-2.0
// HashHelper: hashes a piece of a blob on a second thread while the caller writes the same piece.
//
// Why: without it one thread receives, hashes and writes every byte of a push, and SHA-256 alone
// costs 0.7 s per GiB on one core, so the push runs at the speed of that one thread even when the
// disk could take more. One helper thread serves the whole store; when it is busy with another
// upload, the caller hashes its piece itself after writing it, so nobody waits longer than when
// hashing inline.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <span>
#include <thread>

#include "ocireg/digest.h"
#include "ocireg/status.h"

namespace ocireg::internal {

class HashHelper {
 public:
  HashHelper() = default;
  ~HashHelper();
  HashHelper(const HashHelper&) = delete;
  HashHelper& operator=(const HashHelper&) = delete;

  // Runs `work` and meanwhile digester.Update(bytes) on the helper thread (or here, after `work`,
  // when the helper is busy). Returns when both are done; `bytes` must not change until then.
  // kInternal when hashing threw (std::bad_alloc): the digester then holds an unknown part of
  // `bytes`. An exception from `work` is passed on once the helper no longer uses `bytes`.
  [[nodiscard]] Status UpdateAlongside(Digester& digester, std::span<const char> bytes,
                                       const std::function<void()>& work);

  // Called before each piece is hashed, on the thread that hashes it; may throw. For tests.
  void TEST_SetBeforeHash(std::function<void()> hook) { before_hash_ = std::move(hook); }

 private:
  struct Job {
    Digester* digester;
    std::span<const char> bytes;
    bool done = false;
    Status status;  // of the hashing, once done
  };
  void Run();
  // digester.Update(bytes), with any exception turned into kInternal.
  Status Hash(Digester& digester, std::span<const char> bytes);

  std::function<void()> before_hash_;

  std::mutex mu_;
  std::condition_variable changed_;
  Job* queued_ = nullptr;  // handed over, not yet taken by the thread
  bool busy_ = false;      // the thread is hashing a job
  bool stopping_ = false;
  std::thread thread_;  // started on first use
};

}  // namespace ocireg::internal
