// SPDX-License-Identifier: Apache-2.0
// RegistryServer::ReloadTls: a rotated certificate is presented to new connections; a broken one
// is refused with the file's name and the old certificate stays.
#include <filesystem>
#include <string>

#include "catch.h"
#include "certificates.h"
#include "security_support.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::ServerHooks;
using ocireg::Status;
using ocireg::testing::ClientCertificate;
using ocireg::testing::ReadTextFile;
using ocireg::testing::TempDir;
using ocireg::testing::TestPki;
using ocireg::testing::TestServer;
using ocireg::testing::WriteTextFile;

namespace {

// The serial number ("serial=07") of the certificate a new connection to `port` is shown, after
// openssl s_client verified it against `ca`; empty when the handshake failed.
std::string ServedSerial(uint16_t port, const std::string& ca, const std::filesystem::path& log) {
  const std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -CAfile '" + ca + "' -verify_return_error </dev/null 2>/dev/null" +
                              " | openssl x509 -noout -serial";
  std::filesystem::remove(log);  // the output is appended
  if (ocireg::testing::RunStatus({"sh", "-c", command}, log) != 0) return "";
  std::string text = ReadTextFile(log);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

void CopyOver(const std::string& from, const std::filesystem::path& to) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

TEST_CASE("TLS reload: new connections get the new certificate, open ones keep working",
          "[tls][reload]") {
  TempDir dir;
  TestPki pki(dir.path());
  // The files the configuration names, replaced in place as an operator rotating them would.
  const std::filesystem::path live_certificate = dir.path() / "live.pem";
  const std::filesystem::path live_key = dir.path() / "live.key";
  CopyOver(pki.server_certificate(), live_certificate);
  CopyOver(pki.server_key(), live_key);
  TestServer server([&](Config& config, ServerHooks&) {
    config.tls.certificate = live_certificate.string();
    config.tls.private_key = live_key.string();
  });
  const auto log = dir.path() / "serial.log";
  REQUIRE(ServedSerial(server.port(), pki.ca(), log) == "serial=02");
  auto open_client = ocireg::testing::SecureClient(server.port(), pki.ca());
  open_client->set_keep_alive(true);
  REQUIRE(open_client->Get("/v2/"));

  const ClientCertificate next = pki.MakeServer("next", 7);
  CopyOver(next.certificate, live_certificate);
  CopyOver(next.key, live_key);
  CHECK(ServedSerial(server.port(), pki.ca(), log) == "serial=02");  // not before the reload

  const Status reloaded = server.server().ReloadTls(server.config());
  REQUIRE_OK(reloaded);
  CHECK(ServedSerial(server.port(), pki.ca(), log) == "serial=07");
  auto still = open_client->Get("/v2/");
  REQUIRE(still);
  CHECK(still->status == 200);

  SECTION("the configuration may name other files") {
    const ClientCertificate third = pki.MakeServer("third", 9);
    Config config = server.config();
    config.tls.certificate = third.certificate;
    config.tls.private_key = third.key;
    REQUIRE_OK(server.server().ReloadTls(config));
    CHECK(ServedSerial(server.port(), pki.ca(), log) == "serial=09");
  }
}

TEST_CASE("TLS reload: broken files keep the current certificate", "[tls][reload]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestPki other(dir.path(), "other");
  TestServer server([&](Config& config, ServerHooks&) {
    config.tls.certificate = pki.server_certificate();
    config.tls.private_key = pki.server_key();
  });
  const auto log = dir.path() / "serial.log";
  REQUIRE(ServedSerial(server.port(), pki.ca(), log) == "serial=02");
  const ClientCertificate next = pki.MakeServer("next", 7);
  Config config = server.config();
  config.tls.certificate = next.certificate;
  config.tls.private_key = next.key;

  std::string expected;
  SECTION("an unreadable certificate") {
    config.tls.certificate = (dir.path() / "absent.pem").string();
    expected = "tls.certificate: " + config.tls.certificate + ": cannot read";
  }
  SECTION("a certificate file that is not PEM") {
    WriteTextFile(next.certificate, "not a certificate\n");
    expected = "tls.certificate: " + next.certificate + ": not a PEM certificate chain";
  }
  SECTION("a key file cut short") {
    const std::string text = ReadTextFile(next.key);
    WriteTextFile(next.key, text.substr(0, text.size() / 2));
    expected = "tls.private_key: " + next.key + ": not a PEM private key";
  }
  SECTION("the key of another certificate") {
    config.tls.private_key = other.server_key();
    expected = "tls.private_key: " + other.server_key() + ": does not match the certificate in " +
               next.certificate;
  }
  SECTION("a key that OpenSSL refuses to serve") {
    const ClientCertificate weak = pki.MakeServer("weak", 8, ocireg::testing::KeyKind::kWeakRsa);
    config.tls.certificate = weak.certificate;
    config.tls.private_key = weak.key;
    expected = "tls.certificate: " + weak.certificate + ": not usable";
  }
  SECTION("turning TLS off") {
    config.tls.certificate.clear();
    config.tls.private_key.clear();
    expected = "turning TLS off needs a restart";
  }
  const Status status = server.server().ReloadTls(config);
  REQUIRE_FALSE(status.ok());
  CHECK(status.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(status.message(), Catch::Contains(expected));
  CHECK(ServedSerial(server.port(), pki.ca(), log) == "serial=02");
  auto client = ocireg::testing::SecureClient(server.port(), pki.ca());
  auto res = client->Get("/v2/");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("TLS reload: a plain-HTTP server cannot turn TLS on", "[tls][reload]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server;
  CHECK_OK(server.server().ReloadTls(server.config()));
  Config config = server.config();
  config.tls.certificate = pki.server_certificate();
  config.tls.private_key = pki.server_key();
  const Status status = server.server().ReloadTls(config);
  CHECK(status.code() == ErrorCode::kInvalidArgument);
  CHECK_THAT(status.message(), Catch::Contains("turning TLS on needs a restart"));
  auto res = server.Client()->Get("/v2/");
  REQUIRE(res);
  CHECK(res->status == 200);
}
