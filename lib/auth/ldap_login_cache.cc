// SPDX-License-Identifier: Apache-2.0
// The cache of successful LDAP logins.
#include "auth/ldap_login_cache.h"

#include <random>
#include <utility>

#include "ocireg/digest.h"

namespace ocireg::internal {
namespace {

constexpr size_t kSaltBytes = 32;

std::string RandomSalt() {
  std::random_device random;  // the kernel's generator on Linux
  std::string salt;
  while (salt.size() < kSaltBytes) {
    const unsigned int word = random();
    for (size_t i = 0; i < sizeof(word) && salt.size() < kSaltBytes; ++i) {
      salt += static_cast<char>((word >> (8 * i)) & 0xff);
    }
  }
  return salt;
}

// Compares without an early exit, so the time taken says nothing about where they differ.
bool SameBytes(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

}  // namespace

LdapLoginCache::LdapLoginCache(Clock::duration ttl) : ttl_(ttl), salt_(RandomSalt()) {}

std::string LdapLoginCache::Fingerprint(std::string_view password) const {
  Digester digester(DigestAlgorithm::kSha256);
  digester.Update(salt_);
  digester.Update(password);
  return digester.Finish().hex();
}

std::optional<Identity> LdapLoginCache::Find(std::string_view user, std::string_view password) {
  const std::string fingerprint = Fingerprint(password);
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(mutex_);
  auto it = entries_.find(std::string(user));
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expires <= now) {
    entries_.erase(it);
    return std::nullopt;
  }
  if (!SameBytes(it->second.fingerprint, fingerprint)) return std::nullopt;
  return it->second.identity;
}

void LdapLoginCache::Insert(std::string_view user, std::string_view password,
                            const Identity& identity) {
  Entry entry{Fingerprint(password), identity, Clock::now() + ttl_};
  std::lock_guard lock(mutex_);
  EraseExpired(Clock::now());
  entries_.insert_or_assign(std::string(user), std::move(entry));
}

void LdapLoginCache::EraseExpired(Clock::time_point now) {
  std::erase_if(entries_, [now](const auto& item) { return item.second.expires <= now; });
}

}  // namespace ocireg::internal
