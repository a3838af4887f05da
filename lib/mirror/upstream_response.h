// SPDX-License-Identifier: Apache-2.0
// Reading an upstream registry's answer headers: Retry-After (how long to leave it alone after a
// 429), Link (the next page of a tag list) and Content-Range (the size of a ranged blob).
//
// Pure functions over header values from a remote server: each is bounded and returns nullopt on
// anything it does not understand.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ocireg::internal {

// Retry-After waits longer than this are cut to it: a broken or hostile upstream cannot shut the
// mirror out of it for days.
inline constexpr std::chrono::seconds kMaxRetryAfter{3600};

// A Retry-After value: delay-seconds ("120") or an IMF-fixdate HTTP-date ("Wed, 21 Oct 2015
// 07:28:00 GMT"). The point in time until which the upstream asked to be left alone, at most
// kMaxRetryAfter after `now` (a date in the past gives `now`); nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now);

// The target of `Link: <target>; rel="next"` (RFC 8288, as the distribution spec uses it for tag
// lists), or nullopt when the value has no rel="next" link. The target is returned as written (a
// path such as "/v2/a/tags/list?n=2&last=b", or an absolute URL).
std::optional<std::string> ParseNextLink(std::string_view value);

// The complete length from `Content-Range: bytes first-last/complete`, or nullopt ("*" too).
std::optional<uint64_t> ParseContentRangeTotal(std::string_view value);

// The first byte's offset from `Content-Range: bytes first-last/complete`, or nullopt.
std::optional<uint64_t> ParseContentRangeFirst(std::string_view value);

}  // namespace ocireg::internal
