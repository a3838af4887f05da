// SPDX-License-Identifier: Apache-2.0
// Helpers of the security tests: HTTPS clients, external commands, skopeo's certificate
// directories and a small OCI image layout to push.
#pragma once

#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "certificates.h"
#include "ocireg/digest.h"
#include "process.h"
#include "test_server.h"

namespace ocireg::testing {

// An HTTPS client of 127.0.0.1:`port` that trusts `ca` and presents `certificate` when given.
inline std::unique_ptr<httplib::SSLClient> SecureClient(
    uint16_t port, const std::string& ca,
    const std::optional<ClientCertificate>& certificate = std::nullopt) {
  auto client = certificate ? std::make_unique<httplib::SSLClient>(
                                  "127.0.0.1", port, certificate->certificate, certificate->key)
                            : std::make_unique<httplib::SSLClient>("127.0.0.1", port);
  client->set_ca_cert_path(ca.c_str());
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(10);
  client->set_read_timeout(30);
  return client;
}

// The access log once it has at least `count` entries (waits a bounded time: the server logs a
// request after its response has gone out).
inline std::vector<AccessLogEntry> WaitForAccessLog(const TestServer& server, size_t count) {
  auto log = server.access_log();
  for (int i = 0; i < 200 && log.size() < count; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.access_log();
  }
  return log;
}

// A certificate directory as skopeo and containers/image read it: ca.crt, and the client's
// certificate and key as client.cert and client.key.
inline std::string SkopeoCertDir(const std::filesystem::path& dir, const std::string& ca,
                                 const std::optional<ClientCertificate>& client = std::nullopt) {
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(ca, dir / "ca.crt");
  if (client) {
    std::filesystem::copy_file(client->certificate, dir / "client.cert");
    std::filesystem::copy_file(client->key, dir / "client.key");
  }
  return dir.string();
}

// Writes `content` as a blob of the OCI layout at `layout`; returns its descriptor JSON.
inline std::string AddLayoutBlob(const std::filesystem::path& layout, const std::string& content,
                                 const std::string& media_type) {
  const Digest digest = Digester::Of(DigestAlgorithm::kSha256, content);
  std::filesystem::create_directories(layout / "blobs" / "sha256");
  WriteTextFile(layout / "blobs" / "sha256" / digest.hex(), content);
  return R"({"mediaType":")" + media_type + R"(","digest":")" + digest.ToString() + R"(","size":)" +
         std::to_string(content.size()) + "}";
}

// An OCI image layout at `dir` holding one image tagged `tag` (a config and one layer of random
// bytes, unique per call); returns its path.
inline std::string MakeOciLayout(const std::filesystem::path& dir, const std::string& tag = "v1") {
  std::string layer(4096, '\0');
  static unsigned seed = 1;
  for (char& c : layer) c = static_cast<char>(rand_r(&seed));
  const std::string config =
      R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}})";
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
      AddLayoutBlob(dir, config, "application/vnd.oci.image.config.v1+json") + R"(,"layers":[)" +
      AddLayoutBlob(dir, layer, "application/vnd.oci.image.layer.v1.tar") + "]}";
  std::string descriptor =
      AddLayoutBlob(dir, manifest, "application/vnd.oci.image.manifest.v1+json");
  descriptor.pop_back();
  descriptor += R"(,"annotations":{"org.opencontainers.image.ref.name":")" + tag + R"("}})";
  WriteTextFile(dir / "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  WriteTextFile(dir / "index.json", R"({"schemaVersion":2,"manifests":[)" + descriptor + "]}");
  return dir.string();
}

}  // namespace ocireg::testing
