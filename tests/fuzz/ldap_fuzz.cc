// SPDX-License-Identifier: Apache-2.0
// Fuzzes the LDAP escaping and DN handling: EscapeLdapFilterValue with a login's user name (it
// goes into the search filter), IsLdapDn and FirstRdnValue with DNs from the configuration and
// from the directory's answers.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "auth/ldap_dn.h"
#include "auth/ldap_library.h"
#include "fuzz_check.h"
#include "ocireg/auth/ldap.h"

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// RFC 4515 filter value unescaping, written here independently of the escaper: nullopt when a
// backslash is not followed by two hex digits.
std::optional<std::string> UnescapeFilterValue(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = HexValue(text[i + 1]);
    const int low = HexValue(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

void CheckFilterEscaping(std::string_view input) {
  const std::string escaped = ocireg::EscapeLdapFilterValue(input);
  // Nothing in the escaped value can end, open or widen a filter.
  FUZZ_CHECK(escaped.find_first_of(std::string_view("*()\0", 4)) == std::string::npos, escaped);
  const std::optional<std::string> unescaped = UnescapeFilterValue(escaped);
  FUZZ_CHECK(unescaped && *unescaped == input, escaped);
}

const ocireg::internal::LdapLibrary& Ldap() {
  static const ocireg::internal::LdapLibrary* ldap = [] {
    auto loaded = ocireg::internal::LoadLdapLibrary();
    if (!loaded.ok()) {
      std::fprintf(stderr, "ldap_fuzz: %s\n", loaded.status().ToString().c_str());
      std::abort();
    }
    return *loaded;
  }();
  return *ldap;
}

// "cn=" and `value` with every byte as a \XX pair (RFC 4514 hexpair), then a parent.
std::string DnWithValue(std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string dn = "cn=";
  for (char c : value) {
    dn += '\\';
    dn += kHex[static_cast<unsigned char>(c) >> 4];
    dn += kHex[static_cast<unsigned char>(c) & 15];
  }
  return dn + ",ou=groups,dc=example,dc=org";
}

bool IsPrintableAscii(std::string_view text) {
  for (char c : text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void CheckDn(std::string_view input) {
  const auto& ldap = Ldap();
  const bool is_dn = ocireg::internal::IsLdapDn(ldap, input);
  const std::optional<std::string> first = ocireg::internal::FirstRdnValue(ldap, input);
  // A first RDN value exists only in a DN, and never in the empty DN.
  if (first) FUZZ_CHECK(is_dn && !input.empty(), input);
  if (input.empty()) FUZZ_CHECK(is_dn, input);
  // Only the given bytes count: what follows them in memory changes nothing.
  const std::string followed = std::string(input) + "=x,dc=y";
  const std::string_view prefix = std::string_view(followed).substr(0, input.size());
  FUZZ_CHECK(ocireg::internal::IsLdapDn(ldap, prefix) == is_dn, input);
  FUZZ_CHECK(ocireg::internal::FirstRdnValue(ldap, prefix) == first, input);
  // Any printable value, fully escaped, is the first RDN value of the DN that holds it.
  if (!input.empty() && IsPrintableAscii(input)) {
    const std::string dn = DnWithValue(input);
    const std::optional<std::string> value = ocireg::internal::FirstRdnValue(ldap, dn);
    FUZZ_CHECK(value && *value == input, dn);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckFilterEscaping(input);
  CheckDn(input);
  return 0;
}
