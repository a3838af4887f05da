// SPDX-License-Identifier: Apache-2.0
// Three ocireg-serve replicas on one bucket and prefix, coordinated through one Redis, behind
// HAProxy, as docs/cluster.md runs them: whole processes, each request free to land on any
// replica. Real clients (ocireg-check, skopeo, curl) pass through the balancer; any request
// works on any replica and sees what another replica acknowledged; concurrent tag updates keep
// the last acknowledged write; a replica killed with SIGKILL under load, or the replicas
// restarted one after another with a drain delay, lose nothing a client saw acknowledged and fail
// nothing a retrying client cannot complete.
//
// Each test case starts its own Redis, replicas and HAProxy (about two seconds) on free ports of
// 127.0.0.1; the replicas keep their port across restarts. Worker threads never call Catch2's
// assertions (not thread-safe): they record what they saw, and the test case's thread checks it.
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

namespace ocireg {
namespace {

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
int RunTo(const std::vector<std::string>& argv, const std::filesystem::path& out,
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

bool HaveProgram(const std::string& program) {
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
std::string RandomBytes(size_t size, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string bytes(size, '\0');
  for (size_t at = 0; at < size; at += 8) {
    const uint64_t value = generator();
    std::memcpy(bytes.data() + at, &value, std::min<size_t>(8, size - at));
  }
  return bytes;
}

// A seed no other image of this process has, and that differs between runs.
uint64_t NextSeed() {
  static std::atomic<uint64_t> next{std::random_device{}() * uint64_t{1000003}};
  return next.fetch_add(1);
}

constexpr const char* kConfigBlob = R"({"architecture":"amd64","os":"linux"})";

// An image manifest over config blob kConfigBlob and `layers` (digest, size), unique by `name`
// (an annotation); `extra` goes inside the manifest object.
std::string NamedManifest(const std::vector<std::pair<std::string, size_t>>& layers,
                          const std::string& name, const std::string& extra = "") {
  const std::string config = kConfigBlob;
  return testing::ImageManifest(Sha256(config), config.size(), layers,
                                R"(,"annotations":{"test.name":")" + name + "\"}" + extra);
}

// The test.name annotation of a manifest NamedManifest made, for failure messages.
std::string NameOf(const std::string& manifest) {
  const std::string key = "\"test.name\":\"";
  const size_t at = manifest.find(key);
  if (at == std::string::npos) return "(unnamed)";
  const size_t begin = at + key.size();
  return manifest.substr(begin, manifest.find('"', begin) - begin);
}

std::string DigestHeader(const httplib::Result& result) {
  return result ? result->get_header_value("Docker-Content-Digest") : "";
}

// "METHOD PATH -> STATUS BODY" or the connection error, for failure messages.
std::string Describe(const std::string& request, const httplib::Result& result) {
  if (!result) return request + " -> " + httplib::to_string(result.error());
  return request + " -> " + std::to_string(result->status) + " " + result->body.substr(0, 300);
}

// The upload URL `location` (as a Location header gives it) with `query` appended.
std::string WithQuery(const std::string& location, const std::string& query) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + query;
}

httplib::Result GetManifest(httplib::Client& client, const std::string& repo,
                            const std::string& reference) {
  return client.Get("/v2/" + repo + "/manifests/" + reference, {{"Accept", kManifestAccept}});
}

httplib::Result PutManifest(httplib::Client& client, const std::string& repo,
                            const std::string& reference, const std::string& manifest) {
  return client.Put("/v2/" + repo + "/manifests/" + reference, manifest, testing::kOciManifestType);
}

// The array `member` of JSON object `text` as strings (of each element's `field` when it is
// not empty); nullopt when `text` is not such JSON.
std::optional<std::vector<std::string>> JsonStrings(const std::string& text, const char* member,
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
Attempt Expect(const httplib::Result& result, int expected, const std::string& request) {
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
Attempt PushMonolithic(httplib::Client& client, const std::string& repo, const std::string& bytes) {
  const std::string path = "/v2/" + repo + "/blobs/uploads/?digest=" + Sha256(bytes);
  return Expect(client.Post(path, bytes, kOctet), 201, "POST " + path);
}

// Pushes blob `bytes` to `repo` in a session: POST, a PATCH per `chunk` bytes, a closing PUT.
Attempt PushChunked(httplib::Client& client, const std::string& repo, const std::string& bytes,
                    size_t chunk) {
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
bool WithRetries(Load& load, const std::string& what, const std::function<Attempt()>& attempt) {
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
void PushWithRetries(httplib::Client& client, Load& load, const std::string& repo,
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
void PullWithRetries(httplib::Client& client, Load& load, const Image& image) {
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
void RunLoad(uint16_t port, Load& load, int thread, int pushes, bool large) {
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
void CheckServes(Replica& replica, const Image& image) {
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
void CheckNothingHalfVisible(Replica& replica, Load& load) {
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

// ---- 1. Real clients through the balancer --------------------------------------------------

// Writes a three-layer OCI image layout to `layout`, tagged v1 (gzipped tars of random files,
// as tests/interop builds them); scratch files go to `work`.
void WriteOciLayout(const std::filesystem::path& layout, const std::filesystem::path& work) {
  static constexpr const char* kScript = R"sh(
set -euo pipefail
layout=$0 work=$1
mkdir -p "$layout/blobs/sha256" "$work"
add_blob() {  # FILE MEDIATYPE -> descriptor
  local digest size
  digest=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  cp "$1" "$layout/blobs/sha256/$digest"
  jq -cn --arg t "$2" --arg d "sha256:$digest" --argjson s "$size" '{mediaType: $t, digest: $d, size: $s}'
}
layers=() diff_ids=()
for i in 1 2 3; do
  mkdir -p "$work/rootfs$i/etc"
  echo "layer $i" >"$work/rootfs$i/etc/file$i"
  head -c $((40000 * i)) /dev/urandom >"$work/rootfs$i/etc/random$i"
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/rootfs$i" -cf "$work/layer$i.tar" .
  diff_ids+=("sha256:$(sha256sum "$work/layer$i.tar" | cut -d' ' -f1)")
  gzip -n -c "$work/layer$i.tar" >"$work/layer$i.tar.gz"
  layers+=("$(add_blob "$work/layer$i.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
done
jq -cn '{architecture: "amd64", os: "linux", rootfs: {type: "layers", diff_ids: $ARGS.positional},
        config: {Cmd: ["/bin/true"]}}' --args "${diff_ids[@]}" >"$work/config.json"
config=$(add_blob "$work/config.json" application/vnd.oci.image.config.v1+json)
printf '%s\n' "${layers[@]}" | jq -cs --argjson c "$config" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: .}' \
  >"$work/manifest.json"
manifest=$(add_blob "$work/manifest.json" application/vnd.oci.image.manifest.v1+json)
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
jq -cn --argjson d "$manifest" \
  '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' \
  >"$layout/index.json"
)sh";
  testing::RunCommand({"bash", "-c", kScript, layout.string(), work.string()},
                      work.parent_path() / "layout.log");
}

// The files of `layout`'s blobs/sha256, by name.
std::map<std::string, std::string> LayoutBlobs(const std::filesystem::path& layout) {
  std::map<std::string, std::string> blobs;
  for (const auto& entry : std::filesystem::directory_iterator(layout / "blobs" / "sha256")) {
    blobs[entry.path().filename().string()] = testing::ReadTextFile(entry.path());
  }
  return blobs;
}

// What curl answered: its status code and headers (from curl -D).
struct CurlAnswer {
  int status = 0;
  std::string headers;
  std::string body;
  std::string Header(const std::string& name) const {
    std::string lower = headers;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    std::string key = name;
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    const size_t at = lower.find("\n" + key + ":");
    if (at == std::string::npos) return "";
    size_t begin = at + key.size() + 2;
    while (begin < headers.size() && headers[begin] == ' ') ++begin;
    const size_t end = headers.find_first_of("\r\n", begin);
    return headers.substr(begin, end - begin);
  }
};

// Runs curl with `args` (a request) and returns what it answered.
CurlAnswer Curl(const std::filesystem::path& dir, const std::vector<std::string>& args) {
  const std::filesystem::path headers = dir / "curl.headers";
  const std::filesystem::path out = dir / "curl.out";
  std::vector<std::string> argv = {"curl",       "-sS",
                                   "--max-time", "60",
                                   "-D",         headers.string(),
                                   "-o",         (dir / "curl.body").string(),
                                   "-w",         "%{http_code}"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::filesystem::remove(headers);
  std::filesystem::remove(dir / "curl.body");
  const int exit_code = RunTo(argv, out, dir / "curl.err", seconds(70));
  INFO("curl: " << testing::ReadTextFile(dir / "curl.err"));
  REQUIRE(exit_code == 0);
  CurlAnswer answer;
  answer.status = std::atoi(testing::ReadTextFile(out).c_str());
  answer.headers = "\n" + testing::ReadTextFile(headers);
  answer.body = testing::ReadTextFile(dir / "curl.body");
  return answer;
}

// How many access log lines of each replica's latest start hold `needle`.
std::vector<size_t> CountInLogs(Cluster& cluster, const std::string& needle) {
  std::vector<size_t> counts;
  for (size_t i = 0; i < kReplicas; ++i) {
    const std::string text = cluster.replica(i).current_log_text();
    size_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++count;
    }
    counts.push_back(count);
  }
  return counts;
}

// The replica whose access log gained a line holding `needle` since `before` (the counts of
// CountInLogs); waits up to 5 s for the line, which is written as the request ends.
size_t ServedBy(Cluster& cluster, const std::string& needle, const std::vector<size_t>& before) {
  const auto deadline = steady_clock::now() + seconds(5);
  while (true) {
    const std::vector<size_t> now = CountInLogs(cluster, needle);
    for (size_t i = 0; i < kReplicas; ++i) {
      if (now[i] > before[i]) return i;
    }
    if (steady_clock::now() > deadline) FAIL("no replica logged " << needle);
    std::this_thread::sleep_for(milliseconds(20));
  }
}

TEST_CASE("through HAProxy, ocireg-check, skopeo and chunked curl pushes work over three replicas",
          "[cluster][balancer]") {
  Cluster cluster;
  const std::string registry = cluster.balancer().url();

  SECTION("ocireg-check passes every check, all categories") {
    const std::filesystem::path list = cluster.dir() / "check-list.txt";
    REQUIRE(RunTo({OCIREG_CHECK, "--list"}, list, cluster.dir() / "check-list.err", seconds(10)) ==
            0);
    size_t known = 0;
    for (char c : testing::ReadTextFile(list)) known += c == '\n' ? 1 : 0;
    REQUIRE(known > 40);

    const std::filesystem::path report = cluster.dir() / "check.json";
    const int exit_code = RunTo({OCIREG_CHECK, "-H", "127.0.0.1", "-P",
                                 std::to_string(cluster.balancer().port()), "-V", "all", "--json"},
                                report, cluster.dir() / "check.err", seconds(150));
    const std::string text = testing::ReadTextFile(report);
    rapidjson::Document doc;
    doc.Parse(text.data(), text.size());
    INFO(testing::ReadTextFile(cluster.dir() / "check.err"));
    REQUIRE_FALSE(doc.HasParseError());
    REQUIRE(doc.IsObject());
    size_t passed = 0;
    for (const auto& check : doc["checks"].GetArray()) {
      const std::string status = check["status"].GetString();
      INFO(check["id"].GetString() << ": " << status << ": " << check["reason"].GetString());
      CHECK(status == "PASS");
      passed += status == "PASS" ? 1 : 0;
    }
    CHECK(doc["checks"].GetArray().Size() == known);
    for (const auto& step : doc["cleanup"].GetArray()) {
      INFO("clean-up " << step["what"].GetString() << ": " << step["detail"].GetString());
      CHECK(step["ok"].GetBool());
    }
    CHECK(passed == known);
    CHECK(doc["passed"].GetBool());
    CHECK(exit_code == 0);
  }

  SECTION("skopeo copies a three-layer image in and back out, every byte kept") {
    if (!HaveProgram("skopeo") || !HaveProgram("jq")) {
      WARN("skopeo or jq is not installed: skipped");
      return;
    }
    const std::filesystem::path src = cluster.dir() / "src";
    const std::filesystem::path back = cluster.dir() / "back";
    WriteOciLayout(src, cluster.dir() / "build");
    // skopeo must not read the machine's credentials or policies.
    testing::WriteTextFile(cluster.dir() / "auth.json", "{}");
    testing::WriteTextFile(cluster.dir() / "policy.json",
                           R"({"default":[{"type":"insecureAcceptAnything"}]})");
    const std::vector<std::string> skopeo = {
        "env", "REGISTRY_AUTH_FILE=" + (cluster.dir() / "auth.json").string(), "skopeo", "--policy",
        (cluster.dir() / "policy.json").string()};
    auto run = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = skopeo;
      argv.insert(argv.end(), args.begin(), args.end());
      const int exit_code =
          RunTo(argv, cluster.dir() / "skopeo.out", cluster.dir() / "skopeo.err", seconds(120));
      INFO(testing::ReadTextFile(cluster.dir() / "skopeo.err"));
      REQUIRE(exit_code == 0);
      return testing::ReadTextFile(cluster.dir() / "skopeo.out");
    };
    run({"copy", "-q", "--preserve-digests", "--dest-tls-verify=false",
         "oci:" + src.string() + ":v1", "docker://" + registry + "/bal/skopeo:v1"});
    run({"copy", "-q", "--preserve-digests", "--src-tls-verify=false",
         "docker://" + registry + "/bal/skopeo:v1", "oci:" + back.string() + ":v1"});

    const std::map<std::string, std::string> sent = LayoutBlobs(src);
    const std::map<std::string, std::string> received = LayoutBlobs(back);
    REQUIRE(sent.size() == 5);  // three layers, the config, the manifest
    CHECK(received == sent);
    // Each replica serves the manifest the layout holds.
    const std::string raw =
        run({"inspect", "--raw", "--tls-verify=false", "docker://" + registry + "/bal/skopeo:v1"});
    const std::string digest = Sha256(raw);
    CHECK(sent.count(digest.substr(std::string("sha256:").size())) == 1);
    for (size_t i = 0; i < kReplicas; ++i) {
      auto client = cluster.replica(i).Client();
      httplib::Result manifest = GetManifest(*client, "bal/skopeo", "v1");
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(manifest->body == raw);
    }
  }

  SECTION("curl pushes a blob in chunks, each request on the next replica in turn") {
    const std::string blob = RandomBytes(300 * 1024, NextSeed());
    const std::string digest = Sha256(blob);
    const std::string base = "http://" + registry;
    const std::string needle = " /v2/bal/chunks/blobs/";
    std::vector<size_t> served;  // the replica of each request

    std::vector<size_t> before = CountInLogs(cluster, needle);
    CurlAnswer answer = Curl(cluster.dir(), {"-X", "POST", base + "/v2/bal/chunks/blobs/uploads/"});
    REQUIRE(answer.status == 202);
    served.push_back(ServedBy(cluster, needle, before));
    std::string location = answer.Header("Location");
    REQUIRE(!location.empty());

    constexpr size_t kChunk = 100 * 1024;
    for (size_t at = 0; at < blob.size(); at += kChunk) {
      const std::filesystem::path chunk = cluster.dir() / "chunk";
      testing::WriteTextFile(chunk, blob.substr(at, kChunk));
      before = CountInLogs(cluster, needle);
      answer = Curl(cluster.dir(),
                    {"-X", "PATCH", "--data-binary", "@" + chunk.string(), "-H",
                     "Content-Type: application/octet-stream", "-H",
                     "Content-Range: " + std::to_string(at) + "-" + std::to_string(at + kChunk - 1),
                     base + location});
      INFO(answer.headers);
      REQUIRE(answer.status == 202);
      CHECK(answer.Header("Range") == "0-" + std::to_string(at + kChunk - 1));
      served.push_back(ServedBy(cluster, needle, before));
      location = answer.Header("Location");
    }
    before = CountInLogs(cluster, needle);
    answer = Curl(cluster.dir(), {"-X", "PUT", "-H", "Content-Length: 0",
                                  base + WithQuery(location, "digest=" + digest)});
    INFO(answer.headers);
    REQUIRE(answer.status == 201);
    served.push_back(ServedBy(cluster, needle, before));
    CHECK(answer.Header("Docker-Content-Digest") == digest);

    // Round robin: every request on another replica than the one before, all three used.
    REQUIRE(served.size() == 5);
    for (size_t i = 1; i < served.size(); ++i) {
      INFO("request " << i);
      CHECK(served[i] == (served[i - 1] + 1) % kReplicas);
    }
    CHECK(std::set<size_t>(served.begin(), served.end()).size() == kReplicas);

    answer = Curl(cluster.dir(), {base + "/v2/bal/chunks/blobs/" + digest});
    CHECK(answer.status == 200);
    CHECK(answer.body == blob);
  }
}

// ---- 2. Any request on any replica ----------------------------------------------------------

TEST_CASE("any request works on any replica and sees what another acknowledged at once",
          "[cluster][balancer]") {
  Cluster cluster;
  auto a = cluster.replica(0).Client();
  auto b = cluster.replica(1).Client();
  auto c = cluster.replica(2).Client();
  httplib::Client* clients[] = {a.get(), b.get(), c.get()};
  const std::string config = kConfigBlob;
  const std::string layer = RandomBytes(10000, NextSeed());
  const std::pair<std::string, size_t> layer_ref{Sha256(layer), layer.size()};

  // An upload: POST on A, PATCH on B, PATCH on A, the closing PUT on C.
  {
    const std::string blob = RandomBytes(3 * 70000, NextSeed());
    const std::string digest = Sha256(blob);
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    std::string location = started->get_header_value("Location");
    httplib::Client* patchers[] = {b.get(), a.get()};
    for (int i = 0; i < 2; ++i) {
      const httplib::Headers range = {
          {"Content-Range", std::to_string(i * 70000) + "-" + std::to_string(i * 70000 + 69999)}};
      httplib::Result patched =
          patchers[i]->Patch(location, range, blob.substr(i * 70000, 70000), kOctet);
      INFO(Describe("PATCH " + location, patched));
      REQUIRE(patched);
      REQUIRE(patched->status == 202);
      CHECK(patched->get_header_value("Range") == "0-" + std::to_string(i * 70000 + 69999));
      location = patched->get_header_value("Location");
    }
    // The last chunk comes with the closing PUT.
    const std::string close = WithQuery(location, "digest=" + digest);
    httplib::Result done = c->Put(close, blob.substr(140000), kOctet);
    INFO(Describe("PUT " + close, done));
    REQUIRE(done);
    REQUIRE(done->status == 201);
    CHECK(DigestHeader(done) == digest);
    for (httplib::Client* client : clients) {
      httplib::Result pulled = client->Get("/v2/any/app/blobs/" + digest);
      REQUIRE(pulled);
      CHECK(pulled->status == 200);
      CHECK(pulled->body == blob);
    }
  }

  // An upload cancelled through B is over everywhere: also on A, which started it, and on C,
  // which had just answered its status.
  {
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    const std::string location = started->get_header_value("Location");
    httplib::Result status = c->Get(location);
    REQUIRE(status);
    REQUIRE(status->status == 204);
    httplib::Result cancelled = b->Delete(location);
    REQUIRE(cancelled);
    REQUIRE(cancelled->status == 204);
    for (size_t i = 0; i < kReplicas; ++i) {
      INFO("GET " << location << " on r" << i << " after its DELETE on r1");
      status = clients[i]->Get(location);
      REQUIRE(status);
      CHECK(status->status == 404);
      CHECK(status->body.find("BLOB_UPLOAD_UNKNOWN") != std::string::npos);
    }
    const std::string chunk = "after the cancel";
    httplib::Result patched = a->Patch(
        location, {{"Content-Range", "0-" + std::to_string(chunk.size() - 1)}}, chunk, kOctet);
    REQUIRE(patched);
    INFO(Describe("PATCH " + location + " on r0 after its DELETE on r1", patched));
    CHECK(patched->status == 404);
  }

  // An upload finished through B is over on A, which started it and sent its chunk.
  {
    const std::string blob = "a blob finished elsewhere";
    httplib::Result started = a->Post("/v2/any/app/blobs/uploads/", "", kOctet);
    REQUIRE(started);
    REQUIRE(started->status == 202);
    httplib::Result patched =
        a->Patch(started->get_header_value("Location"),
                 {{"Content-Range", "0-" + std::to_string(blob.size() - 1)}}, blob, kOctet);
    REQUIRE(patched);
    REQUIRE(patched->status == 202);
    const std::string location = patched->get_header_value("Location");
    httplib::Result done = b->Put(WithQuery(location, "digest=" + Sha256(blob)), "", kOctet);
    REQUIRE(done);
    REQUIRE(done->status == 201);
    for (size_t i = 0; i < kReplicas; ++i) {
      INFO("GET " << location << " on r" << i << " after its PUT on r1");
      httplib::Result status = clients[i]->Get(location);
      REQUIRE(status);
      CHECK(status->status == 404);
    }
  }

  testing::PushBlob(*a, "any/app", config);
  testing::PushBlob(*a, "any/app", layer);

  // A tag moved 20 times, each time through another replica, is read through the other two on
  // the very next request.
  for (int i = 0; i < 20; ++i) {
    const std::string manifest = NamedManifest({layer_ref}, "move-" + std::to_string(i));
    const std::string digest = Sha256(manifest);
    httplib::Client& writer = *clients[i % kReplicas];
    httplib::Result put = PutManifest(writer, "any/app", "moving", manifest);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    for (size_t r = 1; r < kReplicas; ++r) {
      const size_t reader = (i + r) % kReplicas;
      INFO("move " << i << " through " << i % kReplicas << ", read through " << reader);
      httplib::Result got = GetManifest(*clients[reader], "any/app", "moving");
      REQUIRE(got);
      CHECK(got->status == 200);
      CHECK(Sha256(got->body) == digest);
      httplib::Result head =
          clients[reader]->Head("/v2/any/app/manifests/moving", {{"Accept", kManifestAccept}});
      REQUIRE(head);
      CHECK(DigestHeader(head) == digest);
    }
  }

  // A manifest deleted through B is gone on A and C at once, though both had just served it.
  {
    const std::string manifest = NamedManifest({layer_ref}, "doomed");
    const std::string digest = Sha256(manifest);
    httplib::Result put = PutManifest(*b, "any/app", "doomed", manifest);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    for (httplib::Client* client : {a.get(), c.get()}) {
      httplib::Result got = GetManifest(*client, "any/app", digest);
      REQUIRE(got);
      REQUIRE(got->status == 200);
      got = GetManifest(*client, "any/app", "doomed");
      REQUIRE(got);
      REQUIRE(got->status == 200);
    }
    httplib::Result deleted = b->Delete("/v2/any/app/manifests/" + digest);
    REQUIRE(deleted);
    REQUIRE(deleted->status == 202);
    httplib::Result tag_on_b = GetManifest(*b, "any/app", "doomed");
    REQUIRE(tag_on_b);
    for (httplib::Client* client : {a.get(), c.get()}) {
      httplib::Result got = GetManifest(*client, "any/app", digest);
      REQUIRE(got);
      CHECK(got->status == 404);
      CHECK(got->body.find("MANIFEST_UNKNOWN") != std::string::npos);
      httplib::Result head =
          client->Head("/v2/any/app/manifests/" + digest, {{"Accept", kManifestAccept}});
      REQUIRE(head);
      CHECK(head->status == 404);
      // The tag that named it says the same on every replica.
      got = GetManifest(*client, "any/app", "doomed");
      REQUIRE(got);
      CHECK(got->status == tag_on_b->status);
    }
    CHECK(tag_on_b->status == 404);
  }

  // A repository pushed through C is in A's catalog at once, though A had just listed it.
  {
    httplib::Result catalog = a->Get("/v2/_catalog?n=1000");
    REQUIRE(catalog);
    REQUIRE(catalog->status == 200);
    std::optional<std::vector<std::string>> names = JsonStrings(catalog->body, "repositories");
    REQUIRE(names);
    CHECK(std::count(names->begin(), names->end(), "any/app") == 1);
    CHECK(std::count(names->begin(), names->end(), "any/newcomer") == 0);
    testing::PushImage(*c, "any/newcomer", "v1", layer);
    catalog = a->Get("/v2/_catalog?n=1000");
    REQUIRE(catalog);
    REQUIRE(catalog->status == 200);
    names = JsonStrings(catalog->body, "repositories");
    REQUIRE(names);
    CHECK(std::count(names->begin(), names->end(), "any/newcomer") == 1);
    httplib::Result tags = a->Get("/v2/any/newcomer/tags/list");
    REQUIRE(tags);
    CHECK(tags->status == 200);
    CHECK(JsonStrings(tags->body, "tags") == std::vector<std::string>{"v1"});
  }

  // Referrers of a subject pushed through A are listed by B at once, though B had just listed
  // none.
  {
    const std::string subject = NamedManifest({layer_ref}, "subject");
    const std::string subject_digest = Sha256(subject);
    httplib::Result put = PutManifest(*a, "any/app", subject_digest, subject);
    REQUIRE(put);
    REQUIRE(put->status == 201);
    const std::string path = "/v2/any/app/referrers/" + subject_digest;
    httplib::Result listed = b->Get(path);
    REQUIRE(listed);
    REQUIRE(listed->status == 200);
    CHECK(JsonStrings(listed->body, "manifests", "digest") == std::vector<std::string>{});

    const std::string referrer = NamedManifest(
        {layer_ref}, "signature",
        R"(,"artifactType":"application/vnd.example.signature","subject":{"mediaType":")" +
            std::string(testing::kOciManifestType) + R"(","digest":")" + subject_digest +
            R"(","size":)" + std::to_string(subject.size()) + "}");
    const std::string referrer_digest = Sha256(referrer);
    put = PutManifest(*a, "any/app", referrer_digest, referrer);
    REQUIRE(put);
    INFO(put->body);
    REQUIRE(put->status == 201);
    for (httplib::Client* client : {b.get(), c.get()}) {
      listed = client->Get(path);
      REQUIRE(listed);
      CHECK(listed->status == 200);
      CHECK(JsonStrings(listed->body, "manifests", "digest") ==
            std::vector<std::string>{referrer_digest});
    }
  }
}

// ---- 3. Concurrent tag updates ------------------------------------------------------------

// One acknowledged manifest PUT under a tag: when it was sent and when its 201 came.
struct TagWrite {
  std::string tag;
  std::string digest;
  steady_clock::time_point sent;
  steady_clock::time_point acknowledged;
};

// What the writers and the reader of a tag test recorded.
struct TagRun {
  std::mutex mu;
  std::vector<TagWrite> writes;       // acknowledged
  std::set<std::string> sent;         // every digest PUT, before it was sent
  std::vector<std::string> failures;  // of writers and of the reader
  std::atomic<bool> writing{true};
  std::atomic<int> listings{0};  // tag lists the reader checked
  std::atomic<int> resolved{0};  // tags it resolved

  void Failure(const std::string& problem) {
    std::lock_guard lock(mu);
    failures.push_back(problem);
  }
};

// PUTs `manifest` under `tag` of `repo` through `client` and records it.
void WriteTag(httplib::Client& client, TagRun& run, const std::string& repo, const std::string& tag,
              const std::string& manifest) {
  const std::string digest = Sha256(manifest);
  {
    std::lock_guard lock(run.mu);
    run.sent.insert(digest);
  }
  const auto sent = steady_clock::now();
  httplib::Result put = PutManifest(client, repo, tag, manifest);
  const auto acknowledged = steady_clock::now();
  if (!put || put->status != 201) {
    run.Failure(Describe("PUT " + repo + ":" + tag, put));
    return;
  }
  if (DigestHeader(put) != digest)
    run.Failure("PUT " + tag + " answered digest " + DigestHeader(put));
  std::lock_guard lock(run.mu);
  run.writes.push_back({tag, digest, sent, acknowledged});
}

// While run.writing: lists the tags of `repo` on each replica in turn; every answer must be JSON
// and every tag in it must resolve, on that replica, to a manifest somebody PUT.
void ReadTagsWhileWriting(Cluster& cluster, TagRun& run, const std::string& repo) {
  std::vector<std::unique_ptr<httplib::Client>> clients;
  for (size_t i = 0; i < kReplicas; ++i) clients.push_back(cluster.replica(i).Client());
  for (size_t turn = 0; run.writing; ++turn) {
    httplib::Client& client = *clients[turn % kReplicas];
    const std::string on = " on r" + std::to_string(turn % kReplicas);
    httplib::Result list = client.Get("/v2/" + repo + "/tags/list");
    if (!list || (list->status != 200 && list->status != 404)) {
      run.Failure(Describe("GET tags/list" + on, list));
      continue;
    }
    if (list->status == 404) continue;  // before the first push
    const std::optional<std::vector<std::string>> tags = JsonStrings(list->body, "tags");
    if (!tags) {
      run.Failure("tags/list" + on + " is not a tag list: " + list->body);
      continue;
    }
    for (const std::string& tag : *tags) {
      httplib::Result manifest = GetManifest(client, repo, tag);
      if (!manifest || manifest->status != 200) {
        run.Failure("tag " + tag + " listed but not served" + on + ": " +
                    Describe("GET", manifest));
        continue;
      }
      std::lock_guard lock(run.mu);
      if (run.sent.count(Sha256(manifest->body)) == 0) {
        run.failures.push_back("tag " + tag + on + " names a manifest nobody pushed");
      }
      ++run.resolved;
    }
    ++run.listings;
  }
}

// After a tag run: every acknowledged manifest is served by digest on every replica, and every
// tag on every replica names one acknowledged under it. The digest each replica gives each tag.
std::map<std::string, std::set<std::string>> CheckTagsAfterRun(
    Cluster& cluster, TagRun& run, const std::string& repo, const std::vector<std::string>& tags) {
  std::map<std::string, std::set<std::string>> acknowledged;  // tag -> digests
  for (const TagWrite& write : run.writes) acknowledged[write.tag].insert(write.digest);
  std::map<std::string, std::set<std::string>> final_digests;
  for (size_t i = 0; i < kReplicas; ++i) {
    auto client = cluster.replica(i).Client();
    INFO("on r" << i);
    for (const TagWrite& write : run.writes) {
      httplib::Result manifest = GetManifest(*client, repo, write.digest);
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(Sha256(manifest->body) == write.digest);
    }
    httplib::Result list = client->Get("/v2/" + repo + "/tags/list");
    REQUIRE(list);
    REQUIRE(list->status == 200);
    std::optional<std::vector<std::string>> listed = JsonStrings(list->body, "tags");
    REQUIRE(listed);
    std::sort(listed->begin(), listed->end());
    CHECK(*listed == tags);
    for (const std::string& tag : tags) {
      httplib::Result manifest = GetManifest(*client, repo, tag);
      REQUIRE(manifest);
      REQUIRE(manifest->status == 200);
      const std::string digest = Sha256(manifest->body);
      INFO("tag " << tag);
      CHECK(acknowledged[tag].count(digest) == 1);
      final_digests[tag].insert(digest);
    }
  }
  for (const auto& [tag, digests] : final_digests) {
    INFO("tag " << tag << " on every replica");
    CHECK(digests.size() == 1);
  }
  return final_digests;
}

TEST_CASE("concurrent tag updates through every replica keep the last acknowledged write",
          "[cluster][balancer]") {
  Cluster cluster;
  const std::string repo = "tags/app";
  const std::vector<std::string> tags = {"one", "three", "two"};  // sorted
  const std::string layer = RandomBytes(5000, NextSeed());
  {
    auto client = cluster.replica(0).Client();
    testing::PushBlob(*client, repo, kConfigBlob);
    testing::PushBlob(*client, repo, layer);
  }
  const std::pair<std::string, size_t> layer_ref{Sha256(layer), layer.size()};
  TagRun run;
  ThreadGroup reader([&run] { run.writing = false; });
  reader.Add(ReadTagsWhileWriting, std::ref(cluster), std::ref(run), repo);

  SECTION("6 writers x 15 pushes over 3 tags, all at once") {
    constexpr int kWriters = 6;
    constexpr int kPushes = 15;
    ThreadGroup writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.Add([&, w] {
        auto client = cluster.replica(w % kReplicas).Client();
        std::mt19937 random(static_cast<unsigned>(NextSeed()));
        for (int i = 0; i < kPushes; ++i) {
          const std::string tag = tags[random() % tags.size()];
          WriteTag(*client, run, repo, tag,
                   NamedManifest({layer_ref}, "w" + std::to_string(w) + "-" + std::to_string(i)));
        }
      });
    }
    writers.Join();
    run.writing = false;
    reader.Join();
    for (const std::string& failure : run.failures) UNSCOPED_INFO(failure);
    CHECK(run.failures.empty());
    REQUIRE(run.writes.size() == kWriters * kPushes);

    const auto final_digests = CheckTagsAfterRun(cluster, run, repo, tags);
    // Linearizable: the tag cannot keep a write that was acknowledged before another write to
    // it was even sent.
    for (const auto& [tag, digests] : final_digests) {
      const std::string& kept = *digests.begin();
      const auto it = std::find_if(run.writes.begin(), run.writes.end(),
                                   [&](const TagWrite& w) { return w.digest == kept; });
      REQUIRE(it != run.writes.end());
      for (const TagWrite& later : run.writes) {
        if (later.tag != tag || later.digest == kept) continue;
        INFO("tag " << tag << " kept a write acknowledged before another was sent");
        CHECK(later.sent < it->acknowledged);
      }
    }
  }

  SECTION("3 tags written one write at a time each, round robin over the replicas") {
    constexpr int kPushes = 15;
    std::mutex mu;
    std::vector<std::string> stale_reads;
    ThreadGroup writers;
    for (size_t t = 0; t < tags.size(); ++t) {
      writers.Add([&, t] {
        std::vector<std::unique_ptr<httplib::Client>> clients;
        for (size_t i = 0; i < kReplicas; ++i) clients.push_back(cluster.replica(i).Client());
        for (int i = 0; i < kPushes; ++i) {
          const std::string manifest =
              NamedManifest({layer_ref}, tags[t] + "-" + std::to_string(i));
          WriteTag(*clients[(t + i) % kReplicas], run, repo, tags[t], manifest);
          // The next replica in turn serves it on its next request.
          httplib::Result got = GetManifest(*clients[(t + i + 1) % kReplicas], repo, tags[t]);
          if (!got || Sha256(got->body) != Sha256(manifest)) {
            std::lock_guard lock(mu);
            stale_reads.push_back(
                tags[t] + " written through r" + std::to_string((t + i) % kReplicas) +
                ", read through r" + std::to_string((t + i + 1) % kReplicas) + ": wrote " +
                NameOf(manifest) + ", got " +
                (got && got->status == 200 ? NameOf(got->body) : Describe("GET", got)));
          }
        }
      });
    }
    writers.Join();
    run.writing = false;
    reader.Join();
    for (const std::string& failure : run.failures) UNSCOPED_INFO(failure);
    CHECK(run.failures.empty());
    for (const std::string& stale : stale_reads) UNSCOPED_INFO(stale);
    CHECK(stale_reads.empty());
    REQUIRE(run.writes.size() == tags.size() * kPushes);

    const auto final_digests = CheckTagsAfterRun(cluster, run, repo, tags);
    // The writes to one tag were sequential: the last acknowledged one wins, exactly.
    for (const std::string& tag : tags) {
      const TagWrite* last = nullptr;
      for (const TagWrite& write : run.writes) {
        if (write.tag == tag && (last == nullptr || write.acknowledged > last->acknowledged)) {
          last = &write;
        }
      }
      REQUIRE(last != nullptr);
      INFO("tag " << tag);
      CHECK(final_digests.at(tag) == std::set<std::string>{last->digest});
    }
  }
  INFO("the reader checked " << run.listings << " tag lists, resolving " << run.resolved
                             << " tags");
  CHECK(run.listings > 5);
}

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
