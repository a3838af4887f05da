// SPDX-License-Identifier: Apache-2.0
// Parsers of query parameter values: the page size `n`.
#include "http/query.h"

#include <charconv>
#include <system_error>

namespace ocireg::internal {

Result<std::optional<size_t>> ParsePageSize(std::optional<std::string_view> text) {
  if (!text) return std::optional<size_t>();
  size_t value = 0;
  const char* end = text->data() + text->size();
  // from_chars takes neither a sign nor blanks, so "+1", "-1" and " 1" are refused.
  auto [stop, ec] = std::from_chars(text->data(), end, value);
  if (text->empty() || ec != std::errc() || stop != end) {
    return Unsupported("n must be a non-negative integer");
  }
  return std::optional<size_t>(value);
}

}  // namespace ocireg::internal
