// SPDX-License-Identifier: Apache-2.0
// The upstream client's URLs: the base URL's form, origins, and where a redirect points.
#include "mirror/upstream_url.h"

#include <cctype>

namespace ocireg::internal {

// "http://host[:port]" or "https://host[:port]" and nothing else.
Status CheckBaseUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    rest = url.substr(8);
  } else {
    return InvalidArgument("upstream URL must start with http:// or https://");
  }
  if (rest.empty()) return InvalidArgument("upstream URL has no host");
  for (const char c : rest) {
    const auto byte = static_cast<unsigned char>(c);
    const bool allowed =
        std::isalnum(byte) || c == '.' || c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
    if (!allowed) {
      return InvalidArgument(
          "upstream URL must be scheme://host[:port], without user, path or query");
    }
  }
  return Status();
}

// scheme://authority of an absolute URL.
std::string_view OriginOf(std::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  const size_t path = url.find_first_of("/?#", scheme_end + 3);
  return url.substr(0, path);
}

// Where a redirect's Location points, resolved against the URL that answered; nullopt for forms
// a registry never sends (relative paths without a leading slash, other schemes).
std::optional<std::string> ResolveLocation(std::string_view from, std::string_view location) {
  if (location.starts_with("https://") || location.starts_with("http://")) {
    return std::string(location);
  }
  if (location.starts_with("//")) {
    return std::string(from.substr(0, from.find("://") + 1)) + std::string(location);
  }
  if (location.starts_with("/")) return std::string(OriginOf(from)) + std::string(location);
  return std::nullopt;
}

bool IsHttps(std::string_view url) { return url.starts_with("https://"); }

}  // namespace ocireg::internal
