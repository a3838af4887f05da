// SPDX-License-Identifier: Apache-2.0
// The [access] table and its arrays of rules [[access.anonymous]], [[access.authenticated]] and
// [[access.policy]].
#include "config/schema.h"

namespace ocireg::config_parse {
namespace {

Status CheckRule(const AccessRule& rule, bool names_callers) {
  if (rule.repositories.empty())
    return InvalidArgument("repositories is required (a list of patterns)");
  if (rule.actions.empty()) return InvalidArgument("actions is required (a list of actions)");
  if (names_callers && rule.users.empty() && rule.groups.empty()) {
    return InvalidArgument("a policy needs users or groups");
  }
  return Status::Ok();
}

void EnsureAccess(Config& c) {
  if (!c.access) c.access.emplace();
}

}  // namespace

std::vector<SectionSpec> AccessSections() {
  return {
      {"access",
       {OCIREG_FIELD_OF((*c.access), admins, ReadStringList(n)),
        OCIREG_FIELD_OF((*c.access), admin_groups, ReadStringList(n))},
       nullptr,
       EnsureAccess},
      {"access.anonymous",
       {OCIREG_FIELD_OF(c.access->anonymous.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->anonymous.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->anonymous.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->anonymous.back(), false); }},
      {"access.authenticated",
       {OCIREG_FIELD_OF(c.access->authenticated.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->authenticated.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->authenticated.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->authenticated.back(), false); }},
      {"access.policy",
       {OCIREG_FIELD_OF(c.access->policy.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), users, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), groups, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->policy.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->policy.back(), true); }},
  };
}

}  // namespace ocireg::config_parse
