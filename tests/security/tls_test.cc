// SPDX-License-Identifier: Apache-2.0
// TLS and mutual TLS end to end: certificates made with openssl, clients httplib, curl, openssl
// s_client and skopeo.
#include <httplib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "catch.h"
#include "certificates.h"
#include "security_support.h"
#include "test_server.h"

using ocireg::ClientAuth;
using ocireg::ClientIdentity;
using ocireg::Config;
using ocireg::ServerHooks;
using ocireg::testing::ClientCertificate;
using ocireg::testing::KeyKind;
using ocireg::testing::ReadTextFile;
using ocireg::testing::RunStatus;
using ocireg::testing::SecureClient;
using ocireg::testing::TempDir;
using ocireg::testing::TestPki;
using ocireg::testing::TestServer;

namespace {

// A server with TLS from `pki`, and mutual TLS when `client_auth` is given.
TestServer::Adjust WithTls(const TestPki& pki, std::optional<ClientAuth> client_auth = {},
                           ClientIdentity identity = ClientIdentity::kCommonName) {
  return [&pki, client_auth, identity](Config& config, ServerHooks&) {
    config.tls.certificate = pki.server_certificate();
    config.tls.private_key = pki.server_key();
    if (client_auth) {
      config.tls.client_ca = pki.ca();
      config.tls.client_auth = *client_auth;
      config.tls.client_identity = identity;
      // Anonymous callers may read, so the optional mode has something to show without a
      // certificate; everything else needs one.
      ocireg::AccessConfig access;
      access.anonymous.push_back({{"**"}, {}, {}, {ocireg::Action::kRead}});
      access.authenticated.push_back({{"**"}, {}, {}, ocireg::ActionSet::All()});
      config.access = access;
    }
  };
}

std::string LastUser(const TestServer& server) {
  auto log = ocireg::testing::WaitForAccessLog(server, 1);
  return log.empty() ? "" : log.back().user;
}

// `path` quoted for sh.
std::string Quoted(const std::string& path) { return "'" + path + "'"; }

// One openssl s_client connection that sends a GET /v2/ asking the server to close, so that the
// client reads the whole answer (and TLS 1.3 session tickets) before it ends. `session` is
// "-sess_out FILE" or "-sess_in FILE". Returns the exit status; s_client's output is in `log`.
int SClientRequest(uint16_t port, const TestPki& pki,
                   const std::optional<ClientCertificate>& certificate, const std::string& protocol,
                   const std::string& session, const std::filesystem::path& log) {
  std::string command =
      "printf 'GET /v2/ HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nConnection: close"
      "\\r\\n\\r\\n' | openssl s_client -ign_eof -connect 127.0.0.1:" +
      std::to_string(port) + " -CAfile " + Quoted(pki.ca()) + " -verify_return_error " + protocol +
      " " + session;
  if (certificate) {
    command += " -cert " + Quoted(certificate->certificate) + " -key " + Quoted(certificate->key);
  }
  return RunStatus({"sh", "-c", command}, log);
}

// Whether a TLS 1.2 handshake offering only `cipher` succeeds.
bool Tls12HandshakeWith(uint16_t port, const TestPki& pki, const std::string& cipher,
                        const std::filesystem::path& dir) {
  return RunStatus({"openssl", "s_client", "-connect", "127.0.0.1:" + std::to_string(port),
                    "-tls1_2", "-cipher", cipher, "-CAfile", pki.ca(), "-verify_return_error"},
                   dir / ("cipher-" + cipher + ".log")) == 0;
}

}  // namespace

TEST_CASE("TLS: a verified client gets the API; plain HTTP and old TLS do not", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki));
  auto client = SecureClient(server.port(), pki.ca());
  auto res = client->Get("/v2/");
  REQUIRE(res);
  CHECK(res->status == 200);

  auto plain = server.Client();
  auto refused = plain->Get("/v2/");
  CHECK((!refused || refused->status == 400));

  // A client that does not trust the CA gives up.
  TestPki other(dir.path(), "other");
  auto untrusting = SecureClient(server.port(), other.ca());
  CHECK_FALSE(untrusting->Get("/v2/"));

  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  CHECK(ocireg::testing::RunStatus({"openssl", "s_client", "-connect", address, "-tls1_2",
                                    "-CAfile", pki.ca(), "-verify_return_error"},
                                   dir.path() / "tls12.log") == 0);
  CHECK(ocireg::testing::RunStatus({"openssl", "s_client", "-connect", address, "-tls1_1"},
                                   dir.path() / "tls11.log") != 0);
}

TEST_CASE("TLS: a blob of several MiB pushed in one request arrives whole", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki));
  auto client = SecureClient(server.port(), pki.ca());
  // Past the size the server reads straight from a plain-HTTP socket: over TLS the bytes must
  // still go through OpenSSL.
  std::string blob(3 * 1024 * 1024 + 7, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 7919) >> 3);
  const std::string digest = ocireg::testing::Sha256(blob);
  auto pushed = client->Post("/v2/tls/large/blobs/uploads/?digest=" + digest, blob,
                             "application/octet-stream");
  REQUIRE(pushed);
  CHECK(pushed->status == 201);
  auto pulled = client->Get("/v2/tls/large/blobs/" + digest);
  REQUIRE(pulled);
  CHECK(pulled->status == 200);
  CHECK(pulled->body == blob);
}

TEST_CASE("TLS: ranged pulls are byte-exact, and a file cut short ends the connection", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki));
  auto client = SecureClient(server.port(), pki.ca());
  // TLS pulls copy through the server's buffer in 1 MiB pieces: ranges inside and across them.
  std::string blob(40 * 1024 * 1024, '\0');
  for (size_t i = 0; i < blob.size(); ++i) blob[i] = static_cast<char>((i * 2654435761u) >> 13);
  const std::string digest = ocireg::testing::Sha256(blob);
  auto pushed = client->Post("/v2/tls/ranged/blobs/uploads/?digest=" + digest, blob,
                             "application/octet-stream");
  REQUIRE(pushed);
  REQUIRE(pushed->status == 201);
  const std::string path = "/v2/tls/ranged/blobs/" + digest;
  for (auto [range, first, length] :
       {std::tuple<std::string, size_t, size_t>{"bytes=1048570-3145730", 1048570, 2097161},
        {"bytes=-1000001", blob.size() - 1000001, 1000001},
        {"bytes=39845888-", 39845888, blob.size() - 39845888}}) {
    INFO(range);
    auto res = client->Get(path, {{"Range", range}});
    REQUIRE(res);
    CHECK(res->status == 206);
    CHECK(res->body == blob.substr(first, length));
  }

  // Larger than the socket buffers hold, so the server is still sending when the file shrinks.
  const std::filesystem::path file =
      server.dir() / "data" / "_blobs" / "sha256" / digest.substr(digest.find(':') + 1);
  REQUIRE(std::filesystem::exists(file));
  size_t received = 0;
  bool truncated = false;
  auto cut = client->Get(path, [&](const char*, size_t n) {
    if (!truncated) std::filesystem::resize_file(file, 1024 * 1024);
    truncated = true;
    received += n;
    return true;
  });
  CHECK_FALSE(cut);
  CHECK(truncated);
  CHECK(received < blob.size());
}

TEST_CASE("TLS: the server picks AES-128-GCM unless the client puts ChaCha20 first", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki));
  const std::string address = "127.0.0.1:" + std::to_string(server.port());
  // OpenSSL clients list AES-256-GCM first by default; the test's server key is ECDSA.
  for (auto [protocol, suites, expected] :
       {std::tuple<std::string, std::string, std::string>{"-tls1_3", "", "TLS_AES_128_GCM_SHA256"},
        {"-tls1_3", "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256",
         "TLS_CHACHA20_POLY1305_SHA256"},
        {"-tls1_2", "", "ECDHE-ECDSA-AES128-GCM-SHA256"}}) {
    INFO(protocol << " " << suites);
    const std::filesystem::path log = dir.path() / "suite.log";
    std::vector<std::string> command = {"openssl", "s_client", "-connect", address,
                                        protocol,  "-CAfile",  pki.ca(),   "-verify_return_error"};
    if (!suites.empty()) command.insert(command.end(), {"-ciphersuites", suites});
    REQUIRE(RunStatus(command, log) == 0);
    CHECK(ReadTextFile(log).find("Cipher is " + expected) != std::string::npos);
  }
}

TEST_CASE("TLS: unreadable and mismatched files are clear startup errors", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestPki other(dir.path(), "other");
  Config config = ocireg::testing::TestConfig(dir.path() / "data");
  config.tls.certificate = pki.server_certificate();
  config.tls.private_key = pki.server_key();

  auto error_of = [&](const Config& broken) {
    auto server = ocireg::RegistryServer::Create(broken);
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == ocireg::ErrorCode::kInvalidArgument);
    return server.status().message();
  };
  SECTION("missing certificate") {
    config.tls.certificate = (dir.path() / "absent.pem").string();
    CHECK_THAT(error_of(config), Catch::Contains("tls.certificate: " + config.tls.certificate +
                                                 ": cannot read: No such file"));
  }
  SECTION("a key that is not PEM") {
    config.tls.private_key = pki.ca() + ".cnf";
    ocireg::testing::WriteTextFile(config.tls.private_key, "not a key\n");
    CHECK_THAT(error_of(config), Catch::Contains("tls.private_key: " + config.tls.private_key +
                                                 ": not a PEM private key"));
  }
  SECTION("the key of another certificate") {
    config.tls.private_key = other.server_key();
    CHECK_THAT(error_of(config), Catch::Contains("does not match the certificate"));
  }
  SECTION("an unreadable client CA") {
    config.tls.client_ca = (dir.path() / "absent-ca.pem").string();
    CHECK_THAT(error_of(config), Catch::Contains("tls.client_ca: "));
  }
}

TEST_CASE("mutual TLS required: no verified certificate, no connection", "[tls][mtls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestPki other(dir.path(), "other");
  TestServer server(WithTls(pki, ClientAuth::kRequired));
  const ClientCertificate alice = pki.MakeClient("alice");

  CHECK_FALSE(SecureClient(server.port(), pki.ca())->Get("/v2/"));
  const ClientCertificate stranger = other.MakeClient("alice");
  CHECK_FALSE(SecureClient(server.port(), pki.ca(), stranger)->Get("/v2/"));

  auto client = SecureClient(server.port(), pki.ca(), alice);
  auto res = client->Post("/v2/mtls/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(res);
  CHECK(res->status == 202);
  CHECK(LastUser(server) == "alice");
}

TEST_CASE("mutual TLS optional: a certificate authenticates, none leaves the caller anonymous",
          "[tls][mtls]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki, ClientAuth::kOptional));

  auto anonymous = SecureClient(server.port(), pki.ca());
  auto read = anonymous->Get("/v2/_catalog");
  REQUIRE(read);
  CHECK(read->status == 200);
  auto push = anonymous->Post("/v2/opt/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(push);
  CHECK(push->status == 401);
  CHECK(push->get_header_value("WWW-Authenticate") == "Basic realm=\"ocireg\"");

  auto bob = SecureClient(server.port(), pki.ca(), pki.MakeClient("bob"));
  auto pushed = bob->Post("/v2/opt/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(pushed);
  CHECK(pushed->status == 202);
  CHECK(LastUser(server) == "bob");
}

TEST_CASE("mutual TLS: the identity may come from a SAN", "[tls][mtls]") {
  TempDir dir;
  TestPki pki(dir.path());
  const ClientCertificate carol =
      pki.MakeClient("carol", "DNS:carol.example.test, email:carol@example.test, URI:spiffe://t/c");
  for (auto [identity, expected] : {std::pair{ClientIdentity::kSanEmail, "carol@example.test"},
                                    std::pair{ClientIdentity::kSanDns, "carol.example.test"},
                                    std::pair{ClientIdentity::kSanUri, "spiffe://t/c"}}) {
    TestServer server(WithTls(pki, ClientAuth::kRequired, identity));
    auto res = SecureClient(server.port(), pki.ca(), carol)->Get("/v2/");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(LastUser(server) == expected);
  }
  SECTION("a certificate without the chosen SAN authenticates nobody") {
    TestServer server(WithTls(pki, ClientAuth::kOptional, ClientIdentity::kSanEmail));
    auto res = SecureClient(server.port(), pki.ca(), pki.MakeClient("nosan"))
                   ->Post("/v2/x/blobs/uploads/", "", "application/octet-stream");
    REQUIRE(res);
    CHECK(res->status == 401);
  }
}

TEST_CASE("mutual TLS with curl and skopeo", "[tls][mtls][clients]") {
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server(WithTls(pki, ClientAuth::kRequired));
  const ClientCertificate alice = pki.MakeClient("alice");
  const std::string base = "https://127.0.0.1:" + std::to_string(server.port());

  CHECK(ocireg::testing::RunStatus({"curl", "-sf", "--cacert", pki.ca(), "--cert",
                                    alice.certificate, "--key", alice.key, base + "/v2/"},
                                   dir.path() / "curl.log") == 0);
  CHECK(ocireg::testing::RunStatus({"curl", "-sf", "--cacert", pki.ca(), base + "/v2/"},
                                   dir.path() / "curl-nocert.log") != 0);

  // skopeo reads a directory: *.crt are CAs, a.cert with a.key is the client certificate.
  const auto certs = ocireg::testing::SkopeoCertDir(dir.path() / "certs", pki.ca(), alice);
  const std::string image = "127.0.0.1:" + std::to_string(server.port()) + "/mtls/image:v1";
  const std::string layout = ocireg::testing::MakeOciLayout(dir.path() / "layout");
  CHECK(ocireg::testing::RunStatus({"skopeo", "copy", "--dest-cert-dir", certs,
                                    "oci:" + layout + ":v1", "docker://" + image},
                                   dir.path() / "push.log") == 0);
  CHECK(ocireg::testing::RunStatus({"skopeo", "inspect", "--cert-dir", certs, "docker://" + image},
                                   dir.path() / "inspect.log") == 0);
  CHECK(LastUser(server) == "alice");
  // Without the client certificate skopeo cannot connect.
  const auto ca_only = ocireg::testing::SkopeoCertDir(dir.path() / "ca-only", pki.ca());
  CHECK(
      ocireg::testing::RunStatus({"skopeo", "inspect", "--cert-dir", ca_only, "docker://" + image},
                                 dir.path() / "inspect-nocert.log") != 0);
}

TEST_CASE("TLS sessions resume, with and without client certificates", "[tls][mtls]") {
  TempDir dir;
  TestPki pki(dir.path());
  const ClientCertificate alice = pki.MakeClient("alice");
  const std::vector<std::optional<ClientAuth>> modes = {std::nullopt, ClientAuth::kOptional,
                                                        ClientAuth::kRequired};
  int round = 0;
  for (const std::optional<ClientAuth>& mode : modes) {
    for (const std::string protocol : {"-tls1_2", "-tls1_3"}) {
      CAPTURE(mode.has_value(), mode == ClientAuth::kRequired, protocol);
      TestServer server(WithTls(pki, mode));
      const std::optional<ClientCertificate> certificate =
          mode ? std::optional(alice) : std::nullopt;
      const std::filesystem::path stem = dir.path() / ("round-" + std::to_string(++round));
      const std::string session = stem.string() + ".session";
      REQUIRE(SClientRequest(server.port(), pki, certificate, protocol,
                             "-sess_out " + Quoted(session), stem.string() + "-first.log") == 0);
      CHECK_THAT(ReadTextFile(stem.string() + "-first.log"), Catch::Contains("New, TLSv1."));
      // Without a session context OpenSSL ends this handshake with an internal-error alert.
      CHECK(SClientRequest(server.port(), pki, certificate, protocol, "-sess_in " + Quoted(session),
                           stem.string() + "-second.log") == 0);
      const std::string second = ReadTextFile(stem.string() + "-second.log");
      CHECK_THAT(second, Catch::Contains("Reused, TLSv1."));
      CHECK_THAT(second, Catch::Contains("HTTP/1.1 200"));
      // The resumed session keeps the verified certificate, and with it the login.
      if (mode) CHECK(LastUser(server) == "alice");

      // curl: two URLs, each on a new connection (the server closes after each), the second
      // resuming the first's session.
      std::vector<std::string> curl = {
          "curl", "-sS",       "-v", "--cacert", pki.ca(), "-H", "Connection: close",
          "-o",   "/dev/null", "-o", "/dev/null"};
      if (certificate) {
        for (const std::string& argument : {std::string("--cert"), certificate->certificate,
                                            std::string("--key"), certificate->key}) {
          curl.push_back(argument);
        }
      }
      curl.push_back(protocol == "-tls1_2" ? "--tls-max" : "--tlsv1.3");
      if (protocol == "-tls1_2") curl.push_back("1.2");
      const std::string base = "https://127.0.0.1:" + std::to_string(server.port());
      curl.push_back(base + "/v2/");
      curl.push_back(base + "/v2/_catalog");
      const std::filesystem::path curl_log = stem.string() + "-curl.log";
      CHECK(RunStatus(curl, curl_log) == 0);
      CHECK_THAT(ReadTextFile(curl_log), Catch::Contains("SSL re-using session ID"));
    }
  }
}

TEST_CASE("TLS 1.2 offers forward-secret AEAD cipher suites only", "[tls]") {
  TempDir dir;
  TestPki pki(dir.path());
  SECTION("an ECDSA certificate") {
    TestServer server(WithTls(pki));
    CHECK(Tls12HandshakeWith(server.port(), pki, "ECDHE-ECDSA-AES128-GCM-SHA256", dir.path()));
    CHECK(Tls12HandshakeWith(server.port(), pki, "ECDHE-ECDSA-AES256-GCM-SHA384", dir.path()));
    CHECK(Tls12HandshakeWith(server.port(), pki, "ECDHE-ECDSA-CHACHA20-POLY1305", dir.path()));
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "ECDHE-ECDSA-AES128-SHA", dir.path()));
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "ECDHE-ECDSA-AES256-SHA384", dir.path()));
  }
  SECTION("an RSA certificate") {
    const ClientCertificate rsa = pki.MakeServer("rsa-server", 3, KeyKind::kRsa);
    TestServer server([&](Config& config, ServerHooks&) {
      config.tls.certificate = rsa.certificate;
      config.tls.private_key = rsa.key;
    });
    CHECK(Tls12HandshakeWith(server.port(), pki, "ECDHE-RSA-AES128-GCM-SHA256", dir.path()));
    CHECK(Tls12HandshakeWith(server.port(), pki, "ECDHE-RSA-CHACHA20-POLY1305", dir.path()));
    // No forward secrecy (RSA key exchange), with and without AEAD; CBC with SHA-1.
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "AES128-SHA", dir.path()));
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "AES128-GCM-SHA256", dir.path()));
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "ECDHE-RSA-AES128-SHA", dir.path()));
    CHECK_FALSE(Tls12HandshakeWith(server.port(), pki, "ECDHE-RSA-AES256-SHA384", dir.path()));
    // TLS 1.3 keeps OpenSSL's suites; TLS 1.1 stays refused.
    const std::string address = "127.0.0.1:" + std::to_string(server.port());
    CHECK(RunStatus({"openssl", "s_client", "-connect", address, "-tls1_3", "-CAfile", pki.ca(),
                     "-verify_return_error"},
                    dir.path() / "tls13.log") == 0);
    CHECK(RunStatus({"openssl", "s_client", "-connect", address, "-tls1_1"},
                    dir.path() / "rsa-tls11.log") != 0);
  }
}
