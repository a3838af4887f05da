// SPDX-License-Identifier: Apache-2.0
// OnExit: a scope guard, for clean-up that must run on every way out of a function.
#pragma once

#include <utility>

namespace ocireg::internal {

// Runs `f` when the scope ends, however it ends.
template <typename F>
class OnExit {
 public:
  explicit OnExit(F f) : f_(std::move(f)) {}
  ~OnExit() { f_(); }
  OnExit(const OnExit&) = delete;
  OnExit& operator=(const OnExit&) = delete;

 private:
  F f_;
};

}  // namespace ocireg::internal
