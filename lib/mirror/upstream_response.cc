// SPDX-License-Identifier: Apache-2.0
// Retry-After, Link and Content-Range, parsed strictly and within bounds.
#include "mirror/upstream_response.h"

#include <algorithm>
#include <charconv>

#include "storage/s3/s3_time.h"

namespace ocireg::internal {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<uint64_t> Number(std::string_view text) {
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::chrono::system_clock::time_point> ParseRetryAfter(
    std::string_view value, std::chrono::system_clock::time_point now) {
  value = Trim(value);
  if (value.size() > 64) return std::nullopt;
  if (!value.empty() && value.front() >= '0' && value.front() <= '9') {
    const auto seconds = Number(value);
    if (!seconds) return std::nullopt;
    return now + std::chrono::seconds(std::min<uint64_t>(*seconds, kMaxRetryAfter.count()));
  }
  // The Last-Modified parser of the S3 driver reads the same IMF-fixdate.
  const auto date = s3::ParseHttpTime(value);
  if (!date) return std::nullopt;
  return std::clamp(*date, now, now + kMaxRetryAfter);
}

std::optional<std::string> ParseNextLink(std::string_view value) {
  if (value.size() > 8192) return std::nullopt;
  // link-value = "<" URI-Reference ">" *( OWS ";" OWS link-param ), several separated by commas.
  while (true) {
    value = Trim(value);
    if (value.empty() || value.front() != '<') return std::nullopt;
    const size_t close = value.find('>');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view target = value.substr(1, close - 1);
    value.remove_prefix(close + 1);
    const size_t end = value.find(',');
    std::string_view params = value.substr(0, end);
    bool next = false;
    while (!params.empty()) {
      const size_t semicolon = params.find(';');
      const std::string_view param = Trim(params.substr(0, semicolon));
      if (param == "rel=\"next\"" || param == "rel=next") next = true;
      if (semicolon == std::string_view::npos) break;
      params.remove_prefix(semicolon + 1);
    }
    if (next) {
      if (target.empty()) return std::nullopt;
      for (const char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
      }
      return std::string(target);
    }
    if (end == std::string_view::npos) return std::nullopt;
    value.remove_prefix(end + 1);
  }
}

std::optional<uint64_t> ParseContentRangeTotal(std::string_view value) {
  value = Trim(value);
  if (!value.starts_with("bytes ")) return std::nullopt;
  const size_t slash = value.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  return Number(value.substr(slash + 1));
}

std::optional<uint64_t> ParseContentRangeFirst(std::string_view value) {
  value = Trim(value);
  if (!value.starts_with("bytes ")) return std::nullopt;
  value.remove_prefix(6);
  const size_t dash = value.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  return Number(value.substr(0, dash));
}

}  // namespace ocireg::internal
