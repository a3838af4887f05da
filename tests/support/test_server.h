// SPDX-License-Identifier: Apache-2.0
// TestServer: a RegistryServer on 127.0.0.1 (ephemeral port) over a fresh temporary directory,
// running on its own thread for the length of a test; plus small client helpers.
#pragma once

#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "ocireg/config.h"
#include "ocireg/digest.h"
#include "ocireg/server.h"
#include "temp_dir.h"

// Only executables built with the S3 test gateway (OCIREG_TEST_RGW_SCRIPTS) can run over S3.
#ifdef OCIREG_TEST_RGW_SCRIPTS
#include "s3_backend.h"
#endif

namespace ocireg::testing {

// True when the servers of this test run keep their data in S3: OCIREG_TEST_STORAGE=s3, as the
// integration-s3 test sets it (tests/integration/meson.build). The storage root is then unused, and
// the few tests that reach into it run on the file system only (tag [fs-root]).
inline bool TestStorageIsS3() {
  const char* storage = getenv("OCIREG_TEST_STORAGE");
  return storage != nullptr && std::string_view(storage) == "s3";
}

// Points the storage of `config` at `root`: that directory, or on S3 (TestStorageIsS3) a prefix of
// the test gateway's bucket that stands for it, the same for the same root, so that a server
// started again over `root` finds its data.
inline void SetTestStorage(Config& config, const std::filesystem::path& root) {
  config.storage.root = root.string();
  if (!TestStorageIsS3()) return;
#ifdef OCIREG_TEST_RGW_SCRIPTS
  config.storage.driver = "s3";
  config.storage.s3 = S3OptionsForRoot(root.string());
#else
  throw std::runtime_error(
      "OCIREG_TEST_STORAGE=s3, but this test executable is built without the S3 test gateway");
#endif
}

// The configuration tests start from: ephemeral port, a small pool, no periodic collection.
inline Config TestConfig(const std::filesystem::path& root) {
  Config config;
  config.listen.address = "127.0.0.1";
  config.listen.port = 0;
  SetTestStorage(config, root);
  config.storage.gc_interval = std::chrono::seconds(0);
  config.limits.max_connections = 16;
  config.limits.keep_alive_timeout = std::chrono::seconds(2);
  config.limits.read_timeout = std::chrono::seconds(10);
  config.limits.write_timeout = std::chrono::seconds(10);
  config.limits.shutdown_timeout = std::chrono::seconds(10);
  return config;
}

class TestServer {
 public:
  using Adjust = std::function<void(Config&, ServerHooks&)>;

  explicit TestServer(const Adjust& adjust = nullptr) : config_(TestConfig(dir_.path() / "data")) {
    ServerHooks hooks;
    hooks.access_log = [this](const AccessLogEntry& entry) {
      std::lock_guard lock(mutex_);
      access_log_.push_back(entry);
    };
    hooks.log = [this](LogLevel, std::string_view message) {
      std::lock_guard lock(mutex_);
      messages_.emplace_back(message);
    };
    if (adjust) adjust(config_, hooks);
    auto server = RegistryServer::Create(config_, std::move(hooks));
    if (!server.ok())
      throw std::runtime_error("RegistryServer::Create: " + server.status().ToString());
    server_ = std::move(*server);
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
    // httplib's stop() is a no-op until the listener runs; and requests should not race startup.
    while (!server_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~TestServer() { Stop(); }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  void Stop() {
    if (!thread_.joinable()) return;
    server_->Stop();
    thread_.join();
  }

  uint16_t port() const { return server_->port(); }
  const Config& config() const { return config_; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  RegistryServer& server() { return *server_; }
  const Status& run_status() const { return run_status_; }

  std::unique_ptr<httplib::Client> Client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", port());
    client->set_connection_timeout(10);
    client->set_read_timeout(30);
    client->set_write_timeout(30);
    return client;
  }

  std::vector<AccessLogEntry> access_log() const {
    std::lock_guard lock(mutex_);
    return access_log_;
  }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }

 private:
  TempDir dir_;
  Config config_;
  std::unique_ptr<RegistryServer> server_;
  std::thread thread_;
  Status run_status_;
  mutable std::mutex mutex_;
  std::vector<AccessLogEntry> access_log_;
  std::vector<std::string> messages_;
};

inline std::string Sha256(std::string_view bytes) {
  return Digester::Of(DigestAlgorithm::kSha256, bytes).ToString();
}

// Pushes `bytes` to `repo` with a single monolithic POST; returns the digest.
inline std::string PushBlob(httplib::Client& client, const std::string& repo,
                            const std::string& bytes) {
  const std::string digest = Sha256(bytes);
  auto res = client.Post("/v2/" + repo + "/blobs/uploads/?digest=" + digest, bytes,
                         "application/octet-stream");
  if (!res || res->status != 201) {
    throw std::runtime_error("blob push failed: " +
                             (res ? res->body : httplib::to_string(res.error())));
  }
  return digest;
}

// An OCI image manifest over one config and the given layers (all must be pushed).
inline std::string ImageManifest(const std::string& config_digest, size_t config_size,
                                 const std::vector<std::pair<std::string, size_t>>& layers,
                                 const std::string& extra = "") {
  std::string body =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest + R"(","size":)" + std::to_string(config_size) + R"(},"layers":[)";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) body += ",";
    body += R"({"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
            layers[i].first + R"(","size":)" + std::to_string(layers[i].second) + "}";
  }
  body += "]" + extra + "}";
  return body;
}

constexpr const char* kOciManifestType = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndexType = "application/vnd.oci.image.index.v1+json";

// Pushes a config blob and one layer to `repo` and a manifest tagged `tag`; returns the
// manifest's digest. `extra` is appended inside the manifest object (e.g. a subject).
inline std::string PushImage(httplib::Client& client, const std::string& repo,
                             const std::string& tag, const std::string& layer = "layer-bytes",
                             const std::string& extra = "") {
  const std::string config = R"({"architecture":"amd64","os":"linux"})";
  const std::string config_digest = PushBlob(client, repo, config);
  const std::string layer_digest = PushBlob(client, repo, layer);
  const std::string manifest =
      ImageManifest(config_digest, config.size(), {{layer_digest, layer.size()}}, extra);
  auto res = client.Put("/v2/" + repo + "/manifests/" + tag, manifest, kOciManifestType);
  if (!res || res->status != 201) {
    throw std::runtime_error("manifest push failed: " +
                             (res ? res->body : httplib::to_string(res.error())));
  }
  return Sha256(manifest);
}

}  // namespace ocireg::testing
