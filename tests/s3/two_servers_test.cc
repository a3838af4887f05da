// SPDX-License-Identifier: Apache-2.0
// Two ocireg-serve processes on one bucket and prefix, as replicas of one registry run: tags
// pushed into one repository through both at the same time are all kept and seen by both, what
// one pushes the other serves, and an upload session begun on one is finished on the other.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "catch.h"
#include "serve_process.h"
#include "serve_s3.h"
#include "temp_dir.h"
#include "test_server.h"
#include "upload_steps.h"

namespace ocireg {
namespace {

using testing::ServeProcess;

constexpr int kClientsPerServer = 3;
constexpr int kTagsPerClient = 8;
constexpr const char* kRepo = "shared/app";

struct Pushes {
  std::mutex mu;
  std::map<std::string, std::string> acknowledged;  // tag -> manifest digest
  std::vector<std::string> failures;
};

// Pushes kTagsPerClient images, each with a layer and tag of its own, to the server on `port`.
void PushTags(uint16_t port, const std::string& name, Pushes& pushes) {
  auto client = testing::ClientOf(port);
  for (int i = 0; i < kTagsPerClient; ++i) {
    const std::string tag = name + "-" + std::to_string(i);
    try {
      const std::string digest = testing::PushImage(*client, kRepo, tag, "layer of " + tag);
      std::lock_guard lock(pushes.mu);
      pushes.acknowledged[tag] = digest;
    } catch (const std::exception& e) {
      std::lock_guard lock(pushes.mu);
      pushes.failures.push_back(tag + ": " + e.what());
    }
  }
}

TEST_CASE("two ocireg-serve processes on one bucket keep every tag either acknowledged", "[s3]") {
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess first(dir.path(), testing::S3ServeConfig(s3), "first");
  ServeProcess second(dir.path(), testing::S3ServeConfig(s3), "second");
  const uint16_t ports[] = {testing::ListeningPort(first), testing::ListeningPort(second)};

  Pushes pushes;
  std::vector<std::thread> clients;
  for (int server = 0; server < 2; ++server) {
    for (int c = 0; c < kClientsPerServer; ++c) {
      const std::string name = "s" + std::to_string(server) + "c" + std::to_string(c);
      clients.emplace_back(PushTags, ports[server], name, std::ref(pushes));
    }
  }
  for (std::thread& client : clients) client.join();
  for (const std::string& failure : pushes.failures) UNSCOPED_INFO(failure);
  CHECK(pushes.failures.empty());
  REQUIRE(!pushes.acknowledged.empty());

  // A third process, which has read nothing yet, and the two that pushed, once their view of
  // the repository is older than the refresh interval on a shared bucket (1 s), all read every
  // acknowledged tag from the bucket.
  ServeProcess reader(dir.path(), testing::S3ServeConfig(s3), "reader");
  const uint16_t reader_port = testing::ListeningPort(reader);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (const uint16_t port : {reader_port, ports[0], ports[1]}) {
    INFO("server on port " << port);
    auto client = testing::ClientOf(port);
    auto list = client->Get(std::string("/v2/") + kRepo + "/tags/list?n=1000");
    REQUIRE(list);
    REQUIRE(list->status == 200);
    for (const auto& [tag, digest] : pushes.acknowledged) {
      INFO(tag);
      CHECK(list->body.find("\"" + tag + "\"") != std::string::npos);
      auto manifest = client->Get(std::string("/v2/") + kRepo + "/manifests/" + tag);
      REQUIRE(manifest);
      CHECK(manifest->status == 200);
      CHECK(testing::Sha256(manifest->body) == digest);
    }
  }
}

TEST_CASE("a repository and tag pushed through one ocireg-serve pull through another", "[s3]") {
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess first(dir.path(), testing::S3ServeConfig(s3), "first");
  ServeProcess second(dir.path(), testing::S3ServeConfig(s3), "second");
  auto on_first = testing::ClientOf(testing::ListeningPort(first));
  auto on_second = testing::ClientOf(testing::ListeningPort(second));

  // The second server has looked at the repository before it existed.
  auto before = on_second->Get("/v2/elsewhere/app/manifests/v1");
  REQUIRE(before);
  CHECK(before->status == 404);
  const std::string v1 = testing::PushImage(*on_first, "elsewhere/app", "v1", "one");
  // A repository it does not know is looked for in the bucket at once.
  auto pulled = on_second->Get("/v2/elsewhere/app/manifests/v1");
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(testing::Sha256(pulled->body) == v1);

  // The tag moves on the first server; the second follows within the refresh interval.
  const std::string v2 = testing::PushImage(*on_first, "elsewhere/app", "v1", "two");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  pulled = on_second->Get("/v2/elsewhere/app/manifests/v1");
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(testing::Sha256(pulled->body) == v2);
}

TEST_CASE("an upload session begun on one ocireg-serve is finished on another on the bucket",
          "[s3]") {
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess first(dir.path(), testing::S3ServeConfig(s3), "first");
  ServeProcess second(dir.path(), testing::S3ServeConfig(s3), "second");
  auto on_first = testing::ClientOf(testing::ListeningPort(first));
  auto on_second = testing::ClientOf(testing::ListeningPort(second));
  // One chunk above S3's smallest part, one below it.
  const std::string head(6 << 20, 'h');
  const std::string tail(1 << 20, 't');
  const std::string digest = testing::Sha256(head + tail);

  const std::string location = testing::StartSession(*on_first, "moved/app");
  auto patched = testing::PatchChunk(*on_first, location, head, 0);
  REQUIRE(patched);
  REQUIRE(patched->status == 202);
  // The second process learns of the session from the bucket alone.
  auto status = on_second->Get(patched->get_header_value("Location"));
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-" + std::to_string(head.size() - 1));
  patched =
      testing::PatchChunk(*on_second, patched->get_header_value("Location"), tail, head.size());
  REQUIRE(patched);
  INFO(patched->body);
  REQUIRE(patched->status == 202);
  auto done = on_second->Put(patched->get_header_value("Location") + "?digest=" + digest, "",
                             testing::kOctet);
  REQUIRE(done);
  INFO(done->body);
  CHECK(done->status == 201);

  auto pulled = on_first->Get("/v2/moved/app/blobs/" + digest);
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(testing::Sha256(pulled->body) == digest);

  // The first process served the session before: it is over for it too, not continued there.
  auto after = on_first->Get(patched->get_header_value("Location"));
  REQUIRE(after);
  CHECK(after->status == 404);
  CHECK(after->body.find("BLOB_UPLOAD_UNKNOWN") != std::string::npos);
}

TEST_CASE("sessions opened on one ocireg-serve and committed on another free their quota places",
          "[s3]") {
  testing::TempDir dir;
  const S3Options s3 = testing::FreshS3Options();
  ServeProcess first(
      dir.path(), testing::S3ServeConfig(s3) + "\n[limits]\nmax_uploads_per_client = 2\n", "first");
  ServeProcess second(dir.path(), testing::S3ServeConfig(s3), "second");
  auto on_first = testing::ClientOf(testing::ListeningPort(first));
  auto on_second = testing::ClientOf(testing::ListeningPort(second));
  // Behind a load balancer every client has the balancer's address: each session this server
  // opens, another closes. Five in a row, with two places.
  for (int i = 0; i < 5; ++i) {
    INFO("session " << i);
    const std::string blob = "blob " + std::to_string(i);
    const std::string location = testing::StartSession(*on_first, "quota/app");
    REQUIRE(!location.empty());
    auto done = on_second->Put(location + (location.find('?') == std::string::npos ? "?" : "&") +
                                   "digest=" + testing::Sha256(blob),
                               blob, testing::kOctet);
    REQUIRE(done);
    INFO(done->body);
    CHECK(done->status == 201);
  }
}

}  // namespace
}  // namespace ocireg
