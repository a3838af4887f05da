// SPDX-License-Identifier: Apache-2.0
// HashHelper: a hash that throws on the helper thread fails the caller instead of hanging it.
#include "storage/hash_helper.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include "catch.h"
#include "ocireg/digest.h"
#include "status_macros.h"

using namespace ocireg;
using internal::HashHelper;

TEST_CASE("a hash that throws on the helper thread fails its caller", "[hash]") {
  HashHelper helper;
  std::mutex mu;
  std::condition_variable entered_cv;
  bool entered = false;
  std::thread::id hashing_thread;
  helper.TEST_SetBeforeHash([&] {
    {
      std::lock_guard lock(mu);
      entered = true;
      hashing_thread = std::this_thread::get_id();
    }
    entered_cv.notify_all();
    throw std::bad_alloc();
  });
  const std::string bytes = "some bytes";
  Digester digester(DigestAlgorithm::kSha256);
  // `work` holds the caller until the helper thread has taken the piece, so it is the helper
  // that throws (a bounded wait: if it never does, the piece is hashed here instead).
  Status status = helper.UpdateAlongside(digester, bytes, [&] {
    std::unique_lock lock(mu);
    entered_cv.wait_for(lock, std::chrono::seconds(30), [&] { return entered; });
  });
  CHECK(status.code() == ErrorCode::kInternal);
  CHECK(hashing_thread != std::this_thread::get_id());

  // The helper thread survived and serves the next piece.
  helper.TEST_SetBeforeHash(nullptr);
  Digester again(DigestAlgorithm::kSha256);
  REQUIRE_OK(helper.UpdateAlongside(again, bytes, [] {}));
  CHECK(again.Finish() == Digester::Of(DigestAlgorithm::kSha256, bytes));
}

TEST_CASE("an exception from the work is passed on once the helper let go of the bytes", "[hash]") {
  HashHelper helper;
  const std::string bytes = "some bytes";
  Digester digester(DigestAlgorithm::kSha256);
  CHECK_THROWS_AS(
      (void)helper.UpdateAlongside(digester, bytes, [] { throw std::runtime_error("work"); }),
      std::runtime_error);
  Digester again(DigestAlgorithm::kSha256);
  REQUIRE_OK(helper.UpdateAlongside(again, bytes, [] {}));
  CHECK(again.Finish() == Digester::Of(DigestAlgorithm::kSha256, bytes));
}
