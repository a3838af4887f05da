// SPDX-License-Identifier: Apache-2.0
// Whole ocireg-serve replicas on one bucket of the S3 test gateway and one private Redis, with
// garbage collection run as `ocireg-serve gc` processes that join the cluster through the same
// Redis: collections racing pushes with no grace period, the gc lease between collections (one
// refused while another runs, one killed with SIGKILL), and Redis restarting or gone under
// running replicas.
#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.h"
#include "process.h"
#include "redis.h"
#include "s3/serve_s3.h"
#include "serve_process.h"
#include "temp_dir.h"
#include "test_server.h"
#include "upload_steps.h"

namespace ocireg {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::RedisServer;
using testing::ServeProcess;

milliseconds Since(steady_clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(steady_clock::now() - start);
}

// A replica's (or a gc command's) configuration: the gateway's bucket and prefix `s3`, the
// Redis `redis`, this process's name `node`, a 3 s lease, and further [storage] keys.
std::string ClusterConfig(const S3Options& s3, const RedisServer& redis, const std::string& node,
                          const std::string& storage_lines = "") {
  std::string config = testing::S3ServeConfig(s3);
  const std::string anchor = "gc_interval = 0\n";  // the [storage] table's last line
  config.insert(config.find(anchor) + anchor.size(), storage_lines);
  return config + "\n[cluster]\nnode_name = \"" + node + "\"\nredis_url = \"" + redis.url() +
         "\"\nlease_ttl = \"3s\"\nconnect_timeout = \"300ms\"\ncommand_timeout = \"300ms\"\n";
}

// What one `ocireg-serve gc` printed and how it ended.
struct GcRun {
  std::optional<int> exit_code;  // nullopt: killed by a signal
  std::string output;
  steady_clock::time_point ended;
  milliseconds took{};

  // A number of its report ("  blob links removed    3"), or -1 without a report.
  long Reported(const std::string& label) const {
    const size_t at = output.find(label);
    if (at == std::string::npos) return -1;
    return std::strtol(output.c_str() + at + label.size(), nullptr, 10);
  }
};

// Runs `ocireg-serve gc` on the configuration `config` (written to dir/`name`.toml) to its end.
GcRun RunGc(const std::filesystem::path& dir, const std::string& config, const std::string& name) {
  static std::atomic<int> runs{0};
  const std::filesystem::path file = dir / (name + ".toml");
  testing::WriteTextFile(file, config);
  const std::filesystem::path log = dir / (name + "-run-" + std::to_string(++runs) + ".log");
  const auto start = steady_clock::now();
  const pid_t pid = testing::SpawnProcess({OCIREG_SERVE, "gc", file.string()}, log);
  std::optional<int> status = testing::WaitForChild(pid, seconds(60));
  if (!status) {
    testing::EndChild(pid);
    status = -1;
  }
  GcRun run;
  run.ended = steady_clock::now();
  run.took = Since(start);
  if (WIFEXITED(*status)) run.exit_code = WEXITSTATUS(*status);
  run.output = testing::ReadTextFile(log);
  return run;
}

// The code of an OCI error body ("MANIFEST_BLOB_UNKNOWN"), or the body itself.
std::string ErrorCodeOf(const httplib::Result& result) {
  if (!result) return "no answer: " + httplib::to_string(result.error());
  const std::string& body = result->body;
  const std::string key = "\"code\":\"";
  const size_t at = body.find(key);
  if (at == std::string::npos) return std::to_string(result->status) + " " + body;
  const size_t end = body.find('"', at + key.size());
  return body.substr(at + key.size(), end - at - key.size());
}

// An image pushed and acknowledged: its tag, manifest digest, and every blob's bytes.
struct Image {
  std::string repo;
  std::string tag;
  std::string digest;
  std::map<std::string, std::string> blobs;  // digest -> bytes
};

// Bytes of `size` that no other call gives, starting with `label`.
std::string UniqueBytes(const std::string& label, size_t size) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{std::random_device{}()};
  std::string bytes = label + " #" + std::to_string(++counter) + " " + std::to_string(random());
  while (bytes.size() < size) bytes.push_back(static_cast<char>('a' + random() % 26));
  return bytes;
}

// PUTs the manifest of `config` and `layers` (all pushed) as `repo`:`tag`.
httplib::Result PutManifest(httplib::Client& client, const std::string& repo,
                            const std::string& tag, const std::string& config,
                            const std::vector<std::string>& layers, std::string& manifest) {
  std::vector<std::pair<std::string, size_t>> descriptors;
  descriptors.reserve(layers.size());
  for (const std::string& layer : layers) {
    descriptors.emplace_back(testing::Sha256(layer), layer.size());
  }
  manifest = testing::ImageManifest(testing::Sha256(config), config.size(), descriptors);
  return client.Put("/v2/" + repo + "/manifests/" + tag, manifest, testing::kOciManifestType);
}

// Checks through `client` that `image` is complete: its tag names its manifest, and every blob
// reads back byte for byte.
void CheckComplete(httplib::Client& client, const Image& image) {
  INFO(image.repo << ":" << image.tag);
  auto manifest = client.Get("/v2/" + image.repo + "/manifests/" + image.tag);
  REQUIRE(manifest);
  CHECK(manifest->status == 200);
  CHECK(testing::Sha256(manifest->body) == image.digest);
  auto by_digest = client.Get("/v2/" + image.repo + "/manifests/" + image.digest);
  REQUIRE(by_digest);
  CHECK(by_digest->status == 200);
  for (const auto& [digest, bytes] : image.blobs) {
    INFO("blob " << digest);
    auto blob = client.Get("/v2/" + image.repo + "/blobs/" + digest);
    REQUIRE(blob);
    CHECK(blob->status == 200);
    CHECK(blob->body == bytes);
  }
}

// What the pushers of a race did.
struct PushLog {
  std::mutex mu;
  std::vector<Image> acknowledged;
  std::vector<std::string> failures;  // tag: what the push answered
  int manifest_blob_unknown = 0;      // failed pushes that named a removed blob
  int garbage_gone_before_head = 0;   // HEAD found the old layer collected: re-pushed
  int retried_ok = 0;                 // pushed again after MANIFEST_BLOB_UNKNOWN
  int old_layer_kept = 0;  // the old layer was there at HEAD and still when the manifest came
};

// How a race is run.
struct RaceOptions {
  // Take the old layers out of Redis's record of content in use, as if they had been uploaded
  // more than its ten-minute window ago: only the claim handshake then protects them.
  bool age_old_layers = false;
  int min_images = 6;   // per pusher
  int max_images = 30;  // per pusher
  int min_gc_runs = 20;
  int max_gc_runs = 40;
};

TEST_CASE("garbage collection racing pushes through two replicas keeps every acknowledged image",
          "[cluster][gc]") {
  RedisServer redis;
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  const std::string no_grace = "gc_grace_period = 0\n";
  ServeProcess first(dir.path(), ClusterConfig(s3, redis, "replica-1", no_grace), "replica-1");
  ServeProcess second(dir.path(), ClusterConfig(s3, redis, "replica-2", no_grace), "replica-2");
  const uint16_t ports[] = {testing::ListeningPort(first), testing::ListeningPort(second)};
  const std::string gc_config = ClusterConfig(s3, redis, "collector", no_grace);
  const std::string repo = "race/app";

  RaceOptions race;
  SECTION("everything recent") { race.age_old_layers = false; }
  SECTION("old layers older than the in-use window") { race.age_old_layers = true; }

  PushLog pushes;
  std::vector<GcRun> collections;
  std::atomic<int> gc_runs{0};     // collections ended
  std::atomic<int> gc_started{0};  // collections started
  std::atomic<int> pushers_left{4};
  // Each image has a fresh config and layer of its own, and an "old" layer that the other
  // replica pushed a moment before as a blob no manifest references: garbage until this
  // manifest references it. Like docker, the pusher HEADs every layer first, uploads the missing
  // ones, then PUTs the manifest.
  auto pusher = [&](int replica, const std::string& name) {
    auto client = testing::ClientOf(ports[replica]);
    auto other = testing::ClientOf(ports[1 - replica]);
    thread_local std::mt19937 random{std::random_device{}()};
    for (int i = 0; i < race.max_images; ++i) {
      if (i >= race.min_images && gc_runs.load() >= race.min_gc_runs) break;
      const std::string tag = name + "-" + std::to_string(i);
      const std::string config = R"({"architecture":"amd64","os":"linux","tag":")" + tag + "\"}";
      const std::string fresh = UniqueBytes("fresh layer of " + tag, 2048);
      const std::string old = UniqueBytes("old layer for " + tag, 1024);
      const std::string old_digest = testing::Sha256(old);
      try {
        testing::PushBlob(*other, repo, old);
        // An old layer is one that collections have listed: wait until one starts after it was
        // linked (the one running now, which may have listed the repository before, has then
        // ended), and only then take it out of the in-use record. A collection that listed the
        // repository before the layer was linked must not find it old in its content store
        // afterwards: there, only its recent announcement protects it, and a layer linked in the
        // middle of a collection is never older than the collection.
        const int started = gc_started.load();
        while (gc_started.load() == started && gc_runs.load() < race.max_gc_runs) {
          std::this_thread::sleep_for(milliseconds(5));
        }
        if (race.age_old_layers && redis.Command({"ZREM", "ocireg:in-use", old_digest}) != "1") {
          throw std::runtime_error("the old layer was not recorded in use");
        }
        // Then the push, at some point while that collection or the next runs.
        std::this_thread::sleep_for(milliseconds(random() % 250));
        auto head = client->Head("/v2/" + repo + "/blobs/" + old_digest);
        if (!head) throw std::runtime_error("HEAD got no answer");
        const bool old_present = head->status == 200;
        testing::PushBlob(*client, repo, config);
        testing::PushBlob(*client, repo, fresh);
        if (!old_present) {
          testing::PushBlob(*client, repo, old);
          std::lock_guard lock(pushes.mu);
          ++pushes.garbage_gone_before_head;
        }
        std::string manifest;
        auto put = PutManifest(*client, repo, tag, config, {fresh, old}, manifest);
        const bool put_again =
            put && put->status != 201 && ErrorCodeOf(put) == "MANIFEST_BLOB_UNKNOWN";
        if (put_again) {
          {
            std::lock_guard lock(pushes.mu);
            ++pushes.manifest_blob_unknown;
            pushes.failures.push_back(tag + ": " + put->body);
          }
          // What a client does next: upload what the registry lacks, and PUT again.
          testing::PushBlob(*client, repo, old);
          put = PutManifest(*client, repo, tag, config, {fresh, old}, manifest);
          if (put && put->status == 201) {
            std::lock_guard lock(pushes.mu);
            ++pushes.retried_ok;
          }
        }
        if (!put || put->status != 201) {
          std::lock_guard lock(pushes.mu);
          pushes.failures.push_back(tag + ": " + ErrorCodeOf(put));
          continue;
        }
        Image image{repo, tag, testing::Sha256(manifest), {}};
        image.blobs[testing::Sha256(config)] = config;
        image.blobs[testing::Sha256(fresh)] = fresh;
        image.blobs[old_digest] = old;
        std::lock_guard lock(pushes.mu);
        if (old_present && !put_again) ++pushes.old_layer_kept;
        pushes.acknowledged.push_back(std::move(image));
      } catch (const std::exception& e) {
        std::lock_guard lock(pushes.mu);
        pushes.failures.push_back(tag + ": " + e.what());
      }
    }
    --pushers_left;
  };

  std::thread collector([&] {
    while (gc_runs.load() < race.max_gc_runs &&
           (pushers_left.load() > 0 || gc_runs.load() < race.min_gc_runs)) {
      ++gc_started;
      collections.push_back(RunGc(dir.path(), gc_config, "gc"));
      ++gc_runs;
    }
  });
  std::vector<std::thread> pushers;
  pushers.emplace_back(pusher, 0, "r1a");
  pushers.emplace_back(pusher, 0, "r1b");
  pushers.emplace_back(pusher, 1, "r2a");
  pushers.emplace_back(pusher, 1, "r2b");
  for (std::thread& thread : pushers) thread.join();
  collector.join();

  long links_removed = 0;
  long bytes_reclaimed = 0;
  for (const GcRun& run : collections) {
    INFO(run.output);
    CHECK(run.exit_code == 0);
    links_removed += std::max(0L, run.Reported("blob links removed"));
    bytes_reclaimed += std::max(0L, run.Reported("bytes reclaimed"));
  }
  std::fprintf(stderr,
               "gc race (%s): %zu images acknowledged, %zu failures (%d MANIFEST_BLOB_UNKNOWN, "
               "%d pushed again and then acknowledged); old layers: %d collected before their "
               "HEAD, %d kept for their manifest; %zu collections removed %ld blob links and "
               "%ld bytes\n",
               race.age_old_layers ? "old layers aged" : "everything recent",
               pushes.acknowledged.size(), pushes.failures.size(), pushes.manifest_blob_unknown,
               pushes.retried_ok, pushes.garbage_gone_before_head, pushes.old_layer_kept,
               collections.size(), links_removed, bytes_reclaimed);
  for (const std::string& failure : pushes.failures)
    std::fprintf(stderr, "  %s\n", failure.c_str());
  CHECK(collections.size() >= static_cast<size_t>(race.min_gc_runs));
  CHECK(pushes.acknowledged.size() >= 4 * static_cast<size_t>(race.min_images) - 4);
  if (!race.age_old_layers) {
    // Everything was announced in use within the last ten minutes: no collection may take any
    // of it, so no push fails and nothing is removed.
    for (const std::string& failure : pushes.failures) UNSCOPED_INFO(failure);
    CHECK(pushes.failures.empty());
    CHECK(pushes.garbage_gone_before_head == 0);
    CHECK(links_removed == 0);
  } else {
    // A push may lose its old layer to a collection between its HEAD and its manifest: that push
    // fails with MANIFEST_BLOB_UNKNOWN and succeeds once the layer is uploaded again. Nothing
    // else may fail.
    CHECK(static_cast<int>(pushes.failures.size()) == pushes.manifest_blob_unknown);
    CHECK(pushes.retried_ok == pushes.manifest_blob_unknown);
    // The race happened: collections took old layers.
    CHECK(links_removed > 0);
  }

  // Every acknowledged image is whole through both replicas, and still after one more
  // collection with nothing running beside it.
  for (int round = 0; round < 2; ++round) {
    if (round == 1) {
      const GcRun last = RunGc(dir.path(), gc_config, "gc");
      INFO(last.output);
      REQUIRE(last.exit_code == 0);
    }
    for (const uint16_t port : ports) {
      auto client = testing::ClientOf(port);
      for (const Image& image : pushes.acknowledged) CheckComplete(*client, image);
    }
  }
}

// Pushes `count` small images, each in a repository of its own ("many/<prefix>-<i>"), through
// `port` on `threads` threads; returns them.
std::vector<Image> PushManyRepositories(uint16_t port, const std::string& prefix, int count,
                                        int threads) {
  std::mutex mu;
  std::vector<Image> images;
  std::vector<std::string> failures;
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      auto client = testing::ClientOf(port);
      for (int i = t; i < count; i += threads) {
        Image image{"many/" + prefix + "-" + std::to_string(i), "v1", "", {}};
        const std::string layer = UniqueBytes("layer of " + image.repo, 512);
        const std::string config = R"({"architecture":"amd64","os":"linux"})";
        try {
          image.digest = testing::PushImage(*client, image.repo, image.tag, layer);
          image.blobs[testing::Sha256(layer)] = layer;
          image.blobs[testing::Sha256(config)] = config;
          std::lock_guard lock(mu);
          images.push_back(std::move(image));
        } catch (const std::exception& e) {
          std::lock_guard lock(mu);
          failures.emplace_back(e.what());
        }
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  for (const std::string& failure : failures) UNSCOPED_INFO(failure);
  REQUIRE(failures.empty());
  return images;
}

TEST_CASE("one garbage collection in the cluster at a time; a killed one's lease runs out",
          "[cluster][gc]") {
  RedisServer redis;
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  const std::string no_grace = "gc_grace_period = 0\n";
  ServeProcess replica(dir.path(), ClusterConfig(s3, redis, "replica-1", no_grace), "replica-1");
  const uint16_t port = testing::ListeningPort(replica);
  // Enough repositories that one collection takes a while on the test gateway.
  const std::vector<Image> images = PushManyRepositories(port, "repo", 160, 6);
  // Some garbage, aged out of the in-use window, for the collections to find.
  auto client = testing::ClientOf(port);
  std::vector<std::string> garbage;
  for (int i = 0; i < 5; ++i) {
    garbage.push_back(testing::PushBlob(*client, "many/repo-0", UniqueBytes("garbage", 256)));
    REQUIRE(redis.Command({"ZREM", "ocireg:in-use", garbage.back()}) == "1");
  }
  auto lease_holder = [&] { return redis.Command({"GET", "ocireg:lease:gc"}); };

  // How long a whole collection takes here, for the record.
  const GcRun baseline =
      RunGc(dir.path(), ClusterConfig(s3, redis, "gc-baseline", no_grace), "gc-baseline");
  INFO(baseline.output);
  REQUIRE(baseline.exit_code == 0);
  CHECK(baseline.Reported("repositories scanned") >= 160);
  CHECK(baseline.Reported("blob links removed") == 5);
  std::fprintf(stderr, "one collection of %zu repositories took %lld ms\n", images.size(),
               static_cast<long long>(baseline.took.count()));
  CHECK(lease_holder().empty());

  // A second collection while one runs is refused, naming the holder, and removes nothing.
  {
    for (int i = 0; i < 3; ++i) {
      garbage.push_back(testing::PushBlob(*client, "many/repo-1", UniqueBytes("garbage", 256)));
      REQUIRE(redis.Command({"ZREM", "ocireg:in-use", garbage.back()}) == "1");
    }
    const std::string first_config = ClusterConfig(s3, redis, "gc-first", no_grace);
    std::optional<GcRun> first_run;
    std::thread first([&] { first_run = RunGc(dir.path(), first_config, "gc-first"); });
    bool held = false;
    for (int i = 0; i < 500 && !held; ++i) {
      held = lease_holder().starts_with("gc-first/");
      if (!held) std::this_thread::sleep_for(milliseconds(5));
    }
    std::optional<GcRun> second;
    if (held) {
      second = RunGc(dir.path(), ClusterConfig(s3, redis, "gc-second", no_grace), "gc-second");
    }
    first.join();
    REQUIRE(held);
    REQUIRE(second);
    INFO("second: " << second->output);
    INFO("first: " << first_run->output);
    // The first was still running when the second ended.
    REQUIRE(first_run->ended > second->ended);
    CHECK(second->exit_code == 1);
    CHECK(second->output.find("garbage collection not started") != std::string::npos);
    CHECK(second->output.find("held by gc-first") != std::string::npos);
    CHECK(second->Reported("blob links removed") == -1);  // no report: it did not start
    CHECK(first_run->exit_code == 0);
    CHECK(first_run->Reported("blob links removed") == 3);
    CHECK(lease_holder().empty());
  }

  // A collection killed with SIGKILL holds the lease until lease_ttl, then the next one runs.
  {
    const std::filesystem::path file = dir.path() / "gc-doomed.toml";
    testing::WriteTextFile(file, ClusterConfig(s3, redis, "gc-doomed", no_grace));
    const pid_t doomed =
        testing::SpawnProcess({OCIREG_SERVE, "gc", file.string()}, dir.path() / "gc-doomed.log");
    bool held = false;
    for (int i = 0; i < 500 && !held; ++i) {
      held = lease_holder().starts_with("gc-doomed/");
      if (!held) std::this_thread::sleep_for(milliseconds(5));
    }
    // Into the repositories (past a renewal or two), then killed.
    std::this_thread::sleep_for(milliseconds(800));
    kill(doomed, SIGKILL);
    const auto killed_at = steady_clock::now();
    const std::optional<int> status = testing::WaitForChild(doomed, seconds(10));
    INFO(testing::ReadTextFile(dir.path() / "gc-doomed.log"));
    REQUIRE(held);
    REQUIRE(status);
    // It was still running: killed, not exited.
    REQUIRE(WIFSIGNALED(*status));
    REQUIRE(lease_holder().starts_with("gc-doomed/"));

    const std::string next_config = ClusterConfig(s3, redis, "gc-next", no_grace);
    const GcRun refused = RunGc(dir.path(), next_config, "gc-next");
    INFO(refused.output);
    CHECK(refused.exit_code == 1);
    CHECK(refused.output.find("held by gc-doomed") != std::string::npos);
    // Its last renewal was at most lease_ttl / 6 before the kill: the lease ends 2.5 to 3 s
    // after it.
    std::optional<milliseconds> freed_after;
    while (!freed_after && Since(killed_at) < seconds(6)) {
      if (lease_holder().empty()) {
        freed_after = Since(killed_at);
      } else {
        std::this_thread::sleep_for(milliseconds(20));
      }
    }
    REQUIRE(freed_after);
    std::fprintf(stderr, "the killed collection's lease ended %lld ms after the kill\n",
                 static_cast<long long>(freed_after->count()));
    CHECK(*freed_after >= milliseconds(2000));
    CHECK(*freed_after <= milliseconds(3500));
    const GcRun next = RunGc(dir.path(), next_config, "gc-next");
    INFO(next.output);
    CHECK(next.exit_code == 0);
    CHECK(next.Reported("repositories scanned") >= 160);
    CHECK(lease_holder().empty());
  }

  // Nothing referenced was lost, and the garbage is gone.
  for (const Image& image : images) CheckComplete(*client, image);
  for (const std::string& digest : garbage) {
    auto blob = client->Head("/v2/many/repo-0/blobs/" + digest);
    REQUIRE(blob);
    auto other = client->Head("/v2/many/repo-1/blobs/" + digest);
    REQUIRE(other);
    CHECK(blob->status == 404);
    CHECK(other->status == 404);
  }
}

// Reads that must answer 200 through `client` while Redis is gone: a manifest by tag and by
// digest, a blob, the tag list and the catalog.
void CheckReadsWork(httplib::Client& client, const Image& image) {
  INFO(image.repo << ":" << image.tag);
  for (const std::string& path :
       {"/v2/" + image.repo + "/manifests/" + image.tag,
        "/v2/" + image.repo + "/manifests/" + image.digest,
        "/v2/" + image.repo + "/blobs/" + image.blobs.begin()->first,
        "/v2/" + image.repo + "/tags/list", std::string("/v2/_catalog")}) {
    INFO(path);
    auto result = client.Get(path);
    REQUIRE(result);
    INFO(result->body);
    CHECK(result->status == 200);
  }
  auto head = client.Head("/v2/" + image.repo + "/blobs/" + image.blobs.begin()->first);
  REQUIRE(head);
  CHECK(head->status == 200);
}

TEST_CASE("replicas ride out a Redis restart and a Redis outage", "[cluster][redis]") {
  RedisServer redis;
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess first(dir.path(), ClusterConfig(s3, redis, "replica-1"), "replica-1");
  ServeProcess second(dir.path(), ClusterConfig(s3, redis, "replica-2"), "replica-2");
  const uint16_t ports[] = {testing::ListeningPort(first), testing::ListeningPort(second)};
  auto on_first = testing::ClientOf(ports[0]);
  auto on_second = testing::ClientOf(ports[1]);
  const std::string repo = "faults/app";

  SECTION("pushes while Redis restarts: every acknowledged one is read through both") {
    std::mutex mu;
    std::vector<Image> acknowledged;
    std::map<std::string, int> failures;  // what failed pushes answered, and how often
    std::atomic<bool> stop{false};
    auto pusher = [&](uint16_t port, const std::string& name) {
      auto client = testing::ClientOf(port);
      for (int i = 0; i < 60 && !stop.load(); ++i) {
        const std::string tag = name + "-" + std::to_string(i);
        const std::string layer = UniqueBytes("layer of " + tag, 1024);
        try {
          Image image{repo, tag, testing::PushImage(*client, repo, tag, layer), {}};
          image.blobs[testing::Sha256(layer)] = layer;
          std::lock_guard lock(mu);
          acknowledged.push_back(std::move(image));
        } catch (const std::exception& e) {
          std::string what = e.what();
          const size_t code = what.find("\"code\":\"");
          if (code != std::string::npos)
            what = what.substr(code + 8, what.find('"', code + 8) - code - 8);
          std::lock_guard lock(mu);
          ++failures[what];
        }
      }
    };
    std::vector<std::thread> pushers;
    pushers.emplace_back(pusher, ports[0], "r1a");
    pushers.emplace_back(pusher, ports[0], "r1b");
    pushers.emplace_back(pusher, ports[1], "r2a");
    pushers.emplace_back(pusher, ports[1], "r2b");
    for (int restart = 0; restart < 3; ++restart) {
      std::this_thread::sleep_for(milliseconds(700));
      redis.Restart();
    }
    std::this_thread::sleep_for(milliseconds(500));
    stop = true;
    for (std::thread& thread : pushers) thread.join();
    int failed = 0;
    for (const auto& [what, count] : failures) {
      std::fprintf(stderr, "  push failed during Redis restarts (%d times): %s\n", count,
                   what.c_str());
      failed += count;
      // Only "could not be announced" failures: 503.
      CHECK(what == "UNAVAILABLE");
    }
    std::fprintf(stderr, "pushes during 3 Redis restarts: %zu acknowledged, %d failed\n",
                 acknowledged.size(), failed);
    REQUIRE(acknowledged.size() >= 8);
    for (httplib::Client* client : {on_first.get(), on_second.get()}) {
      auto list = client->Get("/v2/" + repo + "/tags/list?n=1000");
      REQUIRE(list);
      REQUIRE(list->status == 200);
      for (const Image& image : acknowledged) {
        CHECK(list->body.find("\"" + image.tag + "\"") != std::string::npos);
        CheckComplete(*client, image);
      }
    }
  }

  SECTION(
      "Redis gone: reads answer, writes are refused with 503; back: writes work, seen "
      "everywhere") {
    const std::string layer = UniqueBytes("layer before", 1024);
    Image before{repo, "before", testing::PushImage(*on_first, repo, "before", layer), {}};
    before.blobs[testing::Sha256(layer)] = layer;
    // Both replicas have read it (and hold the index).
    CheckComplete(*on_first, before);
    CheckComplete(*on_second, before);
    auto manifest = on_first->Get("/v2/" + repo + "/manifests/before");
    REQUIRE(manifest);
    REQUIRE(manifest->status == 200);

    redis.Stop();
    const auto stopped_at = steady_clock::now();
    while (Since(stopped_at) < milliseconds(1500)) {  // past every refresh interval
      for (httplib::Client* client : {on_first.get(), on_second.get()}) {
        CheckReadsWork(*client, before);
        // A blob upload and a tag push are refused.
        const std::string bytes = UniqueBytes("refused", 300);
        auto blob = client->Post("/v2/" + repo + "/blobs/uploads/?digest=" + testing::Sha256(bytes),
                                 bytes, testing::kOctet);
        REQUIRE(blob);
        CHECK(blob->status == 503);
        CHECK(ErrorCodeOf(blob) == "UNAVAILABLE");
        auto tag = client->Put("/v2/" + repo + "/manifests/during", manifest->body,
                               testing::kOciManifestType);
        REQUIRE(tag);
        CHECK(tag->status == 503);
        CHECK(ErrorCodeOf(tag) == "UNAVAILABLE");
      }
      std::this_thread::sleep_for(milliseconds(250));
    }
    // Each replica said why in its log.
    for (ServeProcess* replica : {&first, &second}) {
      const std::string log = replica->log();
      INFO(log);
      CHECK(log.find("UNAVAILABLE: cannot announce") != std::string::npos);
      CHECK(log.find("(redis at redis://127.0.0.1:" + std::to_string(redis.port()) + "/0: ") !=
            std::string::npos);
    }

    redis.Start();
    const auto started_at = steady_clock::now();
    // Without restarting anything: a tag pushed through one is read through the other at once.
    std::optional<std::string> after;
    int refused_after_start = 0;
    while (!after && Since(started_at) < seconds(3)) {
      try {
        after = testing::PushImage(*on_first, repo, "after", "layer after");
      } catch (const std::exception&) {
        ++refused_after_start;
        std::this_thread::sleep_for(milliseconds(50));
      }
    }
    std::fprintf(stderr, "writes worked again %lld ms after Redis started (%d refused before)\n",
                 static_cast<long long>(Since(started_at).count()), refused_after_start);
    REQUIRE(after);
    CHECK(Since(started_at) < seconds(1));
    auto pulled = on_second->Get("/v2/" + repo + "/manifests/after");
    REQUIRE(pulled);
    CHECK(pulled->status == 200);
    CHECK(testing::Sha256(pulled->body) == *after);
    // A tag moved through the second is read through the first at once, within the refresh
    // interval that alone would not show it.
    const std::string moved = testing::PushImage(*on_second, repo, "before", "layer moved");
    pulled = on_first->Get("/v2/" + repo + "/manifests/before");
    REQUIRE(pulled);
    CHECK(pulled->status == 200);
    CHECK(testing::Sha256(pulled->body) == moved);
    for (httplib::Client* client : {on_first.get(), on_second.get()}) {
      auto list = client->Get("/v2/" + repo + "/tags/list");
      REQUIRE(list);
      CHECK(list->body == R"({"name":")" + repo + R"(","tags":["after","before"]})");
    }
  }
}

// A delete that a replica refuses because Redis is gone must leave the manifest where it was, as
// every refused write does: the client was told it failed. The change is announced before the
// index is written, so the refusal comes before anything changed.
TEST_CASE("a delete refused while Redis is gone leaves the manifest in place", "[cluster][redis]") {
  RedisServer redis;
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess replica(dir.path(), ClusterConfig(s3, redis, "replica-1"), "replica-1");
  auto client = testing::ClientOf(testing::ListeningPort(replica));
  const std::string repo = "faults/deleted";
  const std::string by_digest = testing::PushImage(*client, repo, "by-digest", "layer one");
  testing::PushImage(*client, repo, "by-tag", "layer two");

  redis.Stop();
  auto removed = client->Delete("/v2/" + repo + "/manifests/" + by_digest);
  REQUIRE(removed);
  CHECK(removed->status == 503);
  CHECK(ErrorCodeOf(removed) == "UNAVAILABLE");
  auto untagged = client->Delete("/v2/" + repo + "/manifests/by-tag");
  REQUIRE(untagged);
  CHECK(untagged->status == 503);
  CHECK(ErrorCodeOf(untagged) == "UNAVAILABLE");
  for (const std::string& reference : {by_digest, std::string("by-tag")}) {
    INFO(reference);
    auto still = client->Get("/v2/" + repo + "/manifests/" + reference);
    REQUIRE(still);
    CHECK(still->status == 200);
  }
}

}  // namespace
}  // namespace ocireg
