// SPDX-License-Identifier: Apache-2.0
// TLS and mutual TLS end to end: certificates made with openssl, clients httplib, curl, openssl
// s_client and skopeo.
#include <httplib.h>

#include <string>

#include "catch.h"
#include "certificates.h"
#include "security_support.h"
#include "test_server.h"

using ocireg::ClientAuth;
using ocireg::ClientIdentity;
using ocireg::Config;
using ocireg::ServerHooks;
using ocireg::testing::ClientCertificate;
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
  for (auto [identity, expected] :
       {std::pair{ClientIdentity::kSanEmail, "carol@example.test"},
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
  CHECK(ocireg::testing::RunStatus({"skopeo", "inspect", "--cert-dir", certs,
                                    "docker://" + image},
                                   dir.path() / "inspect.log") == 0);
  CHECK(LastUser(server) == "alice");
  // Without the client certificate skopeo cannot connect.
  const auto ca_only = ocireg::testing::SkopeoCertDir(dir.path() / "ca-only", pki.ca());
  CHECK(ocireg::testing::RunStatus({"skopeo", "inspect", "--cert-dir", ca_only,
                                    "docker://" + image},
                                   dir.path() / "inspect-nocert.log") != 0);
}
