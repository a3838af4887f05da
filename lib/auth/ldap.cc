// SPDX-License-Identifier: Apache-2.0
// LdapAuthenticator: the login flow (service bind, user search, group lookup, user bind) and the
// checks of its settings. The connection itself is in ldap_session.cc, the cache in
// ldap_login_cache.cc.
#include "ocireg/auth/ldap.h"

#include <fmt/format.h>
#include <ldap.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/ldap_dn.h"
#include "auth/ldap_library.h"
#include "auth/ldap_login_cache.h"
#include "auth/ldap_session.h"
#include "quote.h"

namespace ocireg {
namespace {

using internal::LdapLibrary;
using internal::LdapSession;
using internal::QuoteForMessage;

constexpr std::string_view kUserPlaceholder = "{user}";
constexpr std::string_view kDnPlaceholder = "{dn}";

Status InvalidSetting(std::string message) {
  return InvalidArgument("auth.ldap." + std::move(message));
}

// `filter` with each {user} and {dn} replaced in one pass, so that a value containing a
// placeholder's text is never substituted again. The values must already be escaped.
std::string FillFilter(std::string_view filter, std::string_view user, std::string_view dn) {
  std::string out;
  for (size_t i = 0; i < filter.size();) {
    std::string_view rest = filter.substr(i);
    if (rest.starts_with(kUserPlaceholder)) {
      out += user;
      i += kUserPlaceholder.size();
    } else if (rest.starts_with(kDnPlaceholder)) {
      out += dn;
      i += kDnPlaceholder.size();
    } else {
      out += filter[i++];
    }
  }
  return out;
}

Status CheckUrl(const LdapLibrary& ldap, const LdapConfig& config) {
  LDAPURLDesc* description = nullptr;
  if (ldap.ldap_url_parse(config.url.c_str(), &description) != LDAP_URL_SUCCESS) {
    return InvalidSetting("url: " + QuoteForMessage(config.url) +
                          " is not an ldap:// or ldaps:// URL");
  }
  const std::string scheme = description->lud_scheme;
  ldap.ldap_free_urldesc(description);
  if (scheme != "ldap" && scheme != "ldaps") {
    return InvalidSetting("url: " + QuoteForMessage(config.url) +
                          " is not an ldap:// or ldaps:// URL");
  }
  if (config.start_tls && scheme == "ldaps") {
    return InvalidSetting("start_tls: StartTLS needs an ldap:// URL; ldaps:// is TLS already");
  }
  return Status::Ok();
}

Status CheckDn(const LdapLibrary& ldap, std::string_view field, const std::string& dn) {
  if (internal::IsLdapDn(ldap, dn)) return Status::Ok();
  return InvalidSetting(std::string(field) + ": " + QuoteForMessage(dn) + " is not a DN");
}

Status CheckCaFile(const std::string& path) {
  if (path.empty()) return Status::Ok();
  std::error_code error;
  std::ifstream file(path);
  if (!std::filesystem::is_regular_file(path, error) || !file) {
    return InvalidSetting("ca_file: cannot read " + QuoteForMessage(path));
  }
  return Status::Ok();
}

Status CheckConfig(const LdapLibrary& ldap, const LdapConfig& config) {
  OCIREG_RETURN_IF_ERROR(CheckUrl(ldap, config));
  if (config.user_base_dn.empty()) return InvalidSetting("user_base_dn: must not be empty");
  OCIREG_RETURN_IF_ERROR(CheckDn(ldap, "user_base_dn", config.user_base_dn));
  OCIREG_RETURN_IF_ERROR(CheckDn(ldap, "bind_dn", config.bind_dn));
  if (config.user_filter.find(kUserPlaceholder) == std::string::npos) {
    return InvalidSetting("user_filter: " + QuoteForMessage(config.user_filter) + " lacks {user}");
  }
  if (!config.group_base_dn.empty()) {
    OCIREG_RETURN_IF_ERROR(CheckDn(ldap, "group_base_dn", config.group_base_dn));
    // Without a placeholder every user would get the same groups.
    if (config.group_filter.find(kDnPlaceholder) == std::string::npos &&
        config.group_filter.find(kUserPlaceholder) == std::string::npos) {
      return InvalidSetting("group_filter: " + QuoteForMessage(config.group_filter) +
                            " lacks {dn} and {user}");
    }
    if (config.group_name_attribute.empty()) {
      return InvalidSetting("group_name_attribute: must not be empty");
    }
  }
  if (config.timeout.count() <= 0) return InvalidSetting("timeout: must be positive");
  if (config.cache_ttl.count() < 0) return InvalidSetting("cache_ttl: must not be negative");
  return CheckCaFile(config.ca_file);
}

void AddGroup(std::vector<std::string>& groups, std::string group) {
  if (group.empty() || std::find(groups.begin(), groups.end(), group) != groups.end()) return;
  groups.push_back(std::move(group));
}

}  // namespace

std::string EscapeLdapFilterValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == '\0') {
      out += fmt::format("\\{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  return out;
}

struct LdapAuthenticator::State {
  const LdapLibrary* ldap = nullptr;  // loaded for good: outlives every authenticator
  LdapConfig config;
  std::unique_ptr<internal::LdapLoginCache> cache;  // null when cache_ttl is 0

  // Asks the directory. Never consults or fills the cache.
  Result<std::optional<Identity>> Login(const std::string& user, const std::string& password);
  // The groups of the user `entry`: from its group_attribute values, then from the group
  // search (run as the service account).
  Result<std::vector<std::string>> Groups(LdapSession& session, const std::string& user,
                                          const internal::LdapEntry& entry);
};

Result<std::optional<Identity>> LdapAuthenticator::State::Login(const std::string& user,
                                                                const std::string& password) {
  Result<std::unique_ptr<LdapSession>> session = LdapSession::Open(*ldap, config);
  if (!session.ok()) return session.status();
  if (!config.bind_dn.empty()) {
    // Whatever the reason, a failed service bind is the server's or the operator's problem,
    // not the user's: never an answer about the user's password.
    Status bound = (*session)->Bind(config.bind_dn, config.bind_password);
    if (bound.Is(ErrorCode::kUnauthorized)) {
      return Unavailable("LDAP: the service bind failed: " + bound.message());
    }
    if (!bound.ok()) return bound;
  }

  const std::string filter = FillFilter(config.user_filter, EscapeLdapFilterValue(user), "");
  // Asking for two tells "exactly one" from "more than one" without reading them all.
  auto found = (*session)->Search(config.user_base_dn, filter, config.group_attribute, 2);
  if (!found.ok()) return found.status();
  if (found->truncated || found->entries.size() != 1) return std::optional<Identity>();
  const internal::LdapEntry& entry = found->entries.front();
  // A bind with an empty DN is anonymous and would succeed whatever the password.
  if (entry.dn.empty()) {
    return Unavailable("LDAP: the entry of user " + QuoteForMessage(user) + " came without a DN");
  }

  // The groups are read before the user bind: after it the connection acts as the user, who
  // may not be allowed to read groups.
  Result<std::vector<std::string>> groups = Groups(**session, user, entry);
  if (!groups.ok()) return groups.status();

  Status bound = (*session)->Bind(entry.dn, password);
  if (bound.Is(ErrorCode::kUnauthorized)) {
    return Unauthorized("LDAP: wrong password for user " + QuoteForMessage(user));
  }
  if (!bound.ok()) return bound;
  return std::optional<Identity>(Identity{user, std::move(*groups)});
}

Result<std::vector<std::string>> LdapAuthenticator::State::Groups(
    LdapSession& session, const std::string& user, const internal::LdapEntry& entry) {
  std::vector<std::string> groups;
  for (const std::string& value : entry.values) {
    AddGroup(groups, internal::FirstRdnValue(*ldap, value).value_or(value));
  }
  if (config.group_base_dn.empty()) return groups;
  const std::string filter =
      FillFilter(config.group_filter, EscapeLdapFilterValue(user), EscapeLdapFilterValue(entry.dn));
  auto found = session.Search(config.group_base_dn, filter, config.group_name_attribute, 0);
  if (!found.ok()) return found.status();
  // Every value of the name attribute names the group (cn may hold several).
  for (internal::LdapEntry& group : found->entries) {
    for (std::string& name : group.values) AddGroup(groups, std::move(name));
  }
  return groups;
}

LdapAuthenticator::LdapAuthenticator(std::unique_ptr<State> state) : state_(std::move(state)) {}

LdapAuthenticator::~LdapAuthenticator() = default;

Result<std::unique_ptr<LdapAuthenticator>> LdapAuthenticator::Create(const LdapConfig& config) {
  // The first LDAP configuration loads the client library; a process without one never maps it.
  Result<const LdapLibrary*> ldap = internal::LoadLdapLibrary();
  if (!ldap.ok()) return ldap.status();
  OCIREG_RETURN_IF_ERROR(CheckConfig(**ldap, config));
  auto state = std::make_unique<State>();
  state->ldap = *ldap;
  state->config = config;
  if (config.cache_ttl.count() > 0) {
    state->cache = std::make_unique<internal::LdapLoginCache>(config.cache_ttl);
  }
  return std::unique_ptr<LdapAuthenticator>(new LdapAuthenticator(std::move(state)));
}

Result<std::optional<Identity>> LdapAuthenticator::Authenticate(const Credentials& credentials) {
  if (credentials.authorization.empty()) return std::optional<Identity>();
  std::optional<BasicCredentials> basic = ParseBasicAuthorization(credentials.authorization);
  if (!basic || basic->user.empty()) return std::optional<Identity>();
  // A simple bind with a DN and no password is an "unauthenticated bind" (RFC 4513 5.1.2) that
  // servers may answer with success: refuse it before any bind.
  if (basic->password.empty()) {
    return Unauthorized("LDAP: empty password for user " + QuoteForMessage(basic->user));
  }
  if (state_->cache) {
    if (std::optional<Identity> hit = state_->cache->Find(basic->user, basic->password)) {
      return hit;
    }
  }
  Result<std::optional<Identity>> result = state_->Login(basic->user, basic->password);
  if (state_->cache && result.ok() && result->has_value()) {
    state_->cache->Insert(basic->user, basic->password, **result);
  }
  return result;
}

}  // namespace ocireg
