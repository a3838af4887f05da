// SPDX-License-Identifier: Apache-2.0
// Slapd: a real OpenLDAP server (Debian's slapd) for one test, with fixed content, on 127.0.0.1.
//
//   ocireg::testing::Slapd slapd({.tls = true});
//   ocireg::LdapConfig config = slapd.config();  // plain ldap://, service account, memberOf
//   config.url = slapd.ldaps_url();              // or: config.start_tls = true;
//
// The directory (base "dc=example,dc=test"; every password is stored in clear):
//   cn=admin,dc=example,dc=test     the rootdn, password "admin-secret"
//   cn=service,dc=example,dc=test   service account, password "service-secret": may read users
//                                   and groups (never passwords). Anonymous searches find nothing
//                                   (slapd answers "No such object"); anonymous binds work.
//   ou=people,dc=example,dc=test    inetOrgPerson entries, named by uid:
//     uid=alice  "alice-pw"  member of developers
//     uid=bob    "bob-pw"    member of ops
//     uid=carol  "carol-pw"  member of no group
//     uid=dave   "dave-pw"   member of developers and admins
//   ou=groups,dc=example,dc=test    groupOfNames entries, named by cn, listing users in `member`:
//     cn=developers (alice, dave), cn=ops (bob), cn=admins (dave)
// Each user entry also holds its groups' DNs in the operational attribute memberOf (defined by
// the memberof overlay; it must be asked for by name). So both group modes work:
//   group_attribute = "memberOf", or
//   group_base_dn = "ou=groups,dc=example,dc=test" with group_filter "(member={dn})".
//
// The server runs as a child process (foreground, `slapd -d 0`) with its output in slapd.log in
// its temporary directory; Stop() and the destructor end that child by its PID (SIGTERM, then
// SIGKILL after 10 s) and reap it; should the test process die first, the kernel kills slapd
// (so create a Slapd on a thread that outlives it). With tls, a CA and a certificate for 127.0.0.1
// and localhost are made with the openssl command, so StartTLS on url() and ldaps_url() both work;
// ca_file() is the CA's certificate. Construction throws std::runtime_error when slapd does not
// come up.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "certificates.h"
#include "loopback.h"
#include "ocireg/config.h"
#include "process.h"
#include "temp_dir.h"

namespace ocireg::testing {

struct SlapdOptions {
  bool tls = false;  // also listen on ldaps:// and offer StartTLS
};

class Slapd {
 public:
  static constexpr const char* kBaseDn = "dc=example,dc=test";
  static constexpr const char* kPeopleDn = "ou=people,dc=example,dc=test";
  static constexpr const char* kGroupsDn = "ou=groups,dc=example,dc=test";
  static constexpr const char* kServiceDn = "cn=service,dc=example,dc=test";
  static constexpr const char* kServicePassword = "service-secret";
  static constexpr const char* kAdminDn = "cn=admin,dc=example,dc=test";
  static constexpr const char* kAdminPassword = "admin-secret";

  using Options = SlapdOptions;

  explicit Slapd(Options options = {}) : options_(options) {
    std::filesystem::create_directories(dir_.path() / "db");
    if (options_.tls) {
      std::filesystem::create_directories(dir_.path() / "tls");
      ca_file_ = MakeTestCa(dir_.path() / "tls", "ca").string();
      MakeServerCertificate(dir_.path() / "tls", "ca");
    }
    WriteTextFile(dir_.path() / "slapd.conf", ServerConfig());
    WriteTextFile(dir_.path() / "data.ldif", Content());
    RunCommand({"/usr/sbin/slapadd", "-q", "-f", (dir_.path() / "slapd.conf").string(), "-l",
                (dir_.path() / "data.ldif").string()},
               dir_.path() / "slapadd.log");
    // A port picked free may be taken again before slapd binds it: then try other ports.
    for (int attempt = 0; attempt < 3; ++attempt) {
      if (TryStart()) return;
    }
    throw std::runtime_error("slapd did not start: " + log());
  }

  ~Slapd() { Stop(); }
  Slapd(const Slapd&) = delete;
  Slapd& operator=(const Slapd&) = delete;

  // Ends the server (its URLs then refuse connections). Idempotent.
  void Stop() {
    if (pid_ <= 0) return;
    EndChild(pid_);
    pid_ = -1;
  }
  bool running() const { return pid_ > 0; }

  std::string url() const { return "ldap://127.0.0.1:" + std::to_string(port_) + "/"; }
  // "" without tls.
  std::string ldaps_url() const {
    return options_.tls ? "ldaps://127.0.0.1:" + std::to_string(tls_port_) + "/" : "";
  }
  const std::string& ca_file() const { return ca_file_; }  // "" without tls
  std::string base_dn() const { return kBaseDn; }
  const std::filesystem::path& dir() const { return dir_.path(); }
  // What slapd wrote, for failure messages.
  std::string log() const { return ReadTextFile(dir_.path() / "slapd.log"); }

  // Settings for this server: url() without TLS (ca_file set when tls), the service account,
  // users under ou=people by uid, groups from memberOf, no group search, a 5 s timeout and the
  // default cache_ttl.
  LdapConfig config() const {
    LdapConfig config;
    config.url = url();
    config.ca_file = ca_file_;
    config.bind_dn = kServiceDn;
    config.bind_password = kServicePassword;
    config.user_base_dn = kPeopleDn;
    config.user_filter = "(uid={user})";
    config.group_attribute = "memberOf";
    config.timeout = std::chrono::seconds(5);
    return config;
  }

 private:
  std::string ServerConfig() const {
    std::string text = R"(include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
pidfile @DIR@/slapd.pid
argsfile @DIR@/slapd.args
)";
    if (options_.tls) {
      text += R"(TLSCACertificateFile @DIR@/tls/ca.pem
TLSCertificateFile @DIR@/tls/server.pem
TLSCertificateKeyFile @DIR@/tls/server.key
)";
    }
    text += R"(database mdb
maxsize 16777216
suffix "dc=example,dc=test"
rootdn "cn=admin,dc=example,dc=test"
rootpw admin-secret
directory @DIR@/db
overlay memberof
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="cn=service,dc=example,dc=test" read by * none
)";
    const std::string dir = dir_.path().string();
    for (size_t at = text.find("@DIR@"); at != std::string::npos; at = text.find("@DIR@", at)) {
      text.replace(at, 5, dir);
    }
    return text;
  }

  static std::string Content() {
    std::string text =
        "dn: dc=example,dc=test\nobjectClass: dcObject\nobjectClass: organization\n"
        "dc: example\no: example\n\n"
        "dn: cn=service,dc=example,dc=test\nobjectClass: organizationalRole\n"
        "objectClass: simpleSecurityObject\ncn: service\nuserPassword: service-secret\n\n"
        "dn: ou=people,dc=example,dc=test\nobjectClass: organizationalUnit\nou: people\n\n"
        "dn: ou=groups,dc=example,dc=test\nobjectClass: organizationalUnit\nou: groups\n\n";
    struct User {
      const char* uid;
      std::vector<const char*> groups;
    };
    const User users[] = {{"alice", {"developers"}},
                          {"bob", {"ops"}},
                          {"carol", {}},
                          {"dave", {"developers", "admins"}}};
    for (const User& user : users) {
      text += std::string("dn: uid=") + user.uid + ",ou=people,dc=example,dc=test\n" +
              "objectClass: inetOrgPerson\nuid: " + user.uid + "\ncn: " + user.uid +
              "\nsn: " + user.uid + "\nuserPassword: " + user.uid + "-pw\n";
      // slapadd bypasses the overlay, so memberOf is written here, matching the groups below.
      for (const char* group : user.groups) {
        text += std::string("memberOf: cn=") + group + ",ou=groups,dc=example,dc=test\n";
      }
      text += "\n";
    }
    const std::pair<const char*, std::vector<const char*>> groups[] = {
        {"developers", {"alice", "dave"}}, {"ops", {"bob"}}, {"admins", {"dave"}}};
    for (const auto& [name, members] : groups) {
      text += std::string("dn: cn=") + name + ",ou=groups,dc=example,dc=test\n" +
              "objectClass: groupOfNames\ncn: " + name + "\n";
      for (const char* member : members) {
        text += std::string("member: uid=") + member + ",ou=people,dc=example,dc=test\n";
      }
      text += "\n";
    }
    return text;
  }

  bool TryStart() {
    port_ = FreeLoopbackPort();
    tls_port_ = options_.tls ? FreeLoopbackPort() : 0;
    std::string urls = url();
    if (options_.tls) urls += " " + ldaps_url();
    pid_ = SpawnProcess(
        {"/usr/sbin/slapd", "-d", "0", "-h", urls, "-f", (dir_.path() / "slapd.conf").string()},
        dir_.path() / "slapd.log");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      if (WaitForChild(pid_, std::chrono::milliseconds(0))) {  // it gave up (port taken?)
        pid_ = -1;
        return false;
      }
      if (AnswersBind(port_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    Stop();
    return false;
  }

  // Whether an LDAP server on `port` answers an anonymous bind with success: then slapd has
  // loaded its database and serves requests, not just holds its sockets.
  static bool AnswersBind(uint16_t port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    // LDAPMessage { messageID 1, BindRequest { version 3, name "", simple "" } }.
    static constexpr unsigned char kBind[] = {0x30, 0x0c, 0x02, 0x01, 0x01, 0x60, 0x07,
                                              0x02, 0x01, 0x03, 0x04, 0x00, 0x80, 0x00};
    bool answered = false;
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
        send(fd, kBind, sizeof(kBind), MSG_NOSIGNAL) == static_cast<ssize_t>(sizeof(kBind))) {
      pollfd waiting{fd, POLLIN, 0};
      unsigned char reply[64];
      if (poll(&waiting, 1, 1000) == 1) {
        const ssize_t got = recv(fd, reply, sizeof(reply), 0);
        // LDAPMessage { messageID 1, BindResponse { resultCode success (0), ... } }
        answered = got >= 10 && reply[0] == 0x30 && reply[5] == 0x61 && reply[7] == 0x0a &&
                   reply[8] == 0x01 && reply[9] == 0x00;
      }
    }
    close(fd);
    return answered;
  }

  TempDir dir_;
  Options options_;
  std::string ca_file_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace ocireg::testing
