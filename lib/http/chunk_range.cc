// SPDX-License-Identifier: Apache-2.0
// CheckChunkRange: the Content-Range of a PATCH or closing PUT chunk against its session.
#include "http/chunk_range.h"

#include <string>

#include "http/exchange.h"

namespace ocireg::internal {

Status CheckChunkRange(std::optional<std::string_view> content_range,
                       std::optional<uint64_t> content_length, uint64_t size) {
  if (!content_range) return Status::Ok();
  auto range = ParseContentRange(*content_range);
  if (!range) return RangeInvalid("malformed Content-Range");
  if (range->first != size) {
    return RangeInvalid("chunk out of order: session has " + std::to_string(size) +
                        " bytes, chunk starts at " + std::to_string(range->first));
  }
  // last - first + 1 wraps to 0 for 0-18446744073709551615, so compare without the + 1: a range
  // always covers at least one byte, which an empty body does not match.
  if (content_length &&
      (*content_length == 0 || range->second - range->first != *content_length - 1)) {
    return RangeInvalid("Content-Range does not match Content-Length");
  }
  return Status::Ok();
}

}  // namespace ocireg::internal
