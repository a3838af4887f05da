// SPDX-License-Identifier: Apache-2.0
// RegistryServer::ReloadAccess and Reload: logins and access rules swapped while the server runs,
// without dropping connections; a broken htpasswd file keeps the old state; Reload reports what
// needs a restart and tracks the configuration in effect.
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "catch.h"
#include "ocireg/auth/access.h"
#include "raw_http.h"
#include "status_macros.h"
#include "test_server.h"

using ocireg::testing::RawConnection;
using ocireg::testing::TempDir;
using ocireg::testing::TestServer;

namespace {

// bcrypt entries as `htpasswd -nbB -C 4 user password` writes them.
constexpr const char* kAliceEntry =
    "alice:$2y$04$Yq20Y7XS11t72mL/SX3giOadAqqCt1suoAxwGFW7/EsjygZ.m26Hu";
constexpr const char* kBobEntry =
    "bob:$2y$04$nn6A6qKfuHMWEmVV3SKX5e0zZjlGE3gS02UoWlo.imxc3pAtSZSHC";
// base64 of "alice:alice-pw" and "bob:bob-pw".
constexpr const char* kAliceBasic = "Basic YWxpY2U6YWxpY2UtcHc=";
constexpr const char* kBobBasic = "Basic Ym9iOmJvYi1wdw==";

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// GET /v2/ on `connection` with an Authorization header; the status, or 0 when the connection
// gave no answer.
int GetBase(RawConnection& connection, const std::string& authorization) {
  if (!connection.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nAuthorization: " + authorization +
                       "\r\n\r\n")) {
    return 0;
  }
  auto response = connection.ReadResponse();
  return response ? response->status : 0;
}

// GET /v2/ on a fresh connection as `user`.
int GetBaseAs(TestServer& server, const std::string& user, const std::string& password) {
  auto client = server.Client();
  client->set_basic_auth(user.c_str(), password.c_str());
  auto res = client->Get("/v2/");
  return res ? res->status : 0;
}

// A server whose config names the htpasswd file `file`; connections idle long enough that the
// keep-alive connection of a test outlives a reload.
TestServer::Adjust WithHtpasswd(const std::filesystem::path& file,
                                std::optional<ocireg::AccessConfig> access = std::nullopt) {
  return [file, access](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = file.string();
    config.access = access;
    config.limits.keep_alive_timeout = std::chrono::seconds(60);
  };
}

}  // namespace

TEST_CASE("A reload re-reads the htpasswd file; a keep-alive connection carries on across it",
          "[integration][reload]") {
  TempDir files;
  const auto htpasswd = files.path() / "htpasswd";
  WriteFile(htpasswd, std::string(kAliceEntry) + "\n");
  TestServer server(WithHtpasswd(htpasswd));
  RawConnection connection(server.port());
  REQUIRE(GetBase(connection, kAliceBasic) == 200);
  REQUIRE(GetBase(connection, kBobBasic) == 401);

  WriteFile(htpasswd, std::string(kAliceEntry) + "\n" + kBobEntry + "\n");
  REQUIRE_OK(server.server().ReloadAccess(server.config()));

  // The connection opened before the reload is served with the new users.
  CHECK(GetBase(connection, kBobBasic) == 200);
  CHECK(GetBase(connection, kAliceBasic) == 200);
  CHECK(GetBaseAs(server, "bob", "bob-pw") == 200);
  CHECK(GetBaseAs(server, "alice", "alice-pw") == 200);
  CHECK(GetBaseAs(server, "bob", "wrong") == 401);

  SECTION("a broken htpasswd file fails the reload and keeps the users") {
    WriteFile(htpasswd,
              std::string(kAliceEntry) + "\ncarol:$apr1$abcdefgh$0123456789abcdefghijkl\n");
    ocireg::Status reloaded = server.server().ReloadAccess(server.config());
    CHECK(reloaded.code() == ocireg::ErrorCode::kInvalidArgument);
    CHECK(reloaded.message().find(htpasswd.string()) != std::string::npos);
    CHECK(GetBase(connection, kBobBasic) == 200);
    CHECK(GetBaseAs(server, "alice", "alice-pw") == 200);
    CHECK(GetBaseAs(server, "bob", "bob-pw") == 200);
  }
  SECTION("a missing htpasswd file fails the reload and keeps the users") {
    std::filesystem::remove(htpasswd);
    CHECK_FALSE(server.server().ReloadAccess(server.config()).ok());
    CHECK(GetBase(connection, kBobBasic) == 200);
  }
  SECTION("a user removed from the file can no longer log in") {
    WriteFile(htpasswd, std::string(kBobEntry) + "\n");
    REQUIRE_OK(server.server().ReloadAccess(server.config()));
    CHECK(GetBase(connection, kAliceBasic) == 401);
    CHECK(GetBase(connection, kBobBasic) == 200);
  }
}

TEST_CASE("A reload applies changed access rules", "[integration][reload]") {
  TempDir files;
  const auto htpasswd = files.path() / "htpasswd";
  WriteFile(htpasswd, std::string(kAliceEntry) + "\n");
  ocireg::AccessConfig read_only;
  read_only.policy.push_back({{"team/**"}, {"alice"}, {}, {ocireg::Action::kRead}});
  TestServer server(WithHtpasswd(htpasswd, read_only));
  auto client = server.Client();
  client->set_basic_auth("alice", "alice-pw");
  auto before = client->Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(before);
  CHECK(before->status == 403);

  ocireg::Config next = server.config();
  next.access = read_only;
  next.access->policy.front().actions = {ocireg::Action::kRead, ocireg::Action::kCreate};
  next.access->anonymous.push_back({{"public/**"}, {}, {}, {ocireg::Action::kRead}});
  REQUIRE_OK(server.server().ReloadAccess(next));

  auto after = client->Post("/v2/team/app/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(after);
  CHECK(after->status == 202);
  auto anonymous = server.Client()->Get("/v2/public/app/tags/list");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 404);  // allowed to look; the repository does not exist
  auto elsewhere = server.Client()->Get("/v2/team/app/tags/list");
  REQUIRE(elsewhere);
  CHECK(elsewhere->status == 401);
}

TEST_CASE("A reload can turn logins on for a server started without any", "[integration][reload]") {
  TempDir files;
  const auto htpasswd = files.path() / "htpasswd";
  WriteFile(htpasswd, std::string(kAliceEntry) + "\n");
  TestServer server;
  auto open = server.Client()->Get("/v2/");
  REQUIRE(open);
  CHECK(open->status == 200);

  ocireg::Config next = server.config();
  next.auth.htpasswd.file = htpasswd.string();
  REQUIRE_OK(server.server().ReloadAccess(next));
  CHECK(server.server().running_config().auth.htpasswd.file == htpasswd.string());
  auto anonymous = server.Client()->Get("/v2/");
  REQUIRE(anonymous);
  CHECK(anonymous->status == 401);
  CHECK(anonymous->get_header_value("WWW-Authenticate") == "Basic realm=\"ocireg\"");
  CHECK(GetBaseAs(server, "alice", "alice-pw") == 200);
}

TEST_CASE("Reload applies the logins, reports restart-only sections and tracks what is in effect",
          "[integration][reload]") {
  TempDir files;
  const auto htpasswd = files.path() / "htpasswd";
  WriteFile(htpasswd, std::string(kAliceEntry) + "\n");
  TestServer server(WithHtpasswd(htpasswd));
  REQUIRE(server.server().running_config() == server.config());

  ocireg::Config next = server.config();
  const auto other = files.path() / "other.htpasswd";
  WriteFile(other, std::string(kBobEntry) + "\n");
  next.auth.htpasswd.file = other.string();
  next.listen.port = 1;                          // restart-only: reported, not applied
  next.metrics.enabled = !next.metrics.enabled;  // likewise
  ocireg::ReloadResult result = server.server().Reload(next);
  CHECK(result.restart_only == std::vector<std::string>{"listen", "metrics"});
  CHECK_OK(result.access);
  CHECK_OK(result.tls);
  CHECK_FALSE(result.tls_reloaded);  // plain HTTP: no certificate to swap
  CHECK(GetBaseAs(server, "bob", "bob-pw") == 200);
  CHECK(GetBaseAs(server, "alice", "alice-pw") == 401);
  const ocireg::Config running = server.server().running_config();
  CHECK(running.auth.htpasswd.file == other.string());
  CHECK(running.listen.port == server.config().listen.port);
  CHECK(running.metrics == server.config().metrics);

  SECTION("a broken login file keeps the logins and the configuration in effect") {
    ocireg::Config broken = next;
    broken.auth.htpasswd.file = (files.path() / "missing").string();
    result = server.server().Reload(broken);
    CHECK_FALSE(result.access.ok());
    CHECK(server.server().running_config().auth.htpasswd.file == other.string());
    CHECK(GetBaseAs(server, "bob", "bob-pw") == 200);
  }
}
