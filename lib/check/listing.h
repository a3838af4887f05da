// SPDX-License-Identifier: Apache-2.0
// Reading list responses: the JSON bodies of tag lists, catalogs and referrers, and RFC 5988 Link
// headers that lead to the next page.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ocireg::internal::check {

// The target of a `Link: <target>; rel="next"` header value, or nullopt when the value is not one.
std::optional<std::string> NextLink(std::string_view link);

// A JSON object's member `key` that is an array of strings. nullopt when the body is not a JSON
// object, or the member is missing or not such an array.
std::optional<std::vector<std::string>> StringList(std::string_view json, const char* key);
// The string member `key` of a JSON object, or nullopt.
std::optional<std::string> StringMember(std::string_view json, const char* key);

// One descriptor of an image index's "manifests".
struct IndexEntry {
  std::string media_type;
  std::string digest;
  long long size = -1;
  std::optional<std::string> artifact_type;
  std::vector<std::pair<std::string, std::string>> annotations;
};
// The descriptors of an image index (schemaVersion 2 with a "manifests" array), or nullopt.
std::optional<std::vector<IndexEntry>> IndexEntries(std::string_view json);

// True when `tags` are in ASCII order or in case-insensitive order, the two the spec allows.
bool InSpecOrder(const std::vector<std::string>& tags);

}  // namespace ocireg::internal::check
