// SPDX-License-Identifier: Apache-2.0
// CheckChunkRange: an upload chunk's Content-Range checked against the session and the request's
// Content-Length before any byte of it is read. Free of httplib; a pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

// `content_range` is the header's value (nullopt when absent: nothing to check), `content_length`
// the request's Content-Length (nullopt when the body is chunked), `size` the bytes the session
// holds. kRangeInvalid when the range is malformed, out of order (its first byte is not the
// session's next one), or covers another number of bytes than Content-Length gives.
Status CheckChunkRange(std::optional<std::string_view> content_range,
                       std::optional<uint64_t> content_length, uint64_t size);

}  // namespace ocireg::internal
