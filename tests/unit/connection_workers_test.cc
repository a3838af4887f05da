// SPDX-License-Identifier: Apache-2.0
// ConnectionWorkers: threads start only when a connection finds none idle, up to the limit.
#include "server/connection_workers.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "catch.h"

namespace {

using ocireg::internal::ConnectionWorkers;

// A task that holds its thread until Release(), like a keep-alive connection.
class Gate {
 public:
  void Hold() {
    std::unique_lock lock(mu_);
    ++holding_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
    --holding_;
  }
  void Release() {
    std::lock_guard lock(mu_);
    open_ = true;
    changed_.notify_all();
  }
  // Waits (bounded) until `n` tasks hold; true when they do.
  bool AwaitHolding(int n) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(10), [&] { return holding_ == n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  int holding_ = 0;
  bool open_ = false;
};

}  // namespace

TEST_CASE("connection workers start no thread before the first connection", "[workers]") {
  ConnectionWorkers workers(512, nullptr);
  CHECK(workers.threads_started() == 0);
  workers.shutdown();
}

TEST_CASE("connection workers start one thread per connection held open at once", "[workers]") {
  ConnectionWorkers workers(512, nullptr);
  Gate gate;
  for (int i = 0; i < 6; ++i) workers.enqueue([&] { gate.Hold(); });
  REQUIRE(gate.AwaitHolding(6));
  CHECK(workers.threads_started() == 6);
  gate.Release();
  workers.shutdown();
}

TEST_CASE("connection workers reuse idle threads for later connections", "[workers]") {
  ConnectionWorkers workers(512, nullptr);
  std::atomic<int> done{0};
  for (int i = 0; i < 50; ++i) {
    workers.enqueue([&] { ++done; });
    // Wait (bounded) for the task: the next one then finds the thread idle.
    for (int spin = 0; spin < 10000 && done.load() <= i; ++spin) {
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
  }
  CHECK(done.load() == 50);
  CHECK(workers.threads_started() <= 2);
  workers.shutdown();
}

TEST_CASE("connection workers queue connections beyond the limit and serve them all", "[workers]") {
  ConnectionWorkers workers(3, nullptr);
  Gate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    workers.enqueue([&] {
      gate.Hold();
      ++done;
    });
  }
  REQUIRE(gate.AwaitHolding(3));
  CHECK(workers.threads_started() == 3);
  gate.Release();
  workers.shutdown();  // serves what is queued before it returns
  CHECK(done.load() == 10);
  CHECK(workers.threads_started() == 0);  // joined and released
}

TEST_CASE("connection workers report shutdown once, before they drain", "[workers]") {
  int reports = 0;
  std::atomic<int> done{0};
  {
    ConnectionWorkers workers(2, [&] { ++reports; });
    for (int i = 0; i < 4; ++i) workers.enqueue([&] { ++done; });
    workers.shutdown();
    workers.shutdown();
    CHECK(done.load() == 4);
  }
  CHECK(reports == 1);
}

TEST_CASE("connection workers end threads that stay idle, and start new ones when needed",
          "[workers]") {
  ConnectionWorkers workers(512, nullptr, std::chrono::milliseconds(50));
  Gate gate;
  for (int i = 0; i < 4; ++i) workers.enqueue([&] { gate.Hold(); });
  REQUIRE(gate.AwaitHolding(4));
  CHECK(workers.threads_started() == 4);
  gate.Release();
  // Bounded wait for the four to go idle and time out.
  for (int spin = 0; spin < 500 && workers.threads_started() > 0; ++spin) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(workers.threads_started() == 0);
  std::atomic<int> done{0};
  workers.enqueue([&] { ++done; });
  for (int spin = 0; spin < 500 && done.load() == 0; ++spin) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(done.load() == 1);
  workers.shutdown();
  CHECK(workers.threads_started() == 0);
}
