// SPDX-License-Identifier: Apache-2.0
// FUZZ_CHECK: an invariant of a fuzz target; a violation prints what broke and aborts, so that
// libFuzzer records the input as a crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ocireg::fuzz {

[[noreturn]] inline void InvariantBroken(const char* condition, const char* file, int line,
                                         std::string_view detail) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n  %.*s\n", file, line, condition,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace ocireg::fuzz

// Not assert(): it must hold in every build type. `detail` is anything convertible to
// std::string_view that helps to read the report (the input, a parsed value).
#define FUZZ_CHECK(condition, detail)                                                            \
  do {                                                                                           \
    if (!(condition)) ::ocireg::fuzz::InvariantBroken(#condition, __FILE__, __LINE__, (detail)); \
  } while (false)
