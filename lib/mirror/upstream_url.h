// SPDX-License-Identifier: Apache-2.0
// The upstream client's URLs: the base URL's form, origins, and where a redirect points. Only
// the origin decides where credentials may go, so these are small, strict and kept apart.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

// "http://host[:port]" or "https://host[:port]" and nothing else.
Status CheckBaseUrl(std::string_view url);

// scheme://authority of an absolute URL.
std::string_view OriginOf(std::string_view url);

// Where a redirect's Location points, resolved against the URL that answered; nullopt for forms
// a registry never sends (relative paths without a leading slash, other schemes).
std::optional<std::string> ResolveLocation(std::string_view from, std::string_view location);

bool IsHttps(std::string_view url);

}  // namespace ocireg::internal
