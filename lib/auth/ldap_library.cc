// SPDX-License-Identifier: Apache-2.0
// Loading the OpenLDAP client library at run time: dlopen by soname, then dlsym for each symbol.
#include "auth/ldap_library.h"

#include <array>
#include <string>

#include "dynamic_library.h"

namespace ocireg::internal {
namespace {

// The 2.5 library the headers come from on Debian 12 first; OpenLDAP 2.6 renamed it (and merged
// libldap_r into it); the unversioned name is the development symlink, the last resort. 2.4 is
// left out on purpose: its libldap is not thread-safe.
constexpr std::array<const char*, 3> kSonames = {"libldap-2.5.so.0", "libldap.so.2", "libldap.so"};

// Stops at the first missing symbol, leaving its error for DlError(). dlsym searches the handle's
// dependencies too, which is how liblber's symbols are found.
bool FindAll(void* handle, LdapLibrary& library) {
  bool found = true;
#define OCIREG_LDAP_FIND(name) found = found && FindSymbol(handle, #name, library.name);
  OCIREG_LDAP_SYMBOLS(OCIREG_LDAP_FIND)
#undef OCIREG_LDAP_FIND
  return found;
}

Result<const LdapLibrary*> Load(LdapLibrary& library) {
  std::string tried;
  std::string errors;
  for (const char* soname : kSonames) {
    tried += (tried.empty() ? "" : ", ") + std::string(soname);
    // RTLD_LOCAL: its symbols serve only this table, never other libraries of the process. A
    // handle lacking a symbol is not closed either: its constructors have run already.
    void* handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (handle != nullptr && FindAll(handle, library)) return &library;
    errors += (errors.empty() ? "" : "; ") + DlError();
  }
  return Unavailable("LDAP authentication needs the OpenLDAP client library (tried " + tried +
                     "): " + errors);
}

}  // namespace

Result<const LdapLibrary*> LoadLdapLibrary() {
  static LdapLibrary library;
  // A function-local static is initialised once, even when threads race to it.
  static const Result<const LdapLibrary*> loaded = Load(library);
  return loaded;
}

}  // namespace ocireg::internal
