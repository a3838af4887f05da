// SPDX-License-Identifier: Apache-2.0
// HtpasswdAuthenticator: Basic credentials checked against an htpasswd file of bcrypt entries
// (as written by `htpasswd -B`), verified with libxcrypt.
//
//   auto users = ocireg::HtpasswdAuthenticator::Load("/etc/ocireg/htpasswd");
//   if (!users.ok()) return Report(users.status());   // "htpasswd:3: user bob: ..."
//
// Load reads the file once and the object never changes afterwards: Authenticate is thread-safe
// and may run on any number of threads at once. Each call costs one bcrypt verification (at the
// cost factor of the entry) on the calling thread. Later changes to the file are not seen: Load
// it again (RegistryServer::ReloadAccess does). The caller owns the result; ServerHooks takes it
// as a std::shared_ptr.
#pragma once

#include <memory>
#include <string>

#include "ocireg/auth/authenticator.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

class OCIREG_EXPORT HtpasswdAuthenticator : public Authenticator {
 public:
  // Reads the file once. Lines are "user:hash"; blank lines and lines starting with '#' are
  // skipped. Errors (kInvalidArgument, naming the file and the line): unreadable file, a line
  // without ':', an empty user, a duplicate user, a hash that is not bcrypt ($2y$, $2b$, $2a$)
  // such as MD5 ($apr1$), SHA-1 ({SHA}) or crypt(3) DES.
  static Result<std::unique_ptr<HtpasswdAuthenticator>> Load(const std::string& path);

  // Basic credentials of a listed user: its Identity (no groups) or kUnauthorized. A user not in
  // the file: nullopt, after the same bcrypt work as a wrong password costs, so that timing does
  // not tell which users exist. No Basic header: nullopt.
  Result<std::optional<Identity>> Authenticate(const Credentials& credentials) override;

  ~HtpasswdAuthenticator() override;

 private:
  struct Users;
  explicit HtpasswdAuthenticator(std::unique_ptr<Users> users);
  std::unique_ptr<Users> users_;
};

}  // namespace ocireg
