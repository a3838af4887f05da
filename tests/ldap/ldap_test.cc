// SPDX-License-Identifier: Apache-2.0
// LdapAuthenticator against a real slapd (tests/support/slapd.h): logins, groups from memberOf and
// from a group search, filter injection, StartTLS and ldaps://, unreachable servers, the cache;
// and the real ocireg-serve, which maps the OpenLDAP client library only when LDAP is configured.
#include "ocireg/auth/ldap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "auth/ldap_dn.h"
#include "auth/ldap_library.h"
#include "auth/ldap_login_cache.h"
#include "catch.h"
#include "process.h"
#include "raw_http.h"
#include "serve_process.h"
#include "slapd.h"
#include "status_macros.h"
#include "temp_dir.h"

namespace ocireg {
namespace {

using testing::Slapd;

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t group = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) group |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(group >> 18) & 63];
    out += kAlphabet[(group >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(group >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[group & 63] : '=';
  }
  return out;
}

std::string BasicHeader(std::string_view user, std::string_view password) {
  return "Basic " + Base64(std::string(user) + ":" + std::string(password));
}

Result<std::optional<Identity>> Login(Authenticator& authenticator, std::string_view user,
                                      std::string_view password) {
  const std::string header = BasicHeader(user, password);
  Credentials credentials;
  credentials.authorization = header;
  credentials.remote_addr = "127.0.0.1";
  return authenticator.Authenticate(credentials);
}

std::unique_ptr<LdapAuthenticator> Make(const LdapConfig& config) {
  auto authenticator = LdapAuthenticator::Create(config);
  REQUIRE_OK(authenticator);
  return std::move(*authenticator);
}

// The groups of a successful login; fails the test otherwise.
std::vector<std::string> GroupsOf(Authenticator& authenticator, std::string_view user,
                                  std::string_view password) {
  auto result = Login(authenticator, user, password);
  REQUIRE_OK(result);
  REQUIRE(result->has_value());
  CHECK((*result)->user == user);
  return (*result)->groups;
}

ErrorCode CodeOf(const Result<std::optional<Identity>>& result) {
  return result.ok() ? ErrorCode::kOk : result.status().code();
}

// Servers shared by the test cases that leave them running; each ends with the test program.
Slapd& PlainSlapd() {
  static Slapd slapd;
  return slapd;
}
Slapd& TlsSlapd() {
  static Slapd slapd({.tls = true});
  return slapd;
}

// A TCP port on 127.0.0.1 that accepts connections (the kernel completes them) and never
// answers: a hung server.
class SilentServer {
 public:
  SilentServer() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~SilentServer() { close(fd_); }
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

using testing::ServeProcess;

// The status of GET /v2/ on 127.0.0.1:`port`, with `authorization` unless it is empty.
int GetBase(uint16_t port, const std::string& authorization) {
  testing::RawConnection connection(port);
  std::string request = "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  if (!authorization.empty()) request += "Authorization: " + authorization + "\r\n";
  REQUIRE(connection.Send(request + "\r\n"));
  std::optional<testing::RawResponse> response = connection.ReadResponse();
  REQUIRE(response.has_value());
  return response->status;
}

bool Maps(const std::string& maps, std::string_view library) {
  return maps.find("/" + std::string(library)) != std::string::npos;
}

TEST_CASE("EscapeLdapFilterValue escapes the characters RFC 4515 requires", "[ldap]") {
  CHECK(EscapeLdapFilterValue("") == "");
  CHECK(EscapeLdapFilterValue("alice") == "alice");
  CHECK(EscapeLdapFilterValue("*") == "\\2a");
  CHECK(EscapeLdapFilterValue("(") == "\\28");
  CHECK(EscapeLdapFilterValue(")") == "\\29");
  CHECK(EscapeLdapFilterValue("\\") == "\\5c");
  CHECK(EscapeLdapFilterValue(std::string_view("a\0b", 3)) == "a\\00b");
  CHECK(EscapeLdapFilterValue("alice)(uid=*") == "alice\\29\\28uid=\\2a");
  CHECK(EscapeLdapFilterValue("a\\2a") == "a\\5c2a");
  // Everything else, UTF-8 included, passes unchanged.
  CHECK(EscapeLdapFilterValue("j\xc3\xb6rg.o'neil-{dn}=,+") == "j\xc3\xb6rg.o'neil-{dn}=,+");
}

TEST_CASE("DN helpers: syntax and the first RDN's value", "[ldap]") {
  auto loaded = internal::LoadLdapLibrary();
  REQUIRE_OK(loaded);
  const internal::LdapLibrary& ldap = **loaded;
  using internal::FirstRdnValue;
  using internal::IsLdapDn;
  CHECK(IsLdapDn(ldap, ""));
  CHECK(IsLdapDn(ldap, "dc=example,dc=test"));
  CHECK(IsLdapDn(ldap, "cn=a\\,b,ou=groups"));
  CHECK_FALSE(IsLdapDn(ldap, "developers"));
  CHECK_FALSE(IsLdapDn(ldap, "cn=a,"));
  CHECK_FALSE(IsLdapDn(ldap, std::string_view("cn=a\0,dc=x", 10)));

  CHECK(FirstRdnValue(ldap, "cn=developers,ou=groups,dc=example,dc=test") == "developers");
  CHECK(FirstRdnValue(ldap, "CN=Dev Ops,OU=Groups") == "Dev Ops");
  CHECK(FirstRdnValue(ldap, "cn=a\\,b\\+c,ou=groups") == "a,b+c");
  CHECK(FirstRdnValue(ldap, "cn=x+uid=y,ou=groups") == "x");  // a multi-valued RDN: its first value
  CHECK(FirstRdnValue(ldap, "developers") == std::nullopt);
  CHECK(FirstRdnValue(ldap, "") == std::nullopt);
  CHECK(FirstRdnValue(ldap, "cn=#04026869,ou=groups") == std::nullopt);  // binary form

  // libldap reads an attribute type past the length it is given, up to a '=': "cn=a,dc" followed
  // in memory by "=x" was taken for the DN "cn=a,dc=" (found by tests/fuzz/ldap_fuzz, as a read
  // past the end of its buffer). Only the given bytes count.
  const std::string_view followed = "cn=a,dc=x,dcx=y";
  CHECK_FALSE(IsLdapDn(ldap, followed.substr(0, 7)));
  CHECK(FirstRdnValue(ldap, followed.substr(0, 7)) == std::nullopt);
  CHECK_FALSE(IsLdapDn(ldap, followed.substr(0, 12)));  // "cn=a,dc=x,dc"
  CHECK(IsLdapDn(ldap, followed.substr(0, 9)));
}

TEST_CASE("LdapLoginCache remembers one password per user for the ttl", "[ldap]") {
  internal::LdapLoginCache cache(std::chrono::hours(1));
  const Identity alice{"alice", {"developers"}};
  CHECK_FALSE(cache.Find("alice", "pw").has_value());
  cache.Insert("alice", "pw", alice);
  auto hit = cache.Find("alice", "pw");
  REQUIRE(hit.has_value());
  CHECK(hit->user == "alice");
  CHECK(hit->groups == alice.groups);
  CHECK_FALSE(cache.Find("alice", "pw2").has_value());
  CHECK_FALSE(cache.Find("alice", "").has_value());
  CHECK_FALSE(cache.Find("Alice", "pw").has_value());
  CHECK_FALSE(cache.Find("bob", "pw").has_value());
  CHECK_FALSE(cache.Find(std::string_view("alice\0", 6), "pw").has_value());

  // A login with a new password replaces the entry: the old password stops hitting.
  cache.Insert("alice", "new-pw", Identity{"alice", {"ops"}});
  CHECK_FALSE(cache.Find("alice", "pw").has_value());
  REQUIRE(cache.Find("alice", "new-pw").has_value());
  CHECK(cache.Find("alice", "new-pw")->groups == std::vector<std::string>{"ops"});

  // Entries expire: with a 1 ms ttl, one found 50 ms later would be a bug whatever the load.
  internal::LdapLoginCache brief(std::chrono::milliseconds(1));
  brief.Insert("alice", "pw", alice);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_FALSE(brief.Find("alice", "pw").has_value());
}

TEST_CASE("LdapAuthenticator::Create checks the settings without connecting", "[ldap]") {
  LdapConfig good;
  good.url = "ldap://127.0.0.1:1/";  // nothing listens there; Create must not care
  good.user_base_dn = "ou=people,dc=example,dc=test";
  REQUIRE_OK(LdapAuthenticator::Create(good));

  testing::TempDir dir;
  struct Case {
    const char* name;
    std::function<void(LdapConfig&)> change;
  };
  const Case cases[] = {
      {"no url", [](LdapConfig& c) { c.url = ""; }},
      {"http url", [](LdapConfig& c) { c.url = "http://127.0.0.1/"; }},
      {"ldapi url", [](LdapConfig& c) { c.url = "ldapi:///"; }},
      {"not a url", [](LdapConfig& c) { c.url = "127.0.0.1:389"; }},
      {"start_tls on ldaps",
       [](LdapConfig& c) {
         c.url = "ldaps://127.0.0.1/";
         c.start_tls = true;
       }},
      {"empty user_base_dn", [](LdapConfig& c) { c.user_base_dn = ""; }},
      {"user_base_dn not a DN", [](LdapConfig& c) { c.user_base_dn = "people"; }},
      {"bind_dn not a DN", [](LdapConfig& c) { c.bind_dn = "service"; }},
      {"user_filter without {user}", [](LdapConfig& c) { c.user_filter = "(uid=alice)"; }},
      {"missing ca_file", [&](LdapConfig& c) { c.ca_file = (dir.path() / "nope.pem").string(); }},
      {"ca_file a directory", [&](LdapConfig& c) { c.ca_file = dir.path().string(); }},
      {"group_base_dn not a DN", [](LdapConfig& c) { c.group_base_dn = "groups"; }},
      {"group_filter without placeholder",
       [](LdapConfig& c) {
         c.group_base_dn = "ou=groups,dc=example,dc=test";
         c.group_filter = "(objectClass=groupOfNames)";
       }},
      {"empty group_name_attribute",
       [](LdapConfig& c) {
         c.group_base_dn = "ou=groups,dc=example,dc=test";
         c.group_name_attribute = "";
       }},
      {"zero timeout", [](LdapConfig& c) { c.timeout = std::chrono::seconds(0); }},
      {"negative cache_ttl", [](LdapConfig& c) { c.cache_ttl = std::chrono::seconds(-1); }},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    LdapConfig config = good;
    c.change(config);
    auto created = LdapAuthenticator::Create(config);
    REQUIRE_FALSE(created.ok());
    CHECK(created.status().code() == ErrorCode::kInvalidArgument);
  }

  // Accepted variations.
  LdapConfig ldaps = good;
  ldaps.url = "LDAPS://localhost:636";
  CHECK_OK(LdapAuthenticator::Create(ldaps));
  LdapConfig groups = good;
  groups.group_base_dn = "ou=groups,dc=example,dc=test";
  groups.group_filter = "(memberUid={user})";
  CHECK_OK(LdapAuthenticator::Create(groups));
  LdapConfig no_cache = good;
  no_cache.cache_ttl = std::chrono::seconds(0);
  CHECK_OK(LdapAuthenticator::Create(no_cache));
}

TEST_CASE("LDAP answers nothing without Basic credentials and refuses empty passwords unasked",
          "[ldap]") {
  // No server behind the URL: any attempt to connect would give kUnavailable.
  LdapConfig config;
  config.url = "ldap://127.0.0.1:1/";
  config.user_base_dn = "ou=people,dc=example,dc=test";
  auto ldap = Make(config);

  Credentials none;
  auto result = ldap->Authenticate(none);
  REQUIRE_OK(result);
  CHECK_FALSE(result->has_value());
  for (const char* header : {"Bearer abc", "Basic !!!", "Basic YWxpY2U="}) {  // "alice": no colon
    INFO(header);
    Credentials other;
    other.authorization = header;
    auto answer = ldap->Authenticate(other);
    REQUIRE_OK(answer);
    CHECK_FALSE(answer->has_value());
  }
  // An empty user name is nobody.
  auto nobody = Login(*ldap, "", "pw");
  REQUIRE_OK(nobody);
  CHECK_FALSE(nobody->has_value());

  // kUnauthorized, not kUnavailable: no connection was tried.
  auto empty = Login(*ldap, "alice", "");
  CHECK(CodeOf(empty) == ErrorCode::kUnauthorized);
}

TEST_CASE("LDAP logins give the user's groups from an attribute of the user entry", "[ldap]") {
  auto ldap = Make(PlainSlapd().config());
  CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
  CHECK(GroupsOf(*ldap, "bob", "bob-pw") == std::vector<std::string>{"ops"});
  CHECK(GroupsOf(*ldap, "carol", "carol-pw").empty());
  auto dave = GroupsOf(*ldap, "dave", "dave-pw");
  std::sort(dave.begin(), dave.end());
  CHECK(dave == std::vector<std::string>{"admins", "developers"});

  SECTION("without group_attribute there are no groups") {
    LdapConfig config = PlainSlapd().config();
    config.group_attribute = "";
    auto plain = Make(config);
    CHECK(GroupsOf(*plain, "alice", "alice-pw").empty());
  }
  SECTION("values that are not DNs are group names as they are") {
    LdapConfig config = PlainSlapd().config();
    config.group_attribute = "uid";  // "alice": not a DN
    auto odd = Make(config);
    CHECK(GroupsOf(*odd, "alice", "alice-pw") == std::vector<std::string>{"alice"});
  }
}

TEST_CASE("LDAP logins give the user's groups from a group search", "[ldap]") {
  LdapConfig config = PlainSlapd().config();
  config.group_attribute = "";
  config.group_base_dn = Slapd::kGroupsDn;

  SECTION("by the user's DN") {
    config.group_filter = "(member={dn})";
    auto ldap = Make(config);
    CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
    CHECK(GroupsOf(*ldap, "bob", "bob-pw") == std::vector<std::string>{"ops"});
    CHECK(GroupsOf(*ldap, "carol", "carol-pw").empty());
    auto dave = GroupsOf(*ldap, "dave", "dave-pw");
    std::sort(dave.begin(), dave.end());
    CHECK(dave == std::vector<std::string>{"admins", "developers"});
  }
  SECTION("by the user name") {
    config.group_filter =
        "(&(objectClass=groupOfNames)(member=uid={user},ou=people,dc=example,dc=test))";
    auto ldap = Make(config);
    CHECK(GroupsOf(*ldap, "bob", "bob-pw") == std::vector<std::string>{"ops"});
  }
  SECTION("together with the attribute, each group once") {
    config.group_attribute = "memberOf";
    auto ldap = Make(config);
    auto dave = GroupsOf(*ldap, "dave", "dave-pw");
    std::sort(dave.begin(), dave.end());
    CHECK(dave == std::vector<std::string>{"admins", "developers"});
  }
  SECTION("another name attribute") {
    config.group_name_attribute = "objectClass";
    auto ldap = Make(config);
    CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"groupOfNames"});
  }
}

TEST_CASE("LDAP: a wrong password is kUnauthorized, an unknown user nullopt", "[ldap]") {
  auto ldap = Make(PlainSlapd().config());
  auto wrong = Login(*ldap, "alice", "bob-pw");
  REQUIRE(CodeOf(wrong) == ErrorCode::kUnauthorized);
  CHECK(wrong.status().message().find("bob-pw") == std::string::npos);
  CHECK(wrong.status().message().find("alice") != std::string::npos);

  auto unknown = Login(*ldap, "mallory", "alice-pw");
  REQUIRE_OK(unknown);
  CHECK_FALSE(unknown->has_value());

  // A password with a NUL byte is not the same password.
  auto nul = Login(*ldap, "alice", std::string_view("alice-pw\0x", 10));
  CHECK(CodeOf(nul) == ErrorCode::kUnauthorized);

  // Another user's password does not open someone else's account, nor the service's.
  CHECK(CodeOf(Login(*ldap, "bob", "alice-pw")) == ErrorCode::kUnauthorized);
  CHECK(CodeOf(Login(*ldap, "alice", "service-secret")) == ErrorCode::kUnauthorized);
}

TEST_CASE("LDAP: user names cannot change the search filter", "[ldap]") {
  LdapConfig config = PlainSlapd().config();
  SECTION("plain filter") {}
  SECTION("compound filter") { config.user_filter = "(&(objectClass=inetOrgPerson)(uid={user}))"; }
  auto ldap = Make(config);
  const std::string attempts[] = {"*",
                                  "a*",
                                  "alice*",
                                  "*alice",
                                  "alice)(uid=*",
                                  "alice)(|(uid=*",
                                  "*)(uid=*))(|(uid=*",
                                  "a\\b",
                                  "alic\\65",
                                  "alice\\29",
                                  std::string("alice\0", 6),
                                  std::string("\0", 1),
                                  std::string("alice\0)(uid=*", 13),
                                  "(uid=alice)",
                                  "{user}",
                                  "{dn}",
                                  "alice\xff"};
  for (const std::string& user : attempts) {
    INFO("user " << user);
    auto result = Login(*ldap, user, "alice-pw");
    REQUIRE_OK(result);
    CHECK_FALSE(result->has_value());
  }
  // The real name still works.
  CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
}

TEST_CASE("LDAP: a search that finds more than one user finds nobody", "[ldap]") {
  LdapConfig config = PlainSlapd().config();
  config.user_filter = "(|(uid={user})(uid=bob))";
  auto ldap = Make(config);
  auto result = Login(*ldap, "alice", "alice-pw");
  REQUIRE_OK(result);
  CHECK_FALSE(result->has_value());
}

TEST_CASE("LDAP: service account problems are kUnavailable", "[ldap]") {
  LdapConfig config = PlainSlapd().config();
  SECTION("wrong service password") {
    config.bind_password = "not-the-service-secret";
    auto ldap = Make(config);
    auto result = Login(*ldap, "alice", "alice-pw");
    REQUIRE(CodeOf(result) == ErrorCode::kUnavailable);
    CHECK(result.status().message().find("not-the-service-secret") == std::string::npos);
    CHECK(result.status().message().find("alice-pw") == std::string::npos);
  }
  SECTION("anonymous search, which this server does not allow") {
    config.bind_dn = "";
    config.bind_password = "";
    auto ldap = Make(config);
    CHECK(CodeOf(Login(*ldap, "alice", "alice-pw")) == ErrorCode::kUnavailable);
  }
  SECTION("a user base that does not exist") {
    config.user_base_dn = "ou=nobody,dc=example,dc=test";
    auto ldap = Make(config);
    CHECK(CodeOf(Login(*ldap, "alice", "alice-pw")) == ErrorCode::kUnavailable);
  }
  SECTION("a malformed filter") {
    config.user_filter = "(uid={user}";
    auto ldap = Make(config);
    CHECK(CodeOf(Login(*ldap, "alice", "alice-pw")) == ErrorCode::kUnavailable);
  }
}

TEST_CASE("LDAP over StartTLS and ldaps:// with the configured CA", "[ldap]") {
  Slapd& slapd = TlsSlapd();
  LdapConfig config = slapd.config();
  SECTION("StartTLS") { config.start_tls = true; }
  SECTION("ldaps") { config.url = slapd.ldaps_url(); }
  SECTION("StartTLS with groups from a search") {
    config.start_tls = true;
    config.group_attribute = "";
    config.group_base_dn = Slapd::kGroupsDn;
  }
  auto ldap = Make(config);
  CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
  CHECK(CodeOf(Login(*ldap, "alice", "wrong")) == ErrorCode::kUnauthorized);
  auto unknown = Login(*ldap, "mallory", "pw");
  REQUIRE_OK(unknown);
  CHECK_FALSE(unknown->has_value());
}

TEST_CASE("LDAP: a server certificate the CA did not sign is kUnavailable", "[ldap]") {
  Slapd& slapd = TlsSlapd();
  testing::TempDir other;
  const std::string other_ca = testing::MakeTestCa(other.path(), "unrelated").string();
  LdapConfig config = slapd.config();
  config.ca_file = other_ca;
  SECTION("StartTLS, unrelated CA") { config.start_tls = true; }
  SECTION("ldaps, unrelated CA") { config.url = slapd.ldaps_url(); }
  SECTION("ldaps, the system's CAs") {
    config.url = slapd.ldaps_url();
    config.ca_file = "";
  }
  auto ldap = Make(config);
  auto result = Login(*ldap, "alice", "alice-pw");
  INFO(result.status().ToString());
  CHECK(CodeOf(result) == ErrorCode::kUnavailable);
  CHECK(result.status().message().find("alice-pw") == std::string::npos);
  // The failure is not cached: it stays unavailable.
  CHECK(CodeOf(Login(*ldap, "alice", "alice-pw")) == ErrorCode::kUnavailable);
}

TEST_CASE("LDAP: TLS settings are per connection", "[ldap]") {
  // A context with the wrong CA in use does not disturb one with the right CA, and back.
  Slapd& slapd = TlsSlapd();
  testing::TempDir other;
  LdapConfig right = slapd.config();
  right.url = slapd.ldaps_url();
  LdapConfig wrong = right;
  wrong.ca_file = testing::MakeTestCa(other.path(), "unrelated").string();
  right.cache_ttl = wrong.cache_ttl = std::chrono::seconds(0);
  auto good = Make(right);
  auto bad = Make(wrong);
  for (int i = 0; i < 3; ++i) {
    CHECK(CodeOf(Login(*good, "bob", "bob-pw")) == ErrorCode::kOk);
    CHECK(CodeOf(Login(*bad, "bob", "bob-pw")) == ErrorCode::kUnavailable);
  }
}

TEST_CASE("LDAP: an unreachable server is kUnavailable", "[ldap]") {
  LdapConfig config;
  config.user_base_dn = Slapd::kPeopleDn;
  config.bind_dn = Slapd::kServiceDn;
  config.bind_password = Slapd::kServicePassword;
  config.timeout = std::chrono::seconds(1);

  SECTION("a stopped server") {
    Slapd slapd;
    config = slapd.config();
    auto ldap = Make(config);
    REQUIRE(CodeOf(Login(*ldap, "alice", "alice-pw")) == ErrorCode::kOk);
    slapd.Stop();
    config.cache_ttl = std::chrono::seconds(0);
    auto uncached = Make(config);
    CHECK(CodeOf(Login(*uncached, "alice", "alice-pw")) == ErrorCode::kUnavailable);
  }
  SECTION("a server that never answers: the timeouts end the wait") {
    SilentServer silent;
    const std::string port = std::to_string(silent.port());
    SECTION("plain") { config.url = "ldap://127.0.0.1:" + port + "/"; }
    SECTION("StartTLS") {
      config.url = "ldap://127.0.0.1:" + port + "/";
      config.start_tls = true;
    }
    SECTION("ldaps") { config.url = "ldaps://127.0.0.1:" + port + "/"; }
    SECTION("anonymous search") {
      config.url = "ldap://127.0.0.1:" + port + "/";
      config.bind_dn = "";
      config.bind_password = "";
    }
    auto ldap = Make(config);
    auto result = Login(*ldap, "alice", "alice-pw");
    INFO(result.status().ToString());
    CHECK(CodeOf(result) == ErrorCode::kUnavailable);
  }
}

TEST_CASE("LDAP: successful logins are cached, failures are not", "[ldap]") {
  Slapd slapd;
  LdapConfig config = slapd.config();
  config.cache_ttl = std::chrono::seconds(600);
  config.timeout = std::chrono::seconds(2);
  auto ldap = Make(config);

  // A failure first: it must not be remembered as anything.
  CHECK(CodeOf(Login(*ldap, "alice", "wrong")) == ErrorCode::kUnauthorized);
  CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
  auto unknown = Login(*ldap, "mallory", "pw");
  REQUIRE_OK(unknown);
  CHECK_FALSE(unknown->has_value());
  // Another password for a cached user still asks the server, which refuses it.
  CHECK(CodeOf(Login(*ldap, "alice", "alice-pw2")) == ErrorCode::kUnauthorized);
  CHECK(GroupsOf(*ldap, "dave", "dave-pw").size() == 2);

  slapd.Stop();
  // Served from the cache, groups included.
  CHECK(GroupsOf(*ldap, "alice", "alice-pw") == std::vector<std::string>{"developers"});
  CHECK(GroupsOf(*ldap, "dave", "dave-pw").size() == 2);
  // Anything not cached needs the server, which is gone.
  CHECK(CodeOf(Login(*ldap, "alice", "wrong")) == ErrorCode::kUnavailable);
  CHECK(CodeOf(Login(*ldap, "alice", "alice-pw2")) == ErrorCode::kUnavailable);
  CHECK(CodeOf(Login(*ldap, "ALICE", "alice-pw")) == ErrorCode::kUnavailable);
  CHECK(CodeOf(Login(*ldap, "bob", "bob-pw")) == ErrorCode::kUnavailable);
  CHECK(CodeOf(Login(*ldap, "mallory", "pw")) == ErrorCode::kUnavailable);
  // An empty password is refused even for a cached user.
  CHECK(CodeOf(Login(*ldap, "alice", "")) == ErrorCode::kUnauthorized);
  // The cache belongs to one authenticator.
  auto fresh = Make(config);
  CHECK(CodeOf(Login(*fresh, "alice", "alice-pw")) == ErrorCode::kUnavailable);
}

TEST_CASE("LDAP: cached logins expire after cache_ttl", "[ldap]") {
  Slapd slapd;
  LdapConfig config = slapd.config();
  config.cache_ttl = std::chrono::seconds(1);
  config.timeout = std::chrono::seconds(2);
  auto ldap = Make(config);
  REQUIRE(CodeOf(Login(*ldap, "bob", "bob-pw")) == ErrorCode::kOk);
  slapd.Stop();
  // Bounded wait: far beyond the ttl, the cached login must have gone.
  ErrorCode code = ErrorCode::kOk;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (code == ErrorCode::kOk && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    code = CodeOf(Login(*ldap, "bob", "bob-pw"));
  }
  CHECK(code == ErrorCode::kUnavailable);
}

TEST_CASE("LDAP: concurrent logins", "[ldap]") {
  Slapd& slapd = TlsSlapd();
  LdapConfig config = slapd.config();
  config.start_tls = true;
  SECTION("without cache") { config.cache_ttl = std::chrono::seconds(0); }
  SECTION("with cache") { config.cache_ttl = std::chrono::seconds(600); }
  auto ldap = Make(config);

  // Catch2 assertions are not thread-safe: threads only record what they saw.
  constexpr int kThreads = 6;
  constexpr int kRounds = 4;
  struct Seen {
    int good = 0, groups_right = 0, refused = 0, unknown = 0, other = 0;
  };
  std::array<Seen, kThreads> seen{};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        auto good = Login(*ldap, "dave", "dave-pw");
        if (good.ok() && good->has_value()) {
          ++seen[t].good;
          if ((*good)->groups.size() == 2) ++seen[t].groups_right;
        } else {
          ++seen[t].other;
        }
        auto wrong = Login(*ldap, "bob", "alice-pw");
        ++(CodeOf(wrong) == ErrorCode::kUnauthorized ? seen[t].refused : seen[t].other);
        auto unknown = Login(*ldap, "nobody" + std::to_string(t), "pw");
        ++(unknown.ok() && !unknown->has_value() ? seen[t].unknown : seen[t].other);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const Seen& s : seen) {
    CHECK(s.good == kRounds);
    CHECK(s.groups_right == kRounds);
    CHECK(s.refused == kRounds);
    CHECK(s.unknown == kRounds);
    CHECK(s.other == 0);
  }
}

TEST_CASE("ocireg-serve loads the LDAP client library only when [auth.ldap] is set", "[ldap]") {
  testing::TempDir dir;
  const std::string base = "[listen]\naddress = \"127.0.0.1\"\nport = 0\n\n[storage]\nroot = \"" +
                           (dir.path() / "store").string() + "\"\n";

  SECTION("without [auth.ldap]: neither libldap nor GnuTLS behind it is mapped") {
    ServeProcess serve(dir.path(), base);
    const uint16_t port = serve.WaitForPort();
    INFO(serve.log());
    REQUIRE(port != 0);
    CHECK(GetBase(port, "") == 200);  // anonymous: no login method is configured
    const std::string maps = serve.Maps();
    REQUIRE(Maps(maps, "libocireg"));  // the right process, and /proc lists its libraries
    CHECK_FALSE(Maps(maps, "libldap"));
    CHECK_FALSE(Maps(maps, "liblber"));
    CHECK_FALSE(Maps(maps, "libgnutls"));
  }
  SECTION("with [auth.ldap]: libldap is loaded and logins work") {
    const Slapd& slapd = PlainSlapd();
    const std::string config = base + "\n[auth.ldap]\nurl = \"" + slapd.url() + "\"\nbind_dn = \"" +
                               Slapd::kServiceDn + "\"\nbind_password = \"" +
                               Slapd::kServicePassword + "\"\nuser_base_dn = \"" +
                               Slapd::kPeopleDn + "\"\nuser_filter = \"(uid={user})\"\n";
    ServeProcess serve(dir.path(), config);
    const uint16_t port = serve.WaitForPort();
    INFO(serve.log());
    REQUIRE(port != 0);
    CHECK(Maps(serve.Maps(), "libldap"));
    CHECK(GetBase(port, BasicHeader("alice", "alice-pw")) == 200);
    CHECK(GetBase(port, BasicHeader("alice", "bob-pw")) == 401);
    CHECK(GetBase(port, "") == 401);
  }
}

// libcurl is the S3 driver's, loaded when one is made (net/curl_library.h). Debian's
// libcurl4 needs libldap, liblber and GnuTLS itself, so linking it would undo the case above.
TEST_CASE("ocireg-serve with its storage on the file system does not load libcurl", "[ldap][s3]") {
  testing::TempDir dir;
  ServeProcess serve(dir.path(),
                     "[listen]\naddress = \"127.0.0.1\"\nport = 0\n\n[storage]\nroot = \"" +
                         (dir.path() / "store").string() + "\"\n");
  const uint16_t port = serve.WaitForPort();
  INFO(serve.log());
  REQUIRE(port != 0);
  CHECK(GetBase(port, "") == 200);
  const std::string maps = serve.Maps();
  REQUIRE(Maps(maps, "libocireg"));
  CHECK_FALSE(Maps(maps, "libcurl"));
}

}  // namespace
}  // namespace ocireg
