// SPDX-License-Identifier: Apache-2.0
// Real clients against a TLS registry with htpasswd and LDAP logins: skopeo --creds and curl -u.
#include <set>
#include <string>

#include "auth_fixture.h"
#include "catch.h"

using namespace ocireg::testing;

namespace {

std::string Creds(const Login& login) { return login.user + ":" + login.password; }

}  // namespace

TEST_CASE("skopeo and curl log in with htpasswd and LDAP users over TLS", "[clients][ldap]") {
  Slapd slapd;
  TempDir dir;
  TestPki pki(dir.path());
  TestServer server([&](ocireg::Config& config, ocireg::ServerHooks&) {
    config.tls.certificate = pki.server_certificate();
    config.tls.private_key = pki.server_key();
    ConfigureLogins(config, dir.path(), slapd);
  });
  const std::string host = "127.0.0.1:" + std::to_string(server.port());
  const std::string certs = SkopeoCertDir(dir.path() / "certs", pki.ca());
  const std::string layout = MakeOciLayout(dir.path() / "layout");
  auto skopeo = [&](std::vector<std::string> args, const std::string& log) {
    args.insert(args.begin(), "skopeo");
    return RunStatus(args, dir.path() / (log + ".log"));
  };
  auto push = [&](const std::string& repo, const std::optional<Login>& login,
                  const std::string& log) {
    std::vector<std::string> args = {"copy", "--dest-cert-dir", certs};
    if (login) args.insert(args.end(), {"--dest-creds", Creds(*login)});
    args.insert(args.end(), {"oci:" + layout + ":v1", "docker://" + host + "/" + repo + ":v1"});
    return skopeo(args, log);
  };
  auto inspect = [&](const std::string& repo, const std::optional<Login>& login,
                     const std::string& log) {
    std::vector<std::string> args = {"inspect", "--cert-dir", certs};
    if (login) args.insert(args.end(), {"--creds", Creds(*login)});
    args.push_back("docker://" + host + "/" + repo + ":v1");
    return skopeo(args, log);
  };

  // An LDAP group member and an htpasswd admin push; a reader reads but cannot push.
  CHECK(push("team/app", kAlice, "push-alice") == 0);
  CHECK(push("public/base", kRoot, "push-root") == 0);
  CHECK(inspect("team/app", kUma, "inspect-uma") == 0);
  CHECK(push("team/other", kUma, "push-uma") != 0);
  CHECK(push("team/app", Login{"alice", "wrong"}, "push-wrong") != 0);
  // Anonymous skopeo follows the 401 of /v2/ and still reads what anonymous callers may.
  CHECK(inspect("public/base", std::nullopt, "inspect-anonymous") == 0);
  CHECK(inspect("team/app", std::nullopt, "inspect-anonymous-team") != 0);

  const std::string base = "https://" + host + "/v2/";
  CHECK(RunStatus({"curl", "-sf", "--cacert", pki.ca(), "-u", Creds(kAlice), base},
                  dir.path() / "curl-alice.log") == 0);
  CHECK(RunStatus(
            {"curl", "-sf", "--cacert", pki.ca(), "-u", Creds(kRoot), base + "team/app/tags/list"},
            dir.path() / "curl-root.log") == 0);
  CHECK(RunStatus({"curl", "-sf", "--cacert", pki.ca(), base}, dir.path() / "curl-none.log") != 0);
  std::set<std::string> users;
  for (const auto& entry : server.access_log()) users.insert(entry.user);
  for (const char* user : {"alice", "root", "uma", "-"}) CHECK(users.count(user) == 1);
}
