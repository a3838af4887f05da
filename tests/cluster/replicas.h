// SPDX-License-Identifier: Apache-2.0
// What the tests of replicas behind HAProxy share (tests/cluster/*_replicas_test.cc): three
// ocireg-serve replicas on one bucket and prefix, coordinated through one Redis, behind HAProxy,
// as docs/cluster.md runs them; content to push; clients that retry as real ones do; and the
// checks of what a replica serves.
//
// Each test case starts its own Redis, replicas and HAProxy (about two seconds) on free ports of
// 127.0.0.1; the replicas keep their port across restarts. Worker threads never call Catch2's
// assertions (not thread-safe): they record what they saw, and the test case's thread checks it.
#pragma once

#include <httplib.h>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "catch.h"
#include "haproxy.h"
#include "loopback.h"
#include "process.h"
#include "redis.h"
#include "s3/serve_s3.h"
#include "temp_dir.h"
#include "test_server.h"

#ifndef OCIREG_SERVE
#error "OCIREG_SERVE must name the ocireg-serve executable"
#endif
#ifndef OCIREG_CHECK
#error "OCIREG_CHECK must name the ocireg-check executable"
#endif

namespace ocireg::cluster_test {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::HaproxyBalancer;
using testing::Sha256;

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;
using testing::HaproxyBalancer;
using testing::Sha256;

constexpr size_t kReplicas = 3;
constexpr const char* kOctet = "application/octet-stream";
constexpr const char* kManifestAccept =
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
// A client retries a whole push or pull this many times in all on a 502, 503, 504 or a
// connection error.
constexpr int kMaxAttempts = 6;

// ---- Processes -------------------------------------------------------------------------------

// One replica: ocireg-serve on a port of its own that it keeps across restarts, its
// configuration in dir/NAME.toml and the output of its Nth start in dir/NAME-N.log. Ended by its
// PID (SIGTERM, then SIGKILL) when the object goes. Start it and signal it on the test case's
// thread: the process dies with the thread that started it.
class Replica {
 public:
  using ConfigFor = std::function<std::string(uint16_t port)>;

  Replica(std::filesystem::path dir, std::string name, ConfigFor config)
      : dir_(std::move(dir)), name_(std::move(name)), config_(std::move(config)) {}
  ~Replica() {
    if (pid_ > 0) testing::EndChild(pid_);
  }
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;

  // Starts it on a port that was free; tries another when that one was taken meanwhile.
  void StartOnFreePort() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      if (Start()) return;
    }
    INFO(log());
    FAIL(name_ << " did not start");
  }

  // Starts it (again) on its port; true once it listens, false when it exits first or does not
  // listen within 30 s.
  bool Start() {
    if (pid_ > 0) return true;
    const std::filesystem::path config_file = dir_ / (name_ + ".toml");
    testing::WriteTextFile(config_file, config_(port_));
    ++starts_;
    pid_ = testing::SpawnProcess({OCIREG_SERVE, config_file.string()}, current_log());
    const std::string listening = "listening on 127.0.0.1:" + std::to_string(port_);
    const auto deadline = steady_clock::now() + seconds(30);
    while (steady_clock::now() < deadline) {
      if (testing::ReadTextFile(current_log()).find(listening) != std::string::npos) return true;
      if (testing::WaitForChild(pid_, milliseconds(20))) {
        pid_ = -1;
        return false;
      }
    }
    testing::EndChild(pid_);
    pid_ = -1;
    return false;
  }

  // kill -9, and reaps it.
  void Kill() {
    REQUIRE(pid_ > 0);
    kill(pid_, SIGKILL);
    REQUIRE(testing::WaitForChild(pid_, seconds(10)));
    pid_ = -1;
  }

  // SIGTERM; the exit code once it has exited within `limit` (-1 when a signal ended it), or
  // nullopt when it had not (it is then killed).
  std::optional<int> Terminate(milliseconds limit) {
    if (pid_ <= 0) return std::nullopt;
    kill(pid_, SIGTERM);
    const std::optional<int> status = testing::WaitForChild(pid_, limit);
    if (!status) testing::EndChild(pid_);
    pid_ = -1;
    if (!status) return std::nullopt;
    return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  }

  const std::string& name() const { return name_; }
  uint16_t port() const { return port_; }
  std::unique_ptr<httplib::Client> Client() const { return testing::ClientOf(port_); }
  // The output of the latest start, and of all of them.
  std::string current_log_text() const { return testing::ReadTextFile(current_log()); }
  std::string log() const {
    std::string text;
    for (int i = 1; i <= starts_; ++i) {
      text += "--- " + name_ + " start " + std::to_string(i) + "\n" +
              testing::ReadTextFile(dir_ / (name_ + "-" + std::to_string(i) + ".log"));
    }
    return text;
  }

 private:
  std::filesystem::path current_log() const {
    return dir_ / (name_ + "-" + std::to_string(starts_) + ".log");
  }

  std::filesystem::path dir_;
  std::string name_;
  ConfigFor config_;
  uint16_t port_ = 0;
  int starts_ = 0;
  pid_t pid_ = -1;
};

// A Redis, kReplicas replicas r0, r1, ... on one fresh bucket prefix with it, and HAProxy in
// front of them (its server i is replica i), all up. `limits` are further keys of [limits].
class Cluster {
 public:
  explicit Cluster(const std::string& limits = "") : s3_(testing::FreshS3Options()) {
    for (size_t i = 0; i < kReplicas; ++i) {
      const std::string name = "r" + std::to_string(i);
      auto config = [this, name, limits](uint16_t port) {
        std::string text = testing::S3ServeConfig(s3_);
        const std::string any_port = "port = 0\n";
        text.replace(text.find(any_port), any_port.size(), "port = " + std::to_string(port) + "\n");
        return text + "\n[limits]\nshutdown_timeout = \"20s\"\n" + limits +
               "\n[cluster]\nnode_name = \"" + name + "\"\nredis_url = \"" + redis_.url() + "\"\n";
      };
      replicas_.push_back(std::make_unique<Replica>(dir_.path(), name, config));
      replicas_.back()->StartOnFreePort();
    }
    std::vector<uint16_t> ports;
    for (const auto& replica : replicas_) ports.push_back(replica->port());
    balancer_ = std::make_unique<HaproxyBalancer>(ports);
    INFO(balancer_->log());
    REQUIRE(balancer_->WaitUntilUp(kReplicas, seconds(15)));
  }

  Replica& replica(size_t i) { return *replicas_.at(i); }
  HaproxyBalancer& balancer() { return *balancer_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // Every replica's output and HAProxy's, for failure messages.
  std::string logs() const {
    std::string text;
    for (const auto& replica : replicas_) text += replica->log();
    return text + "--- haproxy\n" + balancer_->log();
  }
  // Waits until HAProxy reports server `i` in `state` ("UP", "DOWN").
  bool WaitForState(size_t i, const std::string& state, milliseconds limit) const {
    const auto deadline = steady_clock::now() + limit;
    while (steady_clock::now() < deadline) {
      if (balancer_->ServerStates().at(i) == state) return true;
      std::this_thread::sleep_for(milliseconds(20));
    }
    return false;
  }

 private:
  testing::TempDir dir_;
  testing::RedisServer redis_;
  S3Options s3_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::unique_ptr<HaproxyBalancer> balancer_;  // after the replicas: goes first
};

// Runs `argv` with its stdout in `out` and its stderr in `err`, at most `limit`; its exit code,
// or -1 when it did not exit in time (it is then ended).
inline int RunTo(const std::vector<std::string>& argv, const std::filesystem::path& out,
                 const std::filesystem::path& err, milliseconds limit) {
  std::vector<std::string> shell = {"bash", "-c", "exec \"$@\" >\"$0\"", out.string()};
  shell.insert(shell.end(), argv.begin(), argv.end());
  const pid_t pid = testing::SpawnProcess(shell, err);
  const std::optional<int> status = testing::WaitForChild(pid, limit);
  if (!status) {
    testing::EndChild(pid);
    return -1;
  }
  return WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

inline bool HaveProgram(const std::string& program) {
  try {
    testing::FindProgram(program);
    return true;
  } catch (const std::runtime_error&) {
    return false;
  }
}

// Threads of a test case, joined when it goes after `stop` has told them to end: also when an
// assertion ends the test case early, which would otherwise destroy a joinable std::thread.
class ThreadGroup {
 public:
  explicit ThreadGroup(std::function<void()> stop = [] {}) : stop_(std::move(stop)) {}
  ~ThreadGroup() {
    stop_();
    Join();
  }
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  template <typename... Args>
  void Add(Args&&... args) {
    threads_.emplace_back(std::forward<Args>(args)...);
  }
  // Waits for every thread to end on its own.
  void Join() {
    for (std::thread& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }

 private:
  std::function<void()> stop_;
  std::vector<std::thread> threads_;
};

// ---- Content ---------------------------------------------------------------------------------

// `size` bytes that differ for every seed.
inline std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (size_t at = 0; at < size; at += 8) {
    const uint64_t value = generator();
    std::memcpy(bytes.data() + at, &value, std::min<size_t>(8, size - at));
  }
  return bytes;
}

// A seed no other image of this process has, and that differs between runs.
inline uint64_t NextSeed() {
  static std::atomic<uint64_t> next{std::random_device{}() * uint64_t{1000003}};
  return next.fetch_add(1);
}

constexpr const char* kConfigBlob = R"({"architecture":"amd64","os":"linux"})";

// An image manifest over config blob kConfigBlob and `layers` (digest, size), unique by `name`
// (an annotation); `extra` goes inside the manifest object.
inline std::string NamedManifest(const std::vector<std::pair<std::string, size_t>>& layers,
                                 const std::string& name, const std::string& extra = "") {
  const std::string config = kConfigBlob;
  return testing::ImageManifest(Sha256(config), config.size(), layers,
                                R"(,"annotations":{"test.name":")" + name + "\"}" + extra);
}

// The test.name annotation of a manifest NamedManifest made, for failure messages.
inline std::string NameOf(const std::string& manifest) {
  const std::string key = "\"test.name\":\"";
  const size_t at = manifest.find(key);
  if (at == std::string::npos) return "(unnamed)";
  const size_t begin = at + key.size();
  return manifest.substr(begin, manifest.find('"', begin) - begin);
}

inline std::string DigestHeader(const httplib::Result& result) {
  return result ? result->get_header_value("Docker-Content-Digest") : "";
}

// "METHOD PATH -> STATUS BODY" or the connection error, for failure messages.
inline std::string Describe(const std::string& request, const httplib::Result& result) {
  if (!result) return request + " -> " + httplib::to_string(result.error());
  return request + " -> " + std::to_string(result->status) + " " + result->body.substr(0, 300);
}

// The upload URL `location` (as a Location header gives it) with `query` appended.
inline std::string WithQuery(const std::string& location, const std::string& query) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

inline httplib::Result GetManifest(httplib::Client& client, const std::string& repo,
                                   const std::string& reference) {
  return client.Get("/v2/" + repo + "/manifests/" + reference, {{"Accept", kManifestAccept}});
}

inline httplib::Result PutManifest(httplib::Client& client, const std::string& repo,
                                   const std::string& reference, const std::string& manifest) {
  return client.Put("/v2/" + repo + "/manifests/" + reference, manifest, testing::kOciManifestType);
}

// The array `member` of JSON object `text` as strings (of each element's `field` when it is
// not empty); nullopt when `text` is not such JSON.
inline std::optional<std::vector<std::string>> JsonStrings(const std::string& text,
                                                           const char* member,
                                                           const char* field = "") {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  std::vector<std::string> values;
  auto array = doc.FindMember(member);
  if (array == doc.MemberEnd()) return values;  // an empty tag list may leave it out
  if (array->value.IsNull()) return values;
  if (!array->value.IsArray()) return std::nullopt;
  for (const auto& element : array->value.GetArray()) {
    const rapidjson::Value* value = &element;
    if (*field != '\0') {
      if (!element.IsObject() || !element.HasMember(field)) return std::nullopt;
      value = &element[field];
    }
    if (!value->IsString()) return std::nullopt;
    values.emplace_back(value->GetString(), value->GetStringLength());
  }
  return values;
}

// ---- Clients that retry, as real ones do ---------------------------------------------------

// What one attempt came to.
struct Attempt {
  bool ok = true;
  bool retryable = false;  // a 502, 503, 504 or a connection error: worth starting again
  std::string problem;
};

// Whether `result` answered `expected`; otherwise what went wrong.
inline Attempt Expect(const httplib::Result& result, int expected, const std::string& request) {
  if (result && result->status == expected) return {};
  const bool retryable =
      !result || result->status == 502 || result->status == 503 || result->status == 504;
  return {false, retryable, Describe(request, result)};
}

// An image of the load tests: a config blob and one layer, tagged.
struct Image {
  std::string repo;
  std::string tag;
  std::string manifest_digest;
  std::vector<std::pair<std::string, size_t>> blobs;  // config, then the layer
};

// Pushes blob `bytes` to `repo` in one POST.
inline Attempt PushMonolithic(httplib::Client& client, const std::string& repo,
                              const std::string& bytes) {
  const std::string path = "/v2/" + repo + "/blobs/uploads/?digest=" + Sha256(bytes);
  return Expect(client.Post(path, bytes, kOctet), 201, "POST " + path);
}

// Pushes blob `bytes` to `repo` in a session: POST, a PATCH per `chunk` bytes, a closing PUT.
inline Attempt PushChunked(httplib::Client& client, const std::string& repo,
                           const std::string& bytes, size_t chunk) {
  const std::string start = "/v2/" + repo + "/blobs/uploads/";
  httplib::Result started = client.Post(start, "", kOctet);
  Attempt attempt = Expect(started, 202, "POST " + start);
  if (!attempt.ok) return attempt;
  std::string location = started->get_header_value("Location");
  for (size_t at = 0; at < bytes.size(); at += chunk) {
    const std::string piece = bytes.substr(at, chunk);
    const httplib::Headers range = {
        {"Content-Range", std::to_string(at) + "-" + std::to_string(at + piece.size() - 1)}};
    httplib::Result patched = client.Patch(location, range, piece, kOctet);
    attempt = Expect(patched, 202, "PATCH " + location);
    if (!attempt.ok) return attempt;
    location = patched->get_header_value("Location");
  }
  const std::string close = WithQuery(location, "digest=" + Sha256(bytes));
  return Expect(client.Put(close, "", kOctet), 201, "PUT " + close);
}

// What the load threads of a test case did and saw.
struct Load {
  std::mutex mu;
  std::vector<Image> acknowledged;      // manifest PUT answered 201
  std::vector<std::string> failures;    // gave up after kMaxAttempts, or not retryable
  std::vector<std::string> raw_errors;  // every failed attempt, retried or not
  std::set<std::pair<std::string, size_t>> attempted_blobs;
  std::set<std::string> attempted_manifests;  // digests, acknowledged or not
  std::atomic<int> pushes{0};                 // acknowledged
  std::atomic<int> pulls{0};                  // verified
  std::atomic<bool> stop{false};

  void Error(const std::string& problem) {
    std::lock_guard lock(mu);
    raw_errors.push_back(problem);
  }
  void Failure(const std::string& problem) {
    std::lock_guard lock(mu);
    failures.push_back(problem);
  }
  std::vector<Image> Snapshot() {
    std::lock_guard lock(mu);
    return acknowledged;
  }
};

// Runs `attempt` until it succeeds, up to kMaxAttempts times while what failed is retryable,
// with a short pause between attempts; records every failed attempt, and the failure when it
// gives up. Whether it succeeded in the end.
inline bool WithRetries(Load& load, const std::string& what,
                        const std::function<Attempt()>& attempt) {
  for (int i = 1;; ++i) {
    const Attempt result = attempt();
    if (result.ok) return true;
    load.Error(what + ": " + result.problem);
    if (!result.retryable || i == kMaxAttempts) {
      load.Failure(what + " (attempt " + std::to_string(i) + "): " + result.problem);
      return false;
    }
    std::this_thread::sleep_for(milliseconds(100 * i));
  }
}

// Pushes an image with a layer of `layer_size` random bytes (monolithic or in 512 KiB chunks)
// under `repo`:`tag` through `client`, starting again from scratch on a retryable failure.
inline void PushWithRetries(httplib::Client& client, Load& load, const std::string& repo,
                            const std::string& tag, size_t layer_size, bool chunked) {
  const std::string config = kConfigBlob;
  const std::string layer = RandomBytes(layer_size, NextSeed());
  Image image{repo, tag, "", {{Sha256(config), config.size()}, {Sha256(layer), layer.size()}}};
  const std::string manifest = NamedManifest({image.blobs[1]}, repo + ":" + tag);
  image.manifest_digest = Sha256(manifest);
  {
    std::lock_guard lock(load.mu);
    load.attempted_blobs.insert(image.blobs.begin(), image.blobs.end());
    load.attempted_manifests.insert(image.manifest_digest);
  }
  const bool pushed = WithRetries(load, "push " + repo + ":" + tag, [&]() -> Attempt {
    Attempt attempt = PushMonolithic(client, repo, config);
    if (!attempt.ok) return attempt;
    attempt = chunked ? PushChunked(client, repo, layer, 512 * 1024)
                      : PushMonolithic(client, repo, layer);
    if (!attempt.ok) return attempt;
    return Expect(PutManifest(client, repo, tag, manifest), 201,
                  "PUT manifest " + repo + ":" + tag);
  });
  if (!pushed) return;
  std::lock_guard lock(load.mu);
  load.acknowledged.push_back(image);
  ++load.pushes;
}

// Pulls `image` (manifest by tag, then each blob) and checks every byte; a wrong byte is a
// failure at once, a retryable failure starts the pull again.
inline void PullWithRetries(httplib::Client& client, Load& load, const Image& image) {
  const bool pulled = WithRetries(load, "pull " + image.repo + ":" + image.tag, [&]() -> Attempt {
    const std::string reference = image.repo + ":" + image.tag;
    httplib::Result manifest = GetManifest(client, image.repo, image.tag);
    Attempt attempt = Expect(manifest, 200, "GET manifest " + reference);
    if (!attempt.ok) return attempt;
    if (Sha256(manifest->body) != image.manifest_digest) {
      return {false, false, "GET manifest " + reference + " gave other bytes"};
    }
    for (const auto& [digest, size] : image.blobs) {
      const std::string path = "/v2/" + image.repo + "/blobs/" + digest;
      httplib::Result blob = client.Get(path);
      attempt = Expect(blob, 200, "GET " + path);
      if (!attempt.ok) return attempt;
      if (blob->body.size() != size || Sha256(blob->body) != digest) {
        return {false, false, "GET " + path + " gave other bytes"};
      }
    }
    return {};
  });
  if (pulled) ++load.pulls;
}

// One load thread: up to `pushes` pushes through the balancer at `port` into a repository of
// its own (layers of 1 to 4 MiB when `large`, else of 4 to 64 KiB; monolithic and chunked in
// turn), each followed by a pull of one of its images, until load.stop. A thread reads only what
// it wrote itself, so that no read meets a write of the same repository under way: what these
// runs check is what killed and restarted replicas do; reads beside writes are the tag tests'.
inline void RunLoad(uint16_t port, Load& load, int thread, int pushes, bool large) {
  auto client = testing::ClientOf(port);
  client->set_connection_timeout(seconds(5));
  std::mt19937 random(static_cast<unsigned>(NextSeed()));
  const std::string repo = "load/t" + std::to_string(thread);
  for (int i = 0; i < pushes && !load.stop; ++i) {
    const size_t size = large ? (size_t{1} << 20) * (1 + random() % 4) - random() % 1000
                              : 4096 + random() % (60 * 1024);
    PushWithRetries(*client, load, repo, "v" + std::to_string(i), size, i % 2 == 1);
    std::vector<Image> mine;
    for (Image& image : load.Snapshot()) {
      if (image.repo == repo) mine.push_back(std::move(image));
    }
    if (!mine.empty()) PullWithRetries(*client, load, mine[random() % mine.size()]);
  }
}

// Checks that replica `replica` serves `image` whole: the manifest by tag and by digest, and
// every blob, byte for byte.
inline void CheckServes(Replica& replica, const Image& image) {
  auto client = replica.Client();
  INFO(replica.name() << " serving " << image.repo << ":" << image.tag);
  for (const std::string& reference : {image.tag, image.manifest_digest}) {
    httplib::Result manifest = GetManifest(*client, image.repo, reference);
    REQUIRE(manifest);
    CHECK(manifest->status == 200);
    CHECK(Sha256(manifest->body) == image.manifest_digest);
  }
  for (const auto& [digest, size] : image.blobs) {
    httplib::Result blob = client->Get("/v2/" + image.repo + "/blobs/" + digest);
    REQUIRE(blob);
    CHECK(blob->status == 200);
    CHECK(blob->body.size() == size);
    CHECK(Sha256(blob->body) == digest);
  }
}

// Whatever of `load`'s content replica `replica` admits to having (HEAD 200) it serves whole:
// nothing is half visible, acknowledged or not.
inline void CheckNothingHalfVisible(Replica& replica, Load& load) {
  auto client = replica.Client();
  std::set<std::string> repos;
  for (const Image& image : load.Snapshot()) repos.insert(image.repo);
  int visible = 0;
  for (const std::string& repo : repos) {
    for (const auto& [digest, size] : load.attempted_blobs) {
      const std::string path = "/v2/" + repo + "/blobs/" + digest;
      httplib::Result head = client->Head(path);
      REQUIRE(head);
      if (head->status == 404) continue;
      INFO(replica.name() << ": HEAD " << path << " then GET");
      REQUIRE(head->status == 200);
      CHECK(head->get_header_value("Content-Length") == std::to_string(size));
      httplib::Result blob = client->Get(path);
      REQUIRE(blob);
      CHECK(blob->status == 200);
      CHECK(Sha256(blob->body) == digest);
      ++visible;
    }
    for (const std::string& digest : load.attempted_manifests) {
      httplib::Result head =
          client->Head("/v2/" + repo + "/manifests/" + digest, {{"Accept", kManifestAccept}});
      REQUIRE(head);
      if (head->status == 404) continue;
      INFO(replica.name() << ": HEAD manifest " << repo << "@" << digest << " then GET");
      REQUIRE(head->status == 200);
      httplib::Result manifest = GetManifest(*client, repo, digest);
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(Sha256(manifest->body) == digest);
      ++visible;
    }
  }
  CHECK(visible > 0);
}

}  // namespace ocireg::cluster_test
