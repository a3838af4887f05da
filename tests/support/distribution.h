// SPDX-License-Identifier: Apache-2.0
// Distribution: a private CNCF distribution registry (Debian's docker-registry 2.8) for one test,
// on 127.0.0.1, as the upstream of the mirror's client; plus PushImage, which pushes a small
// image to any registry over plain HTTP.
//
//   ocireg::testing::Distribution registry(Distribution::Htpasswd("alice", "secret"));
//   registry.url();   // "http://127.0.0.1:PORT"
//   auto image = PushImage(registry.port(), "alice", "secret", "library/small", "v1");
//
// Auth is none, htpasswd (a bcrypt file made with `htpasswd -cbB`, as distribution accepts only
// bcrypt), or token: distribution then sends Bearer challenges naming `realm` and checks the JWTs
// it is given against the certificate bundle (tests/support/token_server.h makes both).
//
// The registry runs in a temporary directory of its own (configuration, storage, log) as a child
// process ended by its PID: Stop() and the destructor send SIGTERM, wait up to 10 s, then SIGKILL.
// It dies with the thread that started it (see SpawnProcess). The constructor throws
// std::runtime_error, with the registry's log, when it does not answer within 10 s.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.h"
#include "manifest_builder.h"
#include "process.h"
#include "temp_dir.h"

namespace ocireg::testing {

struct DistributionAuth {
  std::string user{};  // htpasswd: the one user and password
  std::string password{};
  std::string token_realm{};  // token: where clients get tokens
  std::string token_service{};
  std::string token_issuer{};
  std::filesystem::path token_certificate{};  // PEM of the token signer's certificate
};

class Distribution {
 public:
  using Auth = DistributionAuth;
  static Auth Htpasswd(std::string user, std::string password) {
    return Auth{.user = std::move(user), .password = std::move(password)};
  }

  explicit Distribution(Auth auth = {}) : auth_(std::move(auth)) {
    if (!auth_.user.empty()) {
      RunCommand(
          {"htpasswd", "-cbB", (dir_.path() / "htpasswd").string(), auth_.user, auth_.password},
          dir_.path() / "htpasswd.log");
    }
    // A port picked free may be taken again before the registry binds it: then try another.
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = FreeLoopbackPort();
      if (TryStart()) return;
      Stop();
    }
    throw std::runtime_error("docker-registry did not start: " + log());
  }
  ~Distribution() { Stop(); }
  Distribution(const Distribution&) = delete;
  Distribution& operator=(const Distribution&) = delete;

  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return ReadTextFile(dir_.path() / "registry.log"); }

  // Ends the registry (idempotent).
  void Stop() {
    if (pid_ <= 0) return;
    EndChild(pid_);
    pid_ = -1;
  }

 private:
  bool TryStart() {
    std::string config =
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        "storage: {filesystem: {rootdirectory: '" +
        (dir_.path() / "storage").string() +
        "'}, delete: {enabled: true}}\n"
        "http: {addr: '127.0.0.1:" +
        std::to_string(port_) + "'}\n";
    if (!auth_.user.empty()) {
      config += "auth: {htpasswd: {realm: ocireg-test, path: '" +
                (dir_.path() / "htpasswd").string() + "'}}\n";
    } else if (!auth_.token_realm.empty()) {
      config += "auth: {token: {realm: '" + auth_.token_realm + "', service: '" +
                auth_.token_service + "', issuer: '" + auth_.token_issuer + "', rootcertbundle: '" +
                auth_.token_certificate.string() + "'}}\n";
    }
    WriteTextFile(dir_.path() / "config.yml", config);
    pid_ = SpawnProcess({"docker-registry", "serve", (dir_.path() / "config.yml").string()},
                        dir_.path() / "registry.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (WaitForChild(pid_, std::chrono::milliseconds(0))) {
        pid_ = -1;  // exited (the port was taken, or the configuration is wrong)
        return false;
      }
      const std::string answer = ExchangeWithLoopback(
          port_, "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", "",
          std::chrono::milliseconds(500));
      if (answer.starts_with("HTTP/1.1 ")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  Auth auth_;
  TempDir dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

struct PushedImage {
  std::string config;
  std::string layer;
  BlobRef config_ref;
  BlobRef layer_ref;
  std::string manifest;
  std::string manifest_digest;  // sha256:...
};

// Pushes one blob (POST, then a monolithic PUT) with `authorization` (may be empty); throws on
// any other answer than the spec's.
inline void PushBlob(httplib::Client& client, const httplib::Headers& headers,
                     const std::string& repo, const std::string& bytes) {
  const Digest digest = Digester::Of(DigestAlgorithm::kSha256, bytes);
  auto started = client.Post(("/v2/" + repo + "/blobs/uploads/").c_str(), headers, "", "");
  if (!started || started->status != 202 || !started->has_header("Location")) {
    throw std::runtime_error("upload did not start: " + (started ? std::to_string(started->status)
                                                                 : std::string("no answer")));
  }
  std::string location = started->get_header_value("Location");
  if (location.starts_with("http://")) location = location.substr(location.find('/', 7));
  location += (location.find('?') == std::string::npos ? "?" : "&");
  location += "digest=" + digest.ToString();
  auto put = client.Put(location.c_str(), headers, bytes, "application/octet-stream");
  if (!put || put->status != 201) {
    throw std::runtime_error("blob PUT failed: " +
                             (put ? std::to_string(put->status) : std::string("no answer")));
  }
}

// Pushes a small OCI image (a config, one layer of `layer_size` bytes) to 127.0.0.1:`port` as
// `repo`:`tag`, with `authorization` as the Authorization header when not empty.
inline PushedImage PushImage(uint16_t port, const std::string& authorization,
                             const std::string& repo, const std::string& tag,
                             size_t layer_size = 300000) {
  std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers"},"tag":")" + tag + "\"}";
  std::string layer(layer_size, '\0');
  for (size_t i = 0; i < layer_size; ++i) {
    layer[i] = static_cast<char>((i * 7919 + tag.size()) % 251);
  }
  const BlobRef config_ref = RefTo("application/vnd.oci.image.config.v1+json", config);
  const BlobRef layer_ref = RefTo("application/vnd.oci.image.layer.v1.tar", layer);
  std::string manifest = ImageManifest(config_ref, {layer_ref});
  const std::string digest = Digester::Of(DigestAlgorithm::kSha256, manifest).ToString();
  PushedImage image{std::move(config), std::move(layer),    config_ref,
                    layer_ref,         std::move(manifest), digest};
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  httplib::Headers headers;
  if (!authorization.empty()) headers.emplace("Authorization", authorization);
  PushBlob(client, headers, repo, image.config);
  PushBlob(client, headers, repo, image.layer);
  auto put = client.Put(("/v2/" + repo + "/manifests/" + tag).c_str(), headers, image.manifest,
                        "application/vnd.oci.image.manifest.v1+json");
  if (!put || put->status != 201) {
    throw std::runtime_error(
        "manifest PUT failed: " +
        (put ? std::to_string(put->status) + " " + put->body : std::string("no answer")));
  }
  return image;
}

}  // namespace ocireg::testing
