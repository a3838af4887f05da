// SPDX-License-Identifier: Apache-2.0
// Tests of MatchRepositoryPattern and AccessPolicy: globs, the implicit policies, the union of
// rules, admins, and which callers get kUnauthorized rather than kDenied.
#include "ocireg/auth/policy.h"

#include <array>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::AccessConfig;
using ocireg::AccessPolicy;
using ocireg::AccessRule;
using ocireg::Action;
using ocireg::ActionSet;
using ocireg::Caller;
using ocireg::Config;
using ocireg::ErrorCode;
using ocireg::Identity;
using ocireg::MatchRepositoryPattern;
using Strings = std::vector<std::string>;

namespace {

constexpr std::array<Action, 4> kActions = {Action::kRead, Action::kCreate, Action::kUpdate,
                                            Action::kDelete};

Caller Anonymous() { return Caller{std::nullopt, "192.0.2.1"}; }

Caller User(std::string name, Strings groups = {}) {
  return Caller{Identity{std::move(name), std::move(groups)}, "192.0.2.2"};
}

AccessRule Rule(Strings repositories, ActionSet actions, Strings users = {}, Strings groups = {}) {
  return AccessRule{std::move(repositories), std::move(users), std::move(groups), actions};
}

ErrorCode CodeOf(const AccessPolicy& policy, const Caller& caller, std::string_view repository,
                 Action action) {
  return policy.Check(caller, repository, action).code();
}

}  // namespace

TEST_CASE("literal patterns match only themselves", "[policy]") {
  CHECK(MatchRepositoryPattern("library/ubuntu", "library/ubuntu"));
  CHECK(!MatchRepositoryPattern("library/ubuntu", "library/ubuntu2"));
  CHECK(!MatchRepositoryPattern("library/ubuntu", "library/ubunt"));
  CHECK(!MatchRepositoryPattern("library/ubuntu", "Library/ubuntu"));
  CHECK(!MatchRepositoryPattern("library/ubuntu", "x/library/ubuntu"));
  CHECK(MatchRepositoryPattern("a.b-c_d", "a.b-c_d"));
}

TEST_CASE("* matches within one path component", "[policy]") {
  CHECK(MatchRepositoryPattern("*", "alpine"));
  CHECK(MatchRepositoryPattern("*", ""));
  CHECK(!MatchRepositoryPattern("*", "library/alpine"));
  CHECK(MatchRepositoryPattern("team/*", "team/app"));
  CHECK(MatchRepositoryPattern("team/*", "team/"));
  CHECK(!MatchRepositoryPattern("team/*", "team/app/sub"));
  CHECK(!MatchRepositoryPattern("team/*", "team"));
  CHECK(MatchRepositoryPattern("*/app", "team/app"));
  CHECK(!MatchRepositoryPattern("*/app", "a/b/app"));
  CHECK(MatchRepositoryPattern("team/app-*", "team/app-web"));
  CHECK(MatchRepositoryPattern("team/app-*", "team/app-"));
  CHECK(!MatchRepositoryPattern("team/app-*", "team/app"));
}

TEST_CASE("** matches across path components", "[policy]") {
  CHECK(MatchRepositoryPattern("**", "a"));
  CHECK(MatchRepositoryPattern("**", "a/b/c"));
  CHECK(MatchRepositoryPattern("**", ""));
  CHECK(MatchRepositoryPattern("team/**", "team/a"));
  CHECK(MatchRepositoryPattern("team/**", "team/a/b"));
  CHECK(!MatchRepositoryPattern("team/**", "team"));
  CHECK(!MatchRepositoryPattern("team/**", "teams/a"));
  CHECK(!MatchRepositoryPattern("team/**", "other/team/a"));
  CHECK(MatchRepositoryPattern("**/app", "a/b/app"));
  CHECK(MatchRepositoryPattern("**/app", "x/app"));
  CHECK(!MatchRepositoryPattern("**/app", "app"));
  CHECK(MatchRepositoryPattern("a/**/z", "a/b/c/z"));
  CHECK(MatchRepositoryPattern("a/**/z", "a/b/z"));
  CHECK(!MatchRepositoryPattern("a/**/z", "a/z"));
  CHECK(MatchRepositoryPattern("a**", "abc/def"));
}

TEST_CASE("? matches one character other than a slash", "[policy]") {
  CHECK(MatchRepositoryPattern("app?", "app1"));
  CHECK(!MatchRepositoryPattern("app?", "app"));
  CHECK(!MatchRepositoryPattern("app?", "app12"));
  CHECK(!MatchRepositoryPattern("a?b", "a/b"));
  CHECK(MatchRepositoryPattern("a?/?d", "ab/cd"));
  CHECK(!MatchRepositoryPattern("?", ""));
}

TEST_CASE("several stars in one pattern", "[policy]") {
  CHECK(MatchRepositoryPattern("*-*-*", "a-b-c"));
  CHECK(MatchRepositoryPattern("*-*-*", "--"));
  CHECK(MatchRepositoryPattern("*-*-*", "a-b-c-d"));
  CHECK(!MatchRepositoryPattern("*-*-*", "a-b"));
  CHECK(MatchRepositoryPattern("*/*", "a/b"));
  CHECK(!MatchRepositoryPattern("*/*", "a/b/c"));
  CHECK(MatchRepositoryPattern("**/*", "a/b/c"));
  CHECK(!MatchRepositoryPattern("**/*", "abc"));
  CHECK(MatchRepositoryPattern("***", "a/b"));
  CHECK(MatchRepositoryPattern("*a*b*", "xxaxxbxx"));
  CHECK(!MatchRepositoryPattern("*a*b*", "xxbxxaxx"));
  CHECK(MatchRepositoryPattern("*a*b*", "ab"));
}

TEST_CASE("empty patterns and names", "[policy]") {
  CHECK(MatchRepositoryPattern("", ""));
  CHECK(!MatchRepositoryPattern("", "a"));
  CHECK(!MatchRepositoryPattern("a", ""));
  CHECK(!MatchRepositoryPattern("a/**", ""));
}

TEST_CASE("patterns full of stars against long names still return", "[policy]") {
  // Backtracking matchers take exponential time on these; the answer must simply come back.
  const std::string name(255, 'a');
  const std::string almost = std::string(254, 'a') + "b";
  std::string stars;
  for (int i = 0; i < 40; ++i) stars += "*a";
  CHECK(MatchRepositoryPattern(stars, name));
  CHECK(!MatchRepositoryPattern(stars + "c", name));
  CHECK(!MatchRepositoryPattern(stars + "*c", almost));
  std::string double_stars;
  for (int i = 0; i < 40; ++i) double_stars += "**a";
  CHECK(MatchRepositoryPattern(double_stars, name));
  CHECK(!MatchRepositoryPattern(double_stars + "**c", almost));
  std::string slashed;
  for (int i = 0; i < 127; ++i) slashed += "a/";
  slashed += "a";  // 255 characters, 128 components
  CHECK(MatchRepositoryPattern(double_stars, slashed));
  CHECK(!MatchRepositoryPattern(stars, slashed));
}

TEST_CASE("without [access], no login method means everyone may do everything", "[policy]") {
  const AccessPolicy policy = AccessPolicy::FromConfig(Config{});
  for (Action action : kActions) {
    INFO(ocireg::ActionName(action));
    CHECK_OK(policy.Check(Anonymous(), "any/repo", action));
    CHECK_OK(policy.Check(User("alice"), "any/repo", action));
  }
  CHECK(policy.Allowed(Anonymous(), "x") == ActionSet::All());
  CHECK_OK(policy.Check(Anonymous(), "", Action::kRead));
}

TEST_CASE("without [access], any login method closes the registry to anonymous callers",
          "[policy]") {
  Config config;
  const std::string method = GENERATE("htpasswd", "ldap", "client_ca");
  bool password_login = true;
  if (method == "htpasswd") config.auth.htpasswd.file = "/etc/ocireg/htpasswd";
  if (method == "ldap") config.auth.ldap.url = "ldap://ldap.example.com";
  if (method == "client_ca") {
    config.tls.certificate = "/etc/ocireg/server.crt";
    config.tls.private_key = "/etc/ocireg/server.key";
    config.tls.client_ca = "/etc/ocireg/ca.crt";
    password_login = false;
  }
  INFO(method);
  const AccessPolicy policy = AccessPolicy::FromConfig(config);
  for (Action action : kActions) {
    INFO(ocireg::ActionName(action));
    CHECK(CodeOf(policy, Anonymous(), "any/repo", action) == ErrorCode::kUnauthorized);
    CHECK_OK(policy.Check(User("alice"), "any/repo", action));
  }
  CHECK(policy.Allowed(Anonymous(), "any/repo").empty());
  CHECK(policy.Allowed(User("bob", {"g"}), "a/b/c") == ActionSet::All());
  // GET /v2/ asks for credentials only when a client can send a password.
  CHECK(CodeOf(policy, Anonymous(), "", Action::kRead) ==
        (password_login ? ErrorCode::kUnauthorized : ErrorCode::kOk));
  CHECK_OK(policy.Check(User("alice"), "", Action::kRead));
}

TEST_CASE("an [access] table replaces the implicit policy", "[policy]") {
  Config config;
  config.access.emplace();  // empty: it grants nothing, to anybody
  const AccessPolicy closed = AccessPolicy::FromConfig(config);
  CHECK(closed.Allowed(Anonymous(), "a").empty());
  CHECK(closed.Allowed(User("alice"), "a").empty());
  CHECK(CodeOf(closed, Anonymous(), "a", Action::kRead) == ErrorCode::kUnauthorized);
  CHECK(CodeOf(closed, User("alice"), "a", Action::kRead) == ErrorCode::kDenied);
  CHECK_OK(closed.Check(Anonymous(), "", Action::kRead));  // no password to ask for

  config.auth.htpasswd.file = "/etc/ocireg/htpasswd";
  const AccessPolicy with_login = AccessPolicy::FromConfig(config);
  CHECK(CodeOf(with_login, Anonymous(), "", Action::kRead) == ErrorCode::kUnauthorized);
  CHECK(with_login.Allowed(User("alice"), "a").empty());
}

TEST_CASE("rights are the union of anonymous, authenticated and policy rules", "[policy]") {
  AccessConfig access;
  access.anonymous = {Rule({"public/**"}, {Action::kRead})};
  access.authenticated = {Rule({"**"}, {Action::kRead}),
                          Rule({"scratch/*"}, {Action::kCreate, Action::kDelete})};
  access.policy = {Rule({"public/**"}, {Action::kCreate}, {"alice"}),
                   Rule({"public/**", "team/**"}, {Action::kUpdate}, {}, {"team"}),
                   Rule({"team/**"}, {Action::kCreate}, {"alice"}, {"ops"})};
  const AccessPolicy policy(access, true);

  CHECK(policy.Allowed(Anonymous(), "public/a") == ActionSet{Action::kRead});
  CHECK(policy.Allowed(Anonymous(), "team/a").empty());
  CHECK(policy.Allowed(User("nobody"), "public/a") == ActionSet{Action::kRead});
  CHECK(policy.Allowed(User("nobody"), "scratch/x") ==
        ActionSet({Action::kRead, Action::kCreate, Action::kDelete}));
  CHECK(policy.Allowed(User("nobody"), "scratch/x/y") == ActionSet{Action::kRead});
  CHECK(policy.Allowed(User("alice"), "public/a") == ActionSet({Action::kRead, Action::kCreate}));
  CHECK(policy.Allowed(User("alice"), "team/a") == ActionSet({Action::kRead, Action::kCreate}));
  CHECK(policy.Allowed(User("alice", {"team"}), "team/a") ==
        ActionSet({Action::kRead, Action::kCreate, Action::kUpdate}));
  CHECK(policy.Allowed(User("bob", {"x", "team"}), "public/a") ==
        ActionSet({Action::kRead, Action::kUpdate}));
  CHECK(policy.Allowed(User("carol", {"ops"}), "team/a") ==
        ActionSet({Action::kRead, Action::kCreate}));
  // A user named like a group is not a member of it, and the reverse.
  CHECK(policy.Allowed(User("team"), "team/a") == ActionSet{Action::kRead});
  CHECK(policy.Allowed(User("x", {"alice"}), "team/a") == ActionSet{Action::kRead});
}

TEST_CASE("admins and admin groups may do everything everywhere", "[policy]") {
  AccessConfig access;
  access.admins = {"root"};
  access.admin_groups = {"registry-admins"};
  access.policy = {Rule({"team/**"}, {Action::kRead}, {"alice"})};
  const AccessPolicy policy(access, true);
  CHECK(policy.Allowed(User("root"), "any/where") == ActionSet::All());
  CHECK(policy.Allowed(User("dave", {"dev", "registry-admins"}), "x") == ActionSet::All());
  CHECK(policy.Allowed(User("alice"), "team/a") == ActionSet{Action::kRead});
  CHECK(policy.Allowed(User("alice", {"root"}), "other").empty());
  CHECK(policy.Allowed(User("registry-admins"), "other").empty());
  CHECK(policy.Allowed(Anonymous(), "other").empty());
}

TEST_CASE("anonymous callers are told to log in, users are denied", "[policy]") {
  AccessConfig access;
  access.authenticated = {Rule({"**"}, {Action::kRead})};
  const AccessPolicy policy(access, true);
  const ocireg::Status anonymous = policy.Check(Anonymous(), "a", Action::kRead);
  CHECK(anonymous.code() == ErrorCode::kUnauthorized);
  const ocireg::Status user = policy.Check(User("alice"), "a", Action::kDelete);
  CHECK(user.code() == ErrorCode::kDenied);
  CHECK(user.message().find("delete") != std::string::npos);
  CHECK_OK(policy.Check(User("alice"), "a", Action::kRead));
}

TEST_CASE("one access matrix: actions by kinds of callers", "[policy]") {
  AccessConfig access;
  access.admins = {"root"};
  access.admin_groups = {"admins"};
  access.anonymous = {Rule({"public/**"}, {Action::kRead})};
  access.authenticated = {Rule({"shared/**"}, {Action::kRead})};
  access.policy = {Rule({"team/**"}, {Action::kRead, Action::kCreate}, {"alice"}),
                   Rule({"team/**"}, {Action::kRead, Action::kUpdate}, {}, {"team"})};
  const AccessPolicy policy(access, true);

  constexpr ErrorCode ok = ErrorCode::kOk;
  constexpr ErrorCode login = ErrorCode::kUnauthorized;
  constexpr ErrorCode denied = ErrorCode::kDenied;
  struct Row {
    const char* who;
    Caller caller;
    std::string repository;
    std::array<ErrorCode, 4> want;  // read, create, update, delete
  };
  const std::vector<Row> rows = {
      {"anonymous", Anonymous(), "team/app", {login, login, login, login}},
      {"anonymous", Anonymous(), "public/app", {ok, login, login, login}},
      {"user", User("alice"), "team/app", {ok, ok, denied, denied}},
      {"user", User("alice"), "public/app", {ok, denied, denied, denied}},
      {"group member", User("bob", {"team"}), "team/app", {ok, denied, ok, denied}},
      {"group member", User("bob", {"team"}), "shared/app", {ok, denied, denied, denied}},
      {"admin", User("root"), "team/app", {ok, ok, ok, ok}},
      {"admin group member", User("carol", {"admins"}), "elsewhere", {ok, ok, ok, ok}},
      {"denied user", User("eve", {"guests"}), "team/app", {denied, denied, denied, denied}},
  };
  for (const Row& row : rows) {
    for (size_t i = 0; i < kActions.size(); ++i) {
      INFO(row.who << " " << row.caller.user() << " " << ocireg::ActionName(kActions[i]) << " "
                   << row.repository);
      CHECK(CodeOf(policy, row.caller, row.repository, kActions[i]) == row.want[i]);
    }
  }
}

TEST_CASE("AsAuthorizeFn answers as Check does", "[policy]") {
  AccessConfig access;
  access.anonymous = {Rule({"public/*"}, {Action::kRead})};
  access.policy = {Rule({"team/**"}, ActionSet::All(), {}, {"team"})};
  const AccessPolicy policy(access, true);
  const ocireg::AuthorizeFn authorize = policy.AsAuthorizeFn();
  const std::vector<Caller> callers = {Anonymous(), User("alice"), User("bob", {"team"})};
  for (const Caller& caller : callers) {
    for (std::string_view repository : {"", "public/a", "public/a/b", "team/x", "other"}) {
      for (Action action : kActions) {
        INFO(caller.user() << " " << repository << " " << ocireg::ActionName(action));
        const ocireg::Status want = policy.Check(caller, repository, action);
        const ocireg::Status got = authorize(caller, repository, action);
        CHECK(got.code() == want.code());
        CHECK(got.message() == want.message());
      }
    }
  }
}
