// SPDX-License-Identifier: Apache-2.0
// The two time formats of S3's answers: ISO 8601 in XML, RFC 7231 in HTTP headers.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace ocireg::internal::s3 {

// "2009-10-12T17:50:30.000Z" (fraction optional; only "Z"). Fractions are dropped.
std::optional<std::chrono::system_clock::time_point> ParseIsoTime(std::string_view text);

// "Wed, 12 Oct 2009 17:50:00 GMT", as in Last-Modified.
std::optional<std::chrono::system_clock::time_point> ParseHttpTime(std::string_view text);

}  // namespace ocireg::internal::s3
