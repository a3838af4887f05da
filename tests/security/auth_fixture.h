// SPDX-License-Identifier: Apache-2.0
// A registry with every login method of the security tests: htpasswd users (made by htpasswd -B),
// LDAP users from a real slapd (see slapd.h), and access rules over them:
//
//   htpasswd: root (admin), uma (read team/**), cody (read+create team/**), mallory (no rule)
//   LDAP:     alice (group developers: read+create+update team/**), dave (group admins: admin),
//             carol (no group, no rule)
//   anonymous callers may read public/**; nobody but admins may delete.
#pragma once

#include <string>
#include <vector>

#include "security_support.h"
#include "slapd.h"
#include "test_server.h"

namespace ocireg::testing {

struct Login {
  std::string user;
  std::string password;
};

inline const Login kRoot{"root", "root-pw"};
inline const Login kUma{"uma", "uma-pw"};
inline const Login kCody{"cody", "cody-pw"};
inline const Login kMallory{"mallory", "mallory-pw"};
inline const Login kAlice{"alice", "alice-pw"};
inline const Login kDave{"dave", "dave-pw"};
inline const Login kCarol{"carol", "carol-pw"};

// Writes an htpasswd file of bcrypt entries for `logins` with the real htpasswd command.
inline std::string MakeHtpasswd(const std::filesystem::path& file,
                                const std::vector<Login>& logins) {
  for (const Login& login : logins) {
    std::vector<std::string> argv = {"htpasswd", "-B", "-b", "-C", "5"};
    if (!std::filesystem::exists(file)) argv.push_back("-c");
    argv.insert(argv.end(), {file.string(), login.user, login.password});
    RunCommand(argv, file.string() + ".log");
  }
  return file.string();
}

inline AccessConfig TestAccess() {
  AccessConfig access;
  access.admins = {"root"};
  access.admin_groups = {"admins"};
  access.anonymous.push_back({{"public/**"}, {}, {}, {Action::kRead}});
  access.policy.push_back({{"team/**"}, {"uma"}, {}, {Action::kRead}});
  access.policy.push_back({{"team/**"}, {"cody"}, {}, {Action::kRead, Action::kCreate}});
  access.policy.push_back(
      {{"team/**"}, {}, {"developers"}, {Action::kRead, Action::kCreate, Action::kUpdate}});
  return access;
}

// Sets `config` up for htpasswd at `dir`/htpasswd, LDAP at `slapd` and TestAccess().
inline void ConfigureLogins(Config& config, const std::filesystem::path& dir, const Slapd& slapd) {
  config.auth.htpasswd.file = MakeHtpasswd(dir / "htpasswd", {kRoot, kUma, kCody, kMallory});
  config.auth.ldap = slapd.config();
  config.auth.ldap.group_attribute.clear();
  config.auth.ldap.group_base_dn = Slapd::kGroupsDn;
  config.access = TestAccess();
}

}  // namespace ocireg::testing
