// SPDX-License-Identifier: Apache-2.0
// Reading list responses with RapidJSON.
#include "check/listing.h"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>

namespace ocireg::internal::check {
namespace {

bool Parse(std::string_view json, rapidjson::Document& doc) {
  doc.Parse(json.data(), json.size());
  return !doc.HasParseError() && doc.IsObject();
}

std::string Trim(std::string_view text) {
  const size_t start = text.find_first_not_of(" \t");
  if (start == std::string_view::npos) return "";
  const size_t end = text.find_last_not_of(" \t");
  return std::string(text.substr(start, end - start + 1));
}

std::string Lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

std::optional<std::string> NextLink(std::string_view link) {
  // One value may hold several links separated by commas; the spec needs rel="next".
  size_t start = 0;
  while (start < link.size()) {
    const size_t open = link.find('<', start);
    if (open == std::string_view::npos) return std::nullopt;
    const size_t close = link.find('>', open);
    if (close == std::string_view::npos) return std::nullopt;
    const size_t next = link.find('<', close);
    const std::string params = Lower(std::string(link.substr(close + 1, next - close - 1)));
    size_t at = 0;
    while ((at = params.find(';', at)) != std::string::npos) {
      ++at;
      const size_t end = params.find_first_of(";,", at);
      const std::string param = Trim(std::string_view(params).substr(at, end - at));
      if (param == "rel=\"next\"" || param == "rel=next") {
        return std::string(link.substr(open + 1, close - open - 1));
      }
    }
    if (next == std::string_view::npos) break;
    start = next;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> StringList(std::string_view json, const char* key) {
  rapidjson::Document doc;
  if (!Parse(json, doc) || !doc.HasMember(key) || !doc[key].IsArray()) return std::nullopt;
  std::vector<std::string> items;
  for (const auto& item : doc[key].GetArray()) {
    if (!item.IsString()) return std::nullopt;
    items.emplace_back(item.GetString(), item.GetStringLength());
  }
  return items;
}

std::optional<std::string> StringMember(std::string_view json, const char* key) {
  rapidjson::Document doc;
  if (!Parse(json, doc) || !doc.HasMember(key) || !doc[key].IsString()) return std::nullopt;
  return std::string(doc[key].GetString(), doc[key].GetStringLength());
}

std::optional<std::vector<IndexEntry>> IndexEntries(std::string_view json) {
  rapidjson::Document doc;
  if (!Parse(json, doc) || !doc.HasMember("schemaVersion") || !doc["schemaVersion"].IsInt() ||
      doc["schemaVersion"].GetInt() != 2 || !doc.HasMember("manifests") ||
      !doc["manifests"].IsArray()) {
    return std::nullopt;
  }
  std::vector<IndexEntry> entries;
  for (const auto& m : doc["manifests"].GetArray()) {
    if (!m.IsObject()) return std::nullopt;
    IndexEntry e;
    if (m.HasMember("mediaType") && m["mediaType"].IsString())
      e.media_type = m["mediaType"].GetString();
    if (m.HasMember("digest") && m["digest"].IsString()) e.digest = m["digest"].GetString();
    if (m.HasMember("size") && m["size"].IsInt64()) e.size = m["size"].GetInt64();
    if (m.HasMember("artifactType") && m["artifactType"].IsString()) {
      e.artifact_type = m["artifactType"].GetString();
    }
    if (m.HasMember("annotations") && m["annotations"].IsObject()) {
      for (const auto& a : m["annotations"].GetObject()) {
        if (a.value.IsString()) e.annotations.emplace_back(a.name.GetString(), a.value.GetString());
      }
    }
    entries.push_back(std::move(e));
  }
  return entries;
}

bool InSpecOrder(const std::vector<std::string>& tags) {
  if (std::is_sorted(tags.begin(), tags.end())) return true;
  return std::is_sorted(tags.begin(), tags.end(), [](const std::string& a, const std::string& b) {
    return Lower(a) < Lower(b);
  });
}

}  // namespace ocireg::internal::check
