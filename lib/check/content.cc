// SPDX-License-Identifier: Apache-2.0
// ContentMaker: random blobs, and manifests written with RapidJSON.
#include "check/content.h"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace ocireg::internal::check {
namespace {

using Writer = rapidjson::PrettyWriter<rapidjson::StringBuffer>;

Content Make(std::string bytes, std::string media_type,
             DigestAlgorithm algorithm = DigestAlgorithm::kSha256) {
  Digest digest = Digester::Of(algorithm, bytes);
  return Content{std::move(bytes), std::move(digest), std::move(media_type)};
}

void String(Writer& w, const std::string& text) {
  w.String(text.c_str(), static_cast<rapidjson::SizeType>(text.size()));
}

void WriteDescriptor(Writer& w, const Content& c, const char* platform_arch = nullptr) {
  w.StartObject();
  w.Key("mediaType");
  String(w, c.media_type);
  w.Key("digest");
  String(w, c.digest.ToString());
  w.Key("size");
  w.Uint64(c.size());
  if (platform_arch != nullptr) {
    w.Key("platform");
    w.StartObject();
    w.Key("architecture");
    w.String(platform_arch);
    w.Key("os");
    w.String("linux");
    w.EndObject();
  }
  w.EndObject();
}

// Three-space indentation: no common serializer's choice, so re-serialized bytes would differ.
std::string Finish(rapidjson::StringBuffer& buffer) {
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace

Content ContentMaker::Layer(size_t size, DigestAlgorithm algorithm) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    const uint64_t word = rng_();
    for (size_t j = 0; j < 8 && i + j < size; ++j)
      bytes[i + j] = static_cast<char>(word >> (8 * j));
  }
  return Make(std::move(bytes), kOciLayer, algorithm);
}

Content ContentMaker::Config() {
  return Make(R"({"architecture":"amd64","os":"linux","config":{"Labels":{"ocireg-check":")" +
                  Hex(16) + R"("}},"rootfs":{"type":"layers","diff_ids":[]}})",
              kOciConfig);
}

Content ContentMaker::Empty() { return Make("{}", kOciEmpty); }

Content ContentMaker::ImageManifest(const Content& config, const std::vector<Content>& layers,
                                    const ManifestExtras& extras) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 3);
  w.StartObject();
  w.Key("schemaVersion");
  w.Int(2);
  w.Key("mediaType");
  w.String(kOciManifest);
  if (!extras.artifact_type.empty()) {
    w.Key("artifactType");
    String(w, extras.artifact_type);
  }
  w.Key("config");
  WriteDescriptor(w, config);
  w.Key("layers");
  w.StartArray();
  for (const auto& layer : layers) WriteDescriptor(w, layer);
  w.EndArray();
  if (extras.subject) {
    w.Key("subject");
    WriteDescriptor(w, *extras.subject);
  }
  if (!extras.annotations.empty()) {
    w.Key("annotations");
    w.StartObject();
    for (const auto& [key, value] : extras.annotations) {
      String(w, key);
      String(w, value);
    }
    w.EndObject();
  }
  w.EndObject();
  return Make(Finish(buffer), kOciManifest);
}

Content ContentMaker::ImageIndex(const std::vector<Content>& manifests) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.SetIndent(' ', 3);
  w.StartObject();
  w.Key("schemaVersion");
  w.Int(2);
  w.Key("mediaType");
  w.String(kOciIndex);
  w.Key("manifests");
  w.StartArray();
  for (size_t i = 0; i < manifests.size(); ++i) {
    WriteDescriptor(w, manifests[i], i % 2 == 0 ? "amd64" : "arm64");
  }
  w.EndArray();
  w.EndObject();
  return Make(Finish(buffer), kOciIndex);
}

std::string ContentMaker::Hex(size_t count) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  while (out.size() < count) out += kHex[rng_() & 15];
  return out;
}

}  // namespace ocireg::internal::check
