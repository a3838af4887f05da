// SPDX-License-Identifier: Apache-2.0
// UriEncode: percent-encoding as S3 and its Signature V4 want it.
//
// Every byte except the unreserved characters (A-Z a-z 0-9 - _ . ~) becomes %XY with upper-case
// hex digits; '/' stays as it is in object keys (the path of a request) and is encoded in query
// values. The same text goes on the wire and into the canonical request, so the two always agree.
#pragma once

#include <string>
#include <string_view>

namespace ocireg::internal::s3 {

enum class Slash { kKeep, kEncode };

std::string UriEncode(std::string_view text, Slash slash);

}  // namespace ocireg::internal::s3
