// SPDX-License-Identifier: Apache-2.0
// Replicas failing under load: one killed with SIGKILL, and all restarted one after another with a
// drain delay; nothing a client saw acknowledged is lost, nothing a retrying client can complete
// fails.
#include "replicas.h"

namespace ocireg {
namespace {

using namespace cluster_test;  // NOLINT(google-build-using-namespace): the shared fixture

// ---- 4. kill -9 under load ----------------------------------------------------------------

TEST_CASE("a replica killed with SIGKILL under load loses nothing acknowledged",
          "[cluster][balancer]") {
  Cluster cluster;
  Replica& victim = cluster.replica(1);
  auto survivor = cluster.replica(2).Client();

  // A session begun on the victim, with one chunk, to be continued on a survivor.
  const std::string blob = RandomBytes(600 * 1024, NextSeed());
  const std::string digest = Sha256(blob);
  std::string location;
  {
    auto on_victim = victim.Client();
    httplib::Result started = on_victim->Post("/v2/load/session/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    httplib::Result patched =
        on_victim->Patch(started->get_header_value("Location"),
                         {{"Content-Range", "0-" + std::to_string(300 * 1024 - 1)}},
                         blob.substr(0, 300 * 1024), kOctet);
    REQUIRE(patched);
    REQUIRE(patched->status == 202);
    location = patched->get_header_value("Location");
  }

  constexpr int kThreads = 4;
  constexpr int kPushes = 6;
  Load load;
  ThreadGroup threads([&load] { load.stop = true; });
  for (int t = 0; t < kThreads; ++t) {
    threads.Add(RunLoad, cluster.balancer().port(), std::ref(load), t, kPushes, true);
  }
  // Halfway through, kill -9 one replica.
  const auto deadline = steady_clock::now() + seconds(90);
  while (load.pushes < kThreads * kPushes / 2 && steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const int pushes_before_kill = load.pushes;
  victim.Kill();
  threads.Join();
  INFO(cluster.logs());
  {
    std::lock_guard lock(load.mu);
    WARN("kill -9 after " << pushes_before_kill << " of " << kThreads * kPushes << " pushes; "
                          << load.pushes << " pushes and " << load.pulls << " pulls verified; "
                          << load.raw_errors.size() << " failed attempts before retries");
    for (const std::string& error : load.raw_errors) UNSCOPED_INFO("failed attempt: " << error);
    for (const std::string& failure : load.failures) UNSCOPED_INFO("gave up: " << failure);
  }
  CHECK(load.failures.empty());
  CHECK(load.pushes == kThreads * kPushes);
  CHECK(pushes_before_kill < kThreads * kPushes);
  REQUIRE(cluster.WaitForState(1, "DOWN", seconds(5)));

  // The session continues on a survivor, or is unknown there; never a wrong blob.
  {
    httplib::Result patched = survivor->Patch(
        location,
        {{"Content-Range", std::to_string(300 * 1024) + "-" + std::to_string(blob.size() - 1)}},
        blob.substr(300 * 1024), kOctet);
    REQUIRE(patched);
    INFO(Describe("PATCH " + location + " on a survivor", patched));
    if (patched->status == 404) {
      CHECK(patched->body.find("BLOB_UPLOAD_UNKNOWN") != std::string::npos);
      WARN("the session begun on the killed replica is unknown to the survivor");
    } else {
      REQUIRE(patched->status == 202);
      const std::string close =
          WithQuery(patched->get_header_value("Location"), "digest=" + digest);
      httplib::Result done = survivor->Put(close, "", kOctet);
      REQUIRE(done);
      INFO(Describe("PUT " + close, done));
      if (done->status == 404) {
        CHECK(done->body.find("BLOB_UPLOAD_UNKNOWN") != std::string::npos);
      } else {
        CHECK(done->status == 201);
        httplib::Result pulled = survivor->Get("/v2/load/session/blobs/" + digest);
        REQUIRE(pulled);
        CHECK(pulled->status == 200);
        CHECK(pulled->body == blob);
      }
    }
  }

  // Every acknowledged push is whole on each survivor; nothing is half visible.
  const std::vector<Image> acknowledged = load.Snapshot();
  for (size_t i : {size_t{0}, size_t{2}}) {
    for (const Image& image : acknowledged) CheckServes(cluster.replica(i), image);
    CheckNothingHalfVisible(cluster.replica(i), load);
  }

  // The killed replica comes back on its port and serves everything, and takes new pushes.
  REQUIRE(victim.Start());
  REQUIRE(cluster.WaitForState(1, "UP", seconds(10)));
  for (const Image& image : acknowledged) CheckServes(victim, image);
  CheckNothingHalfVisible(victim, load);
  auto on_victim = victim.Client();
  const std::string fresh = testing::PushImage(*on_victim, "load/t0", "after-restart", "new");
  httplib::Result seen = GetManifest(*survivor, "load/t0", "after-restart");
  REQUIRE(seen);
  CHECK(seen->status == 200);
  CHECK(Sha256(seen->body) == fresh);
}

// ---- 5. Rolling restart -------------------------------------------------------------------

TEST_CASE("a rolling restart with a drain delay fails no request a retrying client completes",
          "[cluster][balancer]") {
  Cluster cluster("drain_delay = \"1s\"\n");
  constexpr int kThreads = 3;
  constexpr int kMaxPushes = 400;  // per thread; the restarts end the run long before
  Load load;
  ThreadGroup threads([&load] { load.stop = true; });
  for (int t = 0; t < kThreads; ++t) {
    threads.Add(RunLoad, cluster.balancer().port(), std::ref(load), t, kMaxPushes, false);
  }
  // Waits (up to 10 s) until `more` further pushes were acknowledged.
  auto await_pushes = [&load](int more) {
    const int target = load.pushes + more;
    const auto deadline = steady_clock::now() + seconds(10);
    while (load.pushes < target && steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  };
  // Some traffic first, then each replica in turn.
  await_pushes(6);
  std::vector<int> pushes_during_restart;  // from SIGTERM until HAProxy has it UP again
  for (size_t i = 0; i < kReplicas; ++i) {
    Replica& replica = cluster.replica(i);
    INFO("restarting " << replica.name());
    const int pushes_before = load.pushes;
    const std::optional<int> exit_code = replica.Terminate(seconds(30));
    INFO(replica.log());
    REQUIRE(exit_code == 0);
    CHECK(replica.current_log_text().find("draining for 1s") != std::string::npos);
    REQUIRE(replica.Start());
    REQUIRE(cluster.WaitForState(i, "UP", seconds(10)));
    pushes_during_restart.push_back(load.pushes - pushes_before);
    // Some traffic on the whole cluster again before the next one.
    await_pushes(3);
  }
  load.stop = true;
  threads.Join();

  INFO(cluster.logs());
  {
    std::lock_guard lock(load.mu);
    WARN("rolling restart: " << load.pushes << " pushes and " << load.pulls << " pulls verified ("
                             << pushes_during_restart[0] << ", " << pushes_during_restart[1]
                             << " and " << pushes_during_restart[2]
                             << " pushes while each replica restarted); " << load.raw_errors.size()
                             << " failed attempts before retries, " << load.failures.size()
                             << " failures after them");
    for (const std::string& error : load.raw_errors) UNSCOPED_INFO("failed attempt: " << error);
    for (const std::string& failure : load.failures) UNSCOPED_INFO("gave up: " << failure);
  }
  CHECK(load.failures.empty());
  // Pushes went on while each replica drained and restarted.
  for (size_t i = 0; i < kReplicas; ++i) {
    INFO("pushes acknowledged while r" << i << " restarted");
    CHECK(pushes_during_restart[i] > 0);
  }

  for (size_t i = 0; i < kReplicas; ++i) {
    for (const Image& image : load.Snapshot()) CheckServes(cluster.replica(i), image);
  }
  CheckNothingHalfVisible(cluster.replica(0), load);
}

}  // namespace
}  // namespace ocireg
