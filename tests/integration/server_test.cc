// SPDX-License-Identifier: Apache-2.0
// RegistryServer lifecycle: Create errors, Stop before and after Run, the access log, periodic GC.
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

#include "catch.h"
#include "oci_checks.h"
#include "raw_http.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::ErrorCode;
using ocireg::RegistryServer;
using ocireg::testing::TempDir;
using ocireg::testing::TestConfig;
using ocireg::testing::TestServer;

namespace {

std::string HostName() {
  char name[256] = {};
  REQUIRE(gethostname(name, sizeof name - 1) == 0);
  return name;
}

}  // namespace

TEST_CASE("Create refuses a port in use, an impossible address and impossible limits",
          "[integration][server]") {
  TempDir dir;
  SECTION("a port in use is kUnavailable naming the address") {
    TestServer running;
    ocireg::Config config = TestConfig(dir.path() / "data");
    config.listen.port = running.port();
    auto second = RegistryServer::Create(config);
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == ErrorCode::kUnavailable);
    CHECK(second.status().message().find("127.0.0.1:" + std::to_string(running.port())) !=
          std::string::npos);
  }
  SECTION("an address that is not one") {
    ocireg::Config config = TestConfig(dir.path() / "data");
    config.listen.address = "999.1.1.1";
    auto server = RegistryServer::Create(config);
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == ErrorCode::kUnavailable);
  }
  SECTION("no worker threads") {
    ocireg::Config config = TestConfig(dir.path() / "data");
    config.limits.max_connections = 0;
    CHECK(RegistryServer::Create(config).status().code() == ErrorCode::kInvalidArgument);
  }
  SECTION("[[mirror]] entries, which it does not serve, here and in CheckConfig") {
    ocireg::Config config = TestConfig(dir.path() / "data");
    ocireg::MirrorConfig mirror;
    mirror.name = "hub";
    mirror.upstream = "https://registry.example";
    config.mirrors.push_back(mirror);
    auto server = RegistryServer::Create(config);
    REQUIRE_FALSE(server.ok());
    CHECK(server.status().code() == ErrorCode::kInvalidArgument);
    CHECK(server.status().message().find("mirror[1] (hub)") != std::string::npos);
    CHECK(ocireg::CheckConfig(config).code() == ErrorCode::kInvalidArgument);
  }
}

// [fs-root]: a root that is a file exists on the file system only (integration-s3 leaves it out).
TEST_CASE("Create refuses a storage root that is a file", "[integration][server][fs-root]") {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  auto server = RegistryServer::Create(TestConfig(dir.path() / "file"));
  REQUIRE_FALSE(server.ok());
  CHECK(server.status().code() == ErrorCode::kInternal);
}

TEST_CASE("Stop before Run makes Run return at once; Stop twice is harmless",
          "[integration][server]") {
  TempDir dir;
  auto server = RegistryServer::Create(TestConfig(dir.path() / "data"));
  REQUIRE_OK(server);
  CHECK((*server)->port() != 0);
  (*server)->Stop();
  CHECK_OK((*server)->Run());
  CHECK_FALSE((*server)->is_running());
  (*server)->Stop();
}

TEST_CASE("is_running follows Run and Stop", "[integration][server]") {
  TestServer server;
  CHECK(server.server().is_running());
  server.Stop();
  CHECK_FALSE(server.server().is_running());
  CHECK_OK(server.run_status());
  CHECK_FALSE(ocireg::testing::RawConnection::PortAccepting(server.port()));
}

TEST_CASE("Every request is reported to the access log", "[integration][server]") {
  TestServer server;
  auto client = server.Client();
  REQUIRE(client->Get("/v2/")->status == 200);
  REQUIRE(client->Get("/v2/missing/tags/list")->status == 404);
  REQUIRE(client->Head("/v2/")->status == 200);
  // The server logs a request after its response has gone out, so the client can be first:
  // give the last line a bounded moment to arrive.
  auto log = server.access_log();
  for (int i = 0; i < 200 && log.size() < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.access_log();
  }
  REQUIRE(log.size() == 3);
  // Each request came on its own connection, served by its own worker: the lines may arrive in
  // any order, so find each by its request.
  auto entry = [&](std::string_view method, std::string_view path) {
    for (const auto& e : log) {
      if (e.method == method && e.path == path) return e;
    }
    FAIL("no access-log entry for " << method << " " << path);
    return ocireg::AccessLogEntry{};
  };
  const auto get = entry("GET", "/v2/");
  CHECK(get.status == 200);
  CHECK(get.bytes == 2);
  CHECK(get.user == "-");
  CHECK(get.remote_addr == "127.0.0.1");
  CHECK(get.remote_port > 0);
  const auto missing = entry("GET", "/v2/missing/tags/list");
  CHECK(missing.status == 404);
  CHECK(missing.bytes > 0);
  const auto head = entry("HEAD", "/v2/");
  CHECK(head.status == 200);
  CHECK(head.bytes == 0);
  const std::string line = ocireg::FormatAccessLogLine(missing, ocireg::LogFormat::kText);
  CHECK(line.find(" 127.0.0.1 - \"GET /v2/missing/tags/list\" 404 ") != std::string::npos);
}

TEST_CASE("Access-log lines name the replica", "[integration][server]") {
  const auto log_format = GENERATE(ocireg::LogFormat::kText, ocireg::LogFormat::kJson);
  TestServer server(
      [](ocireg::Config& config, ocireg::ServerHooks&) { config.cluster.node_name = "replica-7"; });
  REQUIRE(server.Client()->Get("/v2/")->status == 200);
  auto log = server.access_log();
  for (int i = 0; i < 200 && log.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.access_log();
  }
  REQUIRE(log.size() == 1);
  CHECK(log[0].node == "replica-7");
  const std::string line = ocireg::FormatAccessLogLine(log[0], log_format);
  INFO(line);
  if (log_format == ocireg::LogFormat::kText) {
    CHECK(line.ends_with(" node=replica-7"));
    CHECK(line.find(" 127.0.0.1 - \"GET /v2/\" 200 ") != std::string::npos);
  } else {
    CHECK(line.find("\"node\":\"replica-7\"") != std::string::npos);
    CHECK(line.find("\"path\":\"/v2/\"") != std::string::npos);
  }
}

TEST_CASE("Without a node_name the access log names the host", "[integration][server]") {
  TestServer server;
  REQUIRE(server.config().cluster.node_name.empty());
  REQUIRE(server.Client()->Get("/v2/")->status == 200);
  auto log = server.access_log();
  for (int i = 0; i < 200 && log.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.access_log();
  }
  REQUIRE(log.size() == 1);
  CHECK(log[0].node == HostName());
  CHECK(ocireg::NodeName(server.config().cluster) == HostName());
}

TEST_CASE("Garbage collection runs periodically in the background", "[integration][server]") {
  TestServer server([](ocireg::Config& config, ocireg::ServerHooks&) {
    config.storage.gc_interval = std::chrono::seconds(1);
    config.storage.upload_ttl = std::chrono::seconds(1);
  });
  auto client = server.Client();
  auto post = client->Post("/v2/gc/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(post);
  const std::string location = post->get_header_value("Location");
  // Wait (bounded) for a collection that removed the idle session.
  bool removed = false;
  for (int i = 0; i < 300 && !removed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const auto& m : server.messages()) {
      removed |= m.find("garbage collection:") != std::string::npos &&
                 m.find(" 0 stale uploads") == std::string::npos;
    }
  }
  CHECK(removed);
  CHECK_OCI_ERROR(client->Get(location), 404, "BLOB_UPLOAD_UNKNOWN");
}
