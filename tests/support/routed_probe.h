// SPDX-License-Identifier: Apache-2.0
// RoutedProbe: an authorization hook that tells a test when a request has reached its handler,
// so that the test can act while that request is in flight (a stop, a drain).
#pragma once

#include <atomic>
#include <future>
#include <string>
#include <string_view>
#include <utility>

#include "ocireg/auth/access.h"
#include "ocireg/status.h"

namespace ocireg::testing {

// Reports when a request for `repo` with `action` has been routed (the hook runs before the body
// is read): from then on that request counts as in flight. Every request is allowed.
struct RoutedProbe {
  RoutedProbe(std::string r, Action a, int s = 0) : repo(std::move(r)), action(a), skip(s) {}

  std::string repo;
  Action action;
  int skip;  // matching calls to let pass first
  std::promise<void> routed;
  std::atomic<int> seen{0};

  AuthorizeFn Hook() {
    return [this](const Caller&, std::string_view r, Action a) {
      if (r == repo && a == action && seen++ == skip) routed.set_value();
      return Status::Ok();
    };
  }
};

}  // namespace ocireg::testing
