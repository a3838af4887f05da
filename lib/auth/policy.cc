// SPDX-License-Identifier: Apache-2.0
// AccessPolicy: the union of the rules that apply to a caller and a repository.
#include "ocireg/auth/policy.h"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ocireg {
namespace {

bool Contains(const std::vector<std::string>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool SharesAny(const std::vector<std::string>& list, const std::vector<std::string>& values) {
  return std::any_of(values.begin(), values.end(),
                     [&](const std::string& value) { return Contains(list, value); });
}

bool Covers(const AccessRule& rule, std::string_view repository) {
  return std::any_of(
      rule.repositories.begin(), rule.repositories.end(),
      [&](const std::string& pattern) { return MatchRepositoryPattern(pattern, repository); });
}

void Grant(const std::vector<AccessRule>& rules, std::string_view repository, ActionSet& allowed) {
  for (const AccessRule& rule : rules) {
    if (Covers(rule, repository)) allowed |= rule.actions;
  }
}

// The policy a config without an [access] table gets: open when nobody can log in, otherwise
// closed to anonymous callers and open to every authenticated one.
AccessConfig ImplicitAccess(const Config& config) {
  const AccessRule everything{{"**"}, {}, {}, ActionSet::All()};
  const bool any_method = !config.tls.client_ca.empty() || !config.auth.htpasswd.file.empty() ||
                          !config.auth.ldap.url.empty();
  AccessConfig access;
  (any_method ? access.authenticated : access.anonymous).push_back(everything);
  return access;
}

}  // namespace

bool MatchRepositoryPattern(std::string_view pattern, std::string_view name) {
  // matches[j]: pattern[i..] matches name[j..], computed for i from the end backwards. Patterns
  // come from the config and names are at most 255 characters: O(|pattern| * |name|) is cheap
  // and, unlike backtracking, stays so for any number of stars.
  const size_t n = name.size();
  // Bytes rather than vector<bool>, whose packed bits would cost a shift on every step.
  std::vector<uint8_t> next(n + 1, 0);
  std::vector<uint8_t> current(n + 1, 0);
  next[n] = 1;  // the empty pattern matches the empty rest
  size_t i = pattern.size();
  while (i > 0) {
    const bool double_star = i >= 2 && pattern[i - 1] == '*' && pattern[i - 2] == '*';
    const char p = pattern[i - 1];
    current[n] = (p == '*') ? next[n] : uint8_t{0};
    for (size_t j = n; j-- > 0;) {
      const char c = name[j];
      if (double_star) {
        current[j] = next[j] || current[j + 1];
      } else if (p == '*') {
        current[j] = next[j] || (c != '/' && current[j + 1]);
      } else if (p == '?') {
        current[j] = c != '/' && next[j + 1];
      } else {
        current[j] = c == p && next[j + 1];
      }
    }
    std::swap(next, current);
    i -= double_star ? 2 : 1;
  }
  return next[0] != 0;
}

AccessPolicy::AccessPolicy(AccessConfig access, bool password_login)
    : access_(std::make_shared<const AccessConfig>(std::move(access))),
      password_login_(password_login) {}

AccessPolicy AccessPolicy::FromConfig(const Config& config) {
  const bool password_login = !config.auth.htpasswd.file.empty() || !config.auth.ldap.url.empty();
  return AccessPolicy(config.access ? *config.access : ImplicitAccess(config), password_login);
}

ActionSet AccessPolicy::Allowed(const Caller& caller, std::string_view repository) const {
  ActionSet allowed;
  Grant(access_->anonymous, repository, allowed);
  if (caller.anonymous()) return allowed;
  const Identity& who = *caller.identity;
  if (Contains(access_->admins, who.user) || SharesAny(access_->admin_groups, who.groups)) {
    return ActionSet::All();
  }
  Grant(access_->authenticated, repository, allowed);
  for (const AccessRule& rule : access_->policy) {
    if (!Contains(rule.users, who.user) && !SharesAny(rule.groups, who.groups)) continue;
    if (Covers(rule, repository)) allowed |= rule.actions;
  }
  return allowed;
}

Status AccessPolicy::Check(const Caller& caller, std::string_view repository, Action action) const {
  if (repository.empty()) {
    if (caller.anonymous() && password_login_) {
      return Unauthorized("authentication required");
    }
    return Status::Ok();
  }
  if (Allowed(caller, repository).contains(action)) return Status::Ok();
  if (caller.anonymous()) return Unauthorized("authentication required");
  return Denied("user may not " + std::string(ActionName(action)) + " this repository");
}

AuthorizeFn AccessPolicy::AsAuthorizeFn() const {
  return [policy = *this](const Caller& caller, std::string_view repository, Action action) {
    return policy.Check(caller, repository, action);
  };
}

}  // namespace ocireg
