// SPDX-License-Identifier: Apache-2.0
// Access policies over HTTP: for each action and each kind of caller the exact status code, and
// the rules around them (the /v2/ challenge, catalog filtering, mounts, logs, slowdowns).
#include <httplib.h>

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "auth_fixture.h"
#include "catch.h"

using namespace ocireg::testing;

namespace {

constexpr const char* kRepo = "team/app";

std::unique_ptr<httplib::Client> ClientAs(const TestServer& server,
                                          const std::optional<Login>& login) {
  auto client = server.Client();
  if (login) client->set_basic_auth(login->user.c_str(), login->password.c_str());
  return client;
}

int StatusOf(const httplib::Result& res) { return res ? res->status : -1; }

// The four actions, each as one request against team/app (tag v1 exists before each).
enum class Act { kRead, kCreate, kUpdate, kDelete };

int Perform(httplib::Client& client, Act act, const std::string& unique) {
  const std::string base = std::string("/v2/") + kRepo;
  switch (act) {
    case Act::kRead:
      return StatusOf(client.Get(base + "/manifests/v1"));
    case Act::kCreate: {
      const std::string blob = "new blob " + unique;
      return StatusOf(client.Post(base + "/blobs/uploads/?digest=" + Sha256(blob), blob,
                                  "application/octet-stream"));
    }
    case Act::kUpdate: {
      // Moves v1 to another manifest over blobs the repository already has.
      auto current = client.Get(base + "/manifests/v1");
      if (!current || current->status != 200) return StatusOf(current);
      std::string moved = current->body;
      moved.insert(moved.size() - 1, R"(,"annotations":{"moved":")" + unique + R"("})");
      return StatusOf(client.Put(base + "/manifests/v1", moved, kOciManifestType));
    }
    case Act::kDelete:
      return StatusOf(client.Delete(base + "/manifests/v1"));
  }
  return -1;
}

struct Row {
  const char* name;
  std::optional<Login> login;
  int read, create, update, del;
};

}  // namespace

TEST_CASE("policy matrix: every action by every kind of caller", "[policy][ldap]") {
  Slapd slapd;
  std::optional<TestServer> server;
  TempDir dir;
  server.emplace([&](ocireg::Config& config, ocireg::ServerHooks&) {
    ConfigureLogins(config, dir.path(), slapd);
  });
  auto root = ClientAs(*server, kRoot);
  // Reading v1 as an update does needs read; anonymous and denied callers fail at that step
  // with the status their read gets, which is also what their update would get.
  const Row rows[] = {
      {"anonymous", std::nullopt, 401, 401, 401, 401},
      {"wrong password", Login{"uma", "not-her-password"}, 401, 401, 401, 401},
      {"unknown user", Login{"nobody", "x"}, 401, 401, 401, 401},
      {"user with read (htpasswd)", kUma, 200, 403, 403, 403},
      {"user with read+create (htpasswd)", kCody, 200, 201, 403, 403},
      {"group member (LDAP developers)", kAlice, 200, 201, 201, 403},
      {"admin (htpasswd)", kRoot, 200, 201, 201, 202},
      {"admin by group (LDAP admins)", kDave, 200, 201, 201, 202},
      {"denied user (htpasswd, no rule)", kMallory, 403, 403, 403, 403},
      {"denied user (LDAP, no group)", kCarol, 403, 403, 403, 403},
  };
  int cell = 0;
  for (const Row& row : rows) {
    for (auto [act, expected] :
         {std::pair{Act::kRead, row.read}, std::pair{Act::kCreate, row.create},
          std::pair{Act::kUpdate, row.update}, std::pair{Act::kDelete, row.del}}) {
      PushImage(*root, kRepo, "v1");  // the same state before every cell
      auto client = ClientAs(*server, row.login);
      INFO(row.name << ", action " << static_cast<int>(act));
      CHECK(Perform(*client, act, std::to_string(++cell)) == expected);
    }
  }
}

TEST_CASE("policy: create and update are told apart by what a tag pointed to", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kRoot, kCody});
    config.access = TestAccess();
  });
  auto root = ClientAs(server, kRoot);
  auto cody = ClientAs(server, kCody);
  const std::string digest = PushImage(*root, kRepo, "v1");
  auto manifest = root->Get(std::string("/v2/") + kRepo + "/manifests/v1");
  REQUIRE(manifest);
  // Pushing the same manifest to its own tag again moves nothing: create suffices (CI retries).
  CHECK(StatusOf(cody->Put(std::string("/v2/") + kRepo + "/manifests/v1", manifest->body,
                           kOciManifestType)) == 201);
  // A new tag, by path or by ?tag=, is new content.
  CHECK(StatusOf(cody->Put(std::string("/v2/") + kRepo + "/manifests/v2", manifest->body,
                           kOciManifestType)) == 201);
  CHECK(StatusOf(cody->Put(std::string("/v2/") + kRepo + "/manifests/" + digest + "?tag=v3",
                           manifest->body, kOciManifestType)) == 201);
  // Moving v1, by path or by ?tag=, needs update.
  std::string other = manifest->body;
  other.insert(other.size() - 1, R"(,"annotations":{"x":"y"})");
  CHECK(StatusOf(cody->Put(std::string("/v2/") + kRepo + "/manifests/v1", other,
                           kOciManifestType)) == 403);
  CHECK(StatusOf(cody->Put(std::string("/v2/") + kRepo + "/manifests/" + Sha256(other) + "?tag=v1",
                           other, kOciManifestType)) == 403);
  // Nothing moved.
  auto v1 = root->Head(std::string("/v2/") + kRepo + "/manifests/v1");
  REQUIRE(v1);
  CHECK(v1->get_header_value("Docker-Content-Digest") == digest);
}

TEST_CASE("policy: /v2/ challenges anonymous callers when passwords can log in", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kRoot, kUma});
    config.auth.realm = "my \"registry\"";
    config.access = TestAccess();
  });
  auto anonymous = server.Client();
  auto challenged = anonymous->Get("/v2/");
  REQUIRE(challenged);
  CHECK(challenged->status == 401);
  CHECK(challenged->get_header_value("WWW-Authenticate") == R"(Basic realm="my \"registry\"")");
  CHECK(challenged->body.find("UNAUTHORIZED") != std::string::npos);
  CHECK(StatusOf(ClientAs(server, kUma)->Get("/v2/")) == 200);
  auto wrong = ClientAs(server, Login{"uma", "wrong"})->Get("/v2/");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(wrong->has_header("WWW-Authenticate"));
  // An empty Basic pair (what a challenged client without credentials may send) is anonymous.
  CHECK(StatusOf(ClientAs(server, Login{"", ""})->Get("/v2/public/x/tags/list")) == 404);
  CHECK(StatusOf(ClientAs(server, Login{"", ""})->Get("/v2/team/x/tags/list")) == 401);
}

TEST_CASE("policy: the catalog lists only readable repositories", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kRoot, kUma, kMallory});
    config.access = TestAccess();
  });
  auto root = ClientAs(server, kRoot);
  for (const char* repo : {"public/base", "secret/keys", "team/app"}) PushImage(*root, repo, "v1");
  auto catalog = [&](const std::optional<Login>& login) {
    auto res = ClientAs(server, login)->Get("/v2/_catalog");
    return res ? res->body : std::string("no response");
  };
  CHECK(catalog(kRoot) == R"({"repositories":["public/base","secret/keys","team/app"]})");
  CHECK(catalog(kUma) == R"({"repositories":["public/base","team/app"]})");
  CHECK(catalog(kMallory) == R"({"repositories":["public/base"]})");
  CHECK(catalog(std::nullopt) == R"({"repositories":["public/base"]})");
}

TEST_CASE("policy: catalog pages and their Link never name an unreadable repository", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kRoot});
    config.access = TestAccess();
  });
  // Hidden names before, between and after the two that anonymous callers may read.
  const std::vector<std::string> hidden = {"a/hidden", "public-x/hidden", "public0/hidden",
                                           "secret/keys", "zz/hidden"};
  const std::vector<std::string> readable = {"public/b", "public/d"};
  auto root = ClientAs(server, kRoot);
  for (const auto& repo : hidden) PushImage(*root, repo, "v1");
  for (const auto& repo : readable) PushImage(*root, repo, "v1");

  auto anonymous = server.Client();
  std::vector<std::string> bodies;
  std::string path = "/v2/_catalog?n=1";
  for (int page = 0; page < 20 && !path.empty(); ++page) {
    auto res = anonymous->Get(path);
    REQUIRE(res);
    REQUIRE(res->status == 200);
    const std::string link = res->get_header_value("Link");
    INFO(path << " -> " << res->body << " Link: " << link);
    for (const auto& name : hidden) {
      CHECK(res->body.find(name) == std::string::npos);
      CHECK(link.find(name) == std::string::npos);
    }
    bodies.push_back(res->body);
    path = link.empty() ? "" : link.substr(1, link.find('>') - 1);
  }
  // Every readable name is reached, one a page, and the last page has no Link.
  CHECK(bodies == std::vector<std::string>{R"({"repositories":["public/b"]})",
                                           R"({"repositories":["public/d"]})"});
  CHECK(StatusOf(anonymous->Get("/v2/_catalog?n=1&last=public/d")) == 200);
  CHECK(anonymous->Get("/v2/_catalog?n=1&last=public/d")->body == R"({"repositories":[]})");
}

TEST_CASE("policy: a mount needs read on the source and create on the target", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kRoot, kUma, kCody});
    config.access = TestAccess();
  });
  auto root = ClientAs(server, kRoot);
  const std::string secret_blob = PushBlob(*root, "secret/keys", "secret layer");
  const std::string team_blob = PushBlob(*root, "team/base", "team layer");
  auto cody = ClientAs(server, kCody);
  auto mount = [&](httplib::Client& client, const std::string& digest, const std::string& from) {
    std::string path = "/v2/team/app/blobs/uploads/?mount=" + digest;
    if (!from.empty()) path += "&from=" + from;
    return StatusOf(client.Post(path, "", "application/octet-stream"));
  };
  // Readable source: mounted. Unreadable source, named or searched: a plain upload session.
  CHECK(mount(*cody, team_blob, "team/base") == 201);
  CHECK(mount(*cody, secret_blob, "secret/keys") == 202);
  CHECK(mount(*cody, secret_blob, "") == 202);
  CHECK(StatusOf(cody->Head("/v2/team/app/blobs/" + secret_blob)) == 404);
  // Read on the source without create on the target: denied outright.
  CHECK(mount(*ClientAs(server, kUma), team_blob, "team/base") == 403);
}

TEST_CASE("policy: logs name the user and never hold a password", "[policy][ldap]") {
  Slapd slapd;
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    ConfigureLogins(config, dir.path(), slapd);
  });
  CHECK(StatusOf(ClientAs(server, kAlice)->Get("/v2/team/none/tags/list")) == 404);
  CHECK(StatusOf(ClientAs(server, kUma)->Get("/v2/team/none/tags/list")) == 404);
  CHECK(StatusOf(ClientAs(server, Login{"alice", "wrong-pw"})->Get("/v2/")) == 401);
  CHECK(StatusOf(server.Client()->Get("/v2/")) == 401);
  auto log = WaitForAccessLog(server, 4);
  REQUIRE(log.size() == 4);
  // Each client has its own connection and worker, so the lines may come in any order.
  std::multiset<std::string> users;
  for (const auto& entry : log) users.insert(entry.user);
  CHECK(users == std::multiset<std::string>{"alice", "uma", "-", "-"});
  for (const std::string& line : server.messages()) CHECK(line.find("-pw") == std::string::npos);
  for (const auto& entry : log) {
    CHECK(ocireg::FormatAccessLogLine(entry, ocireg::LogFormat::kJson).find("-pw") ==
          std::string::npos);
  }
}

TEST_CASE("policy: repeated failed logins of one user get 429 with Retry-After", "[policy]") {
  TempDir dir;
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.auth.htpasswd.file = MakeHtpasswd(dir.path() / "htpasswd", {kUma, kCody});
    config.auth.failure_limit = 2;
    config.auth.failure_delay = std::chrono::seconds(1);
    config.auth.failure_delay_max = std::chrono::seconds(2);
  });
  auto guesser = ClientAs(server, Login{"uma", "guess"});
  CHECK(StatusOf(guesser->Get("/v2/")) == 401);
  CHECK(StatusOf(guesser->Get("/v2/")) == 401);
  // Past the limit the attempt is refused unchecked, at once, with the wait in seconds.
  auto throttled = guesser->Get("/v2/");
  REQUIRE(throttled);
  CHECK(throttled->status == 429);
  CHECK(throttled->get_header_value("Retry-After") == "1");
  // The count is per user as well as per address: another user logs in from the same address.
  CHECK(StatusOf(ClientAs(server, kCody)->Get("/v2/")) == 200);
  // The right password works once the client has waited as told (a few rounds at most).
  int status = 0;
  for (int round = 0; round < 5 && status != 200; ++round) {
    auto res = ClientAs(server, kUma)->Get("/v2/");
    REQUIRE(res);
    status = res->status;
    if (status == 429) {
      std::this_thread::sleep_for(
          std::chrono::seconds(std::stoi(res->get_header_value("Retry-After"))));
    }
  }
  CHECK(status == 200);
}
