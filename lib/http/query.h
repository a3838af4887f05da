// SPDX-License-Identifier: Apache-2.0
// Parsers of query parameter values the API reads, free of httplib so that they can be tested and
// fuzzed on their own. Pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

// The `n` parameter of the catalog and tag list: nullopt when absent (`text` is nullopt), the
// number when `text` is a non-negative decimal integer that fits a size_t (only digits, no sign,
// no blanks), else kUnsupported.
Result<std::optional<size_t>> ParsePageSize(std::optional<std::string_view> text);

}  // namespace ocireg::internal
