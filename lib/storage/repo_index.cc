// SPDX-License-Identifier: Apache-2.0
// Reading and writing index.json with RapidJSON.
#include "storage/repo_index.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <set>

namespace ocireg::internal {
namespace {

using rapidjson::Value;

Status Corrupt(std::string what) { return Internal("corrupt index.json: " + std::move(what)); }

std::string_view StringField(const Value& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

void WriteEntry(rapidjson::Writer<rapidjson::StringBuffer>& w, const IndexEntry& entry,
                const std::string* tag) {
  w.StartObject();
  w.Key("mediaType");
  w.String(entry.media_type.data(), static_cast<rapidjson::SizeType>(entry.media_type.size()));
  w.Key("digest");
  std::string digest = entry.digest.ToString();
  w.String(digest.data(), static_cast<rapidjson::SizeType>(digest.size()));
  w.Key("size");
  w.Uint64(entry.size);
  if (!entry.artifact_type.empty()) {
    w.Key("artifactType");
    w.String(entry.artifact_type.data(),
             static_cast<rapidjson::SizeType>(entry.artifact_type.size()));
  }
  if (tag != nullptr) {
    w.Key("annotations");
    w.StartObject();
    w.Key(kRefNameAnnotation.data(), static_cast<rapidjson::SizeType>(kRefNameAnnotation.size()));
    w.String(tag->data(), static_cast<rapidjson::SizeType>(tag->size()));
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

Result<RepoIndex> RepoIndex::Parse(std::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return Corrupt("not a JSON object");
  auto manifests = doc.FindMember("manifests");
  if (manifests == doc.MemberEnd() || !manifests->value.IsArray()) {
    return Corrupt("no manifests array");
  }
  RepoIndex index;
  for (const Value& d : manifests->value.GetArray()) {
    if (!d.IsObject()) return Corrupt("a manifest entry is not an object");
    auto digest = Digest::Parse(StringField(d, "digest"));
    if (!digest.ok()) return Corrupt(digest.status().message());
    auto size = d.FindMember("size");
    if (size == d.MemberEnd() || !size->value.IsUint64()) return Corrupt("bad size");
    IndexEntry entry{*digest, std::string(StringField(d, "mediaType")), size->value.GetUint64(),
                     std::string(StringField(d, "artifactType"))};
    index.PutManifest(entry);
    auto annotations = d.FindMember("annotations");
    if (annotations != d.MemberEnd() && annotations->value.IsObject()) {
      std::string_view tag = StringField(annotations->value, kRefNameAnnotation.data());
      if (!tag.empty()) index.SetTag(tag, *digest);
    }
  }
  return index;
}

std::string RepoIndex::Serialize() const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("schemaVersion");
  w.Int(2);
  w.Key("mediaType");
  w.String("application/vnd.oci.image.index.v1+json");
  w.Key("manifests");
  w.StartArray();
  std::set<Digest> tagged;
  for (const auto& [tag, digest] : tags_) {
    WriteEntry(w, manifests_.at(digest), &tag);
    tagged.insert(digest);
  }
  for (const auto& [digest, entry] : manifests_) {
    if (!tagged.contains(digest)) WriteEntry(w, entry, nullptr);
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

const IndexEntry* RepoIndex::FindManifest(const Digest& digest) const {
  auto it = manifests_.find(digest);
  return it == manifests_.end() ? nullptr : &it->second;
}

const Digest* RepoIndex::FindTag(std::string_view tag) const {
  auto it = tags_.find(tag);
  return it == tags_.end() ? nullptr : &it->second;
}

void RepoIndex::PutManifest(IndexEntry entry) {
  Digest digest = entry.digest;
  manifests_.insert_or_assign(std::move(digest), std::move(entry));
}

void RepoIndex::SetTag(std::string_view tag, const Digest& digest) {
  auto it = tags_.find(tag);
  if (it == tags_.end()) {
    tags_.emplace(std::string(tag), digest);
  } else {
    it->second = digest;
  }
}

bool RepoIndex::RemoveTag(std::string_view tag) {
  auto it = tags_.find(tag);
  if (it == tags_.end()) return false;
  tags_.erase(it);
  return true;
}

bool RepoIndex::RemoveManifest(const Digest& digest) {
  if (manifests_.erase(digest) == 0) return false;
  std::erase_if(tags_, [&](const auto& tag) { return tag.second == digest; });
  return true;
}

}  // namespace ocireg::internal
