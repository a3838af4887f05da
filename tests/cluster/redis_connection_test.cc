// SPDX-License-Identifier: Apache-2.0
// Reaching Redis: a password or an ACL user, no server or no URL, and rediss:// with the
// server's certificate and name checked.
#include "coordination_helpers.h"

namespace ocireg {
namespace {

using namespace coordination_test;  // NOLINT(google-build-using-namespace): the shared helpers

TEST_CASE("a Redis with a password: the right one logs in, others are told why not", "[redis]") {
  RedisServer redis("cluster-s3cret");

  SECTION("CheckRedisReachable") {
    CHECK_OK(CheckRedisReachable(OptionsFor(redis, "replica")));

    const Status wrong = CheckRedisReachable(OptionsFor(redis.url(), "replica", "not-it"));
    CHECK_CODE(wrong, ErrorCode::kUnavailable);
    INFO(wrong.message());
    CHECK(wrong.message().find("login refused") != std::string::npos);
    CHECK(wrong.message().find("WRONGPASS") != std::string::npos);
    CHECK(wrong.message().find(redis.url()) != std::string::npos);
    CHECK(wrong.message().find("not-it") == std::string::npos);

    const Status missing = CheckRedisReachable(OptionsFor(redis.url(), "replica"));
    CHECK_CODE(missing, ErrorCode::kUnavailable);
    INFO(missing.message());
    CHECK(missing.message().find("NOAUTH") != std::string::npos);
  }

  SECTION("the coordination's calls") {
    auto good = Connect(OptionsFor(redis, "replica"));
    CHECK_OK(good->PublishChange("team/app"));
    CHECK_OK(good->ChangeMark("team/app"));
    auto bad = Connect(OptionsFor(redis.url(), "replica", "not-it"));
    milliseconds took{};
    CHECK_CODE(Timed(took, [&] { return bad->ChangeMark("team/app"); }), ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
    CHECK_CODE(bad->PublishChange("team/app"), ErrorCode::kUnavailable);
    CHECK_CODE(bad->AcquireLease("gc"), ErrorCode::kUnavailable);
  }

  SECTION("an ACL user named in the URL, limited to the registry's keys") {
    REQUIRE(redis.Command({"ACL", "SETUSER", "registry", "on", ">registry-pass", "~ocireg:*",
                           "+@all"}) == "OK");
    const std::string url = "redis://registry@127.0.0.1:" + std::to_string(redis.port()) + "/0";
    CHECK_OK(CheckRedisReachable(OptionsFor(url, "replica", "registry-pass")));
    CHECK_CODE(CheckRedisReachable(OptionsFor(url, "replica", "cluster-s3cret")),
               ErrorCode::kUnavailable);
    auto user = Connect(OptionsFor(url, "replica", "registry-pass"));
    CHECK_OK(user->PublishChange("team/app"));
    CHECK_OK(user->UseContent(DigestOf("content")));
    // Keys outside its pattern: Redis refuses, and the error says so.
    RedisCoordinationOptions outside = OptionsFor(url, "replica", "registry-pass");
    outside.key_prefix = "elsewhere:";
    const Status refused = Connect(outside)->PublishChange("team/app");
    CHECK_CODE(refused, ErrorCode::kUnavailable);
    CHECK(refused.message().find("NOPERM") != std::string::npos);
  }

  SECTION("the database of the URL") {
    const std::string url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/3";
    REQUIRE_OK(Connect(OptionsFor(url, "replica", redis.password()))->PublishChange("team/db"));
    CHECK(redis.Command({"-n", "3", "EXISTS", "ocireg:mark:team/db"}) == "1");
    CHECK(redis.Command({"-n", "0", "EXISTS", "ocireg:mark:team/db"}) == "0");
  }
}

TEST_CASE("no Redis, or no URL: said at once", "[redis]") {
  const uint16_t port = testing::FreeLoopbackPort();
  const std::string url = "redis://127.0.0.1:" + std::to_string(port) + "/0";
  milliseconds took{};
  const Status refused = Timed(took, [&] { return CheckRedisReachable(OptionsFor(url, "n")); });
  CHECK_CODE(refused, ErrorCode::kUnavailable);
  CHECK(refused.message().find(url) != std::string::npos);
  CHECK(refused.message().find("refused") != std::string::npos);
  CHECK(took < kFailFastLimit);

  for (const char* bad :
       {"http://127.0.0.1:6379", "redis://user:pw@127.0.0.1", "redis://h:99999"}) {
    INFO(bad);
    CHECK_CODE(ConnectRedisCoordination(OptionsFor(bad, "n")), ErrorCode::kInvalidArgument);
    CHECK_CODE(CheckRedisReachable(OptionsFor(bad, "n")), ErrorCode::kInvalidArgument);
  }
}

// A redis-server that accepts TLS alone, on a free port of 127.0.0.1, with the certificate
// `certificate` and key `key`; ended by its PID.
class TlsRedis {
 public:
  TlsRedis(const std::filesystem::path& dir, const std::string& certificate, const std::string& key,
           const std::string& ca) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = testing::FreeLoopbackPort();
      log_ = dir / ("tls-redis-" + std::to_string(port_) + ".log");
      pid_ = testing::SpawnProcess({"redis-server",
                                    "--port",
                                    "0",
                                    "--tls-port",
                                    std::to_string(port_),
                                    "--bind",
                                    "127.0.0.1",
                                    "--tls-cert-file",
                                    certificate,
                                    "--tls-key-file",
                                    key,
                                    "--tls-ca-cert-file",
                                    ca,
                                    "--tls-auth-clients",
                                    "no",
                                    "--dir",
                                    dir.string(),
                                    "--save",
                                    "",
                                    "--appendonly",
                                    "no",
                                    "--daemonize",
                                    "no",
                                    "--protected-mode",
                                    "no"},
                                   log_);
      if (WaitUntil(seconds(10),
                    [&] {
                      return testing::ReadTextFile(log_).find("Ready to accept connections") !=
                                 std::string::npos ||
                             testing::WaitForChild(pid_, milliseconds(0)).has_value();
                    }) &&
          testing::ReadTextFile(log_).find("Ready to accept connections") != std::string::npos) {
        return;
      }
      testing::EndChild(pid_);
    }
    throw std::runtime_error("redis-server with TLS did not start: " + testing::ReadTextFile(log_));
  }
  ~TlsRedis() { testing::EndChild(pid_); }
  TlsRedis(const TlsRedis&) = delete;
  TlsRedis& operator=(const TlsRedis&) = delete;

  std::string url(const std::string& host = "127.0.0.1") const {
    return "rediss://" + host + ":" + std::to_string(port_) + "/0";
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  std::filesystem::path log_;
};

// A server certificate signed by `pki`'s CA whose subjectAltName is `san` alone (openssl's
// syntax): dir/`stem`.pem and dir/`stem`.key.
testing::ClientCertificate MakeServerWithNames(const testing::TestPki& pki, const std::string& stem,
                                               const std::string& san) {
  const std::filesystem::path& dir = pki.dir();
  const std::filesystem::path extensions = dir / (stem + ".ext");
  testing::WriteTextFile(extensions,
                         "basicConstraints = critical, CA:FALSE\n"
                         "keyUsage = critical, digitalSignature, keyEncipherment\n"
                         "extendedKeyUsage = serverAuth\n"
                         "subjectAltName = " +
                             san + "\n");
  testing::ClientCertificate made{(dir / (stem + ".pem")).string(),
                                  (dir / (stem + ".key")).string()};
  const std::filesystem::path log = dir / (stem + ".log");
  testing::RunCommand(
      {"openssl", "req", "-new", "-config", (dir / "ca.cnf").string(), "-newkey", "ec", "-pkeyopt",
       "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", made.key, "-out",
       (dir / (stem + ".csr")).string(), "-subj", "/CN=127.0.0.1"},
      log);
  testing::RunCommand({"openssl", "x509", "-req", "-in", (dir / (stem + ".csr")).string(), "-CA",
                       pki.ca(), "-CAkey", (dir / "ca.key").string(), "-set_serial", "77",
                       "-extfile", extensions.string(), "-out", made.certificate},
                      log);
  return made;
}

RedisCoordinationOptions TlsOptions(const std::string& url, const std::string& ca,
                                    bool verify = true) {
  RedisCoordinationOptions options = OptionsFor(url, "replica");
  options.ca_file = ca;
  options.tls_verify = verify;
  return options;
}

TEST_CASE("rediss://: the server's certificate and name are checked", "[redis][tls]") {
  testing::TempDir dir;
  testing::TestPki pki(dir.path());  // server certificate for IP:127.0.0.1 and DNS:localhost
  const std::string other_ca = testing::MakeTestCa(dir.path(), "other").string();

  SECTION("a certificate for 127.0.0.1 and localhost") {
    TlsRedis redis(dir.path(), pki.server_certificate(), pki.server_key(), pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca())));
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca())));
    auto coordination = Connect(TlsOptions(redis.url(), pki.ca()));
    CHECK_OK(coordination->PublishChange("team/app"));
    CHECK_OK(coordination->ChangeMark("team/app"));
    CHECK_OK(coordination->UseContent(DigestOf("over tls")));
    auto lease = coordination->AcquireLease("gc");
    REQUIRE_OK(lease);
    CHECK(Claim(*coordination, **lease, DigestOf("not in use")));

    // Another CA: refused, saying it is the certificate.
    const Status untrusted = CheckRedisReachable(TlsOptions(redis.url(), other_ca));
    CHECK_CODE(untrusted, ErrorCode::kUnavailable);
    INFO(untrusted.message());
    CHECK(untrusted.message().find("certificate") != std::string::npos);
    CHECK(untrusted.message().find(redis.url()) != std::string::npos);
    CHECK_CODE(Connect(TlsOptions(redis.url(), other_ca))->ChangeMark("team/app"),
               ErrorCode::kUnavailable);
    // The system's CAs do not know the test CA either.
    CHECK_CODE(CheckRedisReachable(TlsOptions(redis.url(), "")), ErrorCode::kUnavailable);
    // Unchecked, any certificate will do.
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), other_ca, false)));
    CHECK_OK(Connect(TlsOptions(redis.url(), other_ca, false))->PublishChange("team/app"));

    // A CA file that cannot be read.
    const Status no_file = CheckRedisReachable(TlsOptions(redis.url(), "/nonexistent/ca.pem"));
    CHECK_CODE(no_file, ErrorCode::kUnavailable);
    CHECK(no_file.message().find("/nonexistent/ca.pem") != std::string::npos);

    // Plain text to the TLS port: refused quickly, not hung.
    milliseconds took{};
    const std::string plain = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/0";
    CHECK_CODE(Timed(took, [&] { return CheckRedisReachable(OptionsFor(plain, "n")); }),
               ErrorCode::kUnavailable);
    CHECK(took < kFailFastLimit);
  }

  SECTION("the name: an IP address must be in the certificate's subjectAltName") {
    const testing::ClientCertificate named_only =
        MakeServerWithNames(pki, "localhost-only", "DNS:localhost");
    TlsRedis redis(dir.path(), named_only.certificate, named_only.key, pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca())));
    // The certificate's subject CN is 127.0.0.1, which does not count: only its IP entries.
    const Status mismatch = CheckRedisReachable(TlsOptions(redis.url(), pki.ca()));
    CHECK_CODE(mismatch, ErrorCode::kUnavailable);
    INFO(mismatch.message());
    CHECK(mismatch.message().find("certificate") != std::string::npos);
    CHECK(mismatch.message().find("IP address mismatch") != std::string::npos);
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca(), false)));
  }

  SECTION("a host name must be in the certificate's subjectAltName") {
    const testing::ClientCertificate ip_only = MakeServerWithNames(pki, "ip-only", "IP:127.0.0.1");
    TlsRedis redis(dir.path(), ip_only.certificate, ip_only.key, pki.ca());
    CHECK_OK(CheckRedisReachable(TlsOptions(redis.url(), pki.ca())));
    const Status mismatch = CheckRedisReachable(TlsOptions(redis.url("localhost"), pki.ca()));
    CHECK_CODE(mismatch, ErrorCode::kUnavailable);
    INFO(mismatch.message());
    CHECK(mismatch.message().find("certificate") != std::string::npos);
    CHECK(mismatch.message().find("mismatch") != std::string::npos);
  }

  SECTION("rediss:// to a Redis without TLS fails quickly, saying TLS") {
    RedisServer plain;
    const std::string url = "rediss://127.0.0.1:" + std::to_string(plain.port()) + "/0";
    milliseconds took{};
    const Status failed =
        Timed(took, [&] { return CheckRedisReachable(TlsOptions(url, pki.ca())); });
    CHECK_CODE(failed, ErrorCode::kUnavailable);
    INFO(failed.message());
    CHECK(failed.message().find("TLS") != std::string::npos);
    CHECK(took < kFailFastLimit);
  }
}

}  // namespace
}  // namespace ocireg
