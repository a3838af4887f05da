// SPDX-License-Identifier: Apache-2.0
// Names of the actions, as they appear in the configuration.
#include "ocireg/auth/access.h"

namespace ocireg {
namespace {

constexpr std::pair<Action, std::string_view> kActionNames[] = {{Action::kRead, "read"},
                                                                {Action::kCreate, "create"},
                                                                {Action::kUpdate, "update"},
                                                                {Action::kDelete, "delete"}};

}  // namespace

std::string_view ActionName(Action action) {
  for (const auto& [value, name] : kActionNames) {
    if (value == action) return name;
  }
  return "unknown";
}

AuthorizeFn AllowAll() {
  return [](const Caller&, std::string_view, Action) { return Status::Ok(); };
}

std::optional<Action> ParseAction(std::string_view name) {
  for (const auto& [value, known] : kActionNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

}  // namespace ocireg
