// SPDX-License-Identifier: Apache-2.0
// ParseManifest: checks a pushed manifest or index against the OCI and Docker v2 schemas.
#include "ocireg/manifest.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace ocireg {
namespace {

using JsonValue = rapidjson::Value;

// Iterative parsing keeps the call stack flat whatever the nesting depth of the body, and the pool
// allocator frees the tree without recursion; encoding validation refuses invalid UTF-8 strings.
constexpr unsigned kParseFlags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag;

std::string_view StringOf(const JsonValue& value) {
  return {value.GetString(), value.GetStringLength()};
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string AsciiLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// One side of a media type, as the spec's defs-descriptor.json pattern has it (RFC 6838 section
// 4.2 restricted-name): an alphanumeric, then up to 126 of [A-Za-z0-9!#$&^_.+-].
bool IsRestrictedName(std::string_view name) {
  constexpr std::string_view kExtra = "!#$&^_.+-";
  if (name.empty() || name.size() > 127 || !IsAsciiAlnum(name.front())) return false;
  for (char c : name) {
    if (!IsAsciiAlnum(c) && kExtra.find(c) == std::string_view::npos) return false;
  }
  return true;
}

// "type/subtype" without parameters.
bool IsMediaType(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  return IsRestrictedName(text.substr(0, slash)) && IsRestrictedName(text.substr(slash + 1));
}

// RFC 4648 section 4: the standard alphabet, padded to a multiple of four.
bool IsBase64(std::string_view text) {
  if (text.size() % 4 != 0) return false;
  size_t padding = 0;
  while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=') ++padding;
  for (size_t i = 0; i < text.size() - padding; ++i) {
    char c = text[i];
    if (!IsAsciiAlnum(c) && c != '+' && c != '/') return false;
  }
  return true;
}

// Client input quoted for an error message: at most kMaxEchoedBytes, control and non-ASCII bytes
// escaped, so a message stays short and printable whatever was pushed.
constexpr size_t kMaxEchoedBytes = 128;

std::string Quoted(std::string_view text) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxEchoedBytes; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\') {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += static_cast<char>(byte);
    }
  }
  out += text.size() > kMaxEchoedBytes ? "\"..." : "\"";
  return out;
}

std::string TypeName(const JsonValue& value) {
  if (value.IsObject()) return "an object";
  if (value.IsArray()) return "an array";
  if (value.IsString()) return "a string";
  if (value.IsBool()) return "a boolean";
  if (value.IsNull()) return "null";
  return "a number";
}

Status WrongType(const std::string& path, std::string_view expected, const JsonValue& value) {
  return ManifestInvalid(path + ": must be " + std::string(expected) + ", not " + TypeName(value));
}

// The member `name` of `object`, or nullptr. Objects we read have unique keys (CheckUniqueKeys).
const JsonValue* Find(const JsonValue& object, std::string_view name) {
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (StringOf(it->name) == name) return &it->value;
  }
  return nullptr;
}

// Parsers disagree on which of two equal keys wins (RapidJSON takes the first, Go the last), so a
// duplicate in a field we interpret would let clients read a different manifest than we checked.
Status CheckUniqueKeys(const JsonValue& object, const std::string& path) {
  std::set<std::string_view> seen;
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    if (!seen.insert(StringOf(it->name)).second) {
      return ManifestInvalid((path.empty() ? "" : path + ": ") + "duplicate key " +
                             Quoted(StringOf(it->name)));
    }
  }
  return Status::Ok();
}

std::string Join(const std::string& parent, std::string_view field) {
  return parent.empty() ? std::string(field) : parent + "." + std::string(field);
}

std::string Index(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

// An optional string field: nullopt when absent, an error when present with another type.
Result<std::optional<std::string>> OptionalString(const JsonValue& object, std::string_view field,
                                                  const std::string& parent) {
  const JsonValue* value = Find(object, field);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->IsString()) return WrongType(Join(parent, field), "a string", *value);
  return std::optional<std::string>(std::string(StringOf(*value)));
}

// An optional media-type field (artifactType, or a descriptor's mediaType when `required`).
Result<std::string> MediaTypeField(const JsonValue& object, std::string_view field,
                                   const std::string& parent, bool required) {
  Result<std::optional<std::string>> text = OptionalString(object, field, parent);
  if (!text.ok()) return text.status();
  if (!text->has_value()) {
    if (required) return ManifestInvalid(Join(parent, field) + ": is required");
    return std::string();
  }
  if (!IsMediaType(**text)) {
    return ManifestInvalid(Join(parent, field) + ": " + Quoted(**text) +
                           " is not a media type (type/subtype, RFC 6838)");
  }
  return std::move(**text);
}

Status CheckStringArray(const JsonValue& value, const std::string& path) {
  if (!value.IsArray()) return WrongType(path, "an array of strings", value);
  for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
    if (!value[i].IsString()) return WrongType(Index(path, i), "a string", value[i]);
  }
  return Status::Ok();
}

Result<Annotations> ParseAnnotations(const JsonValue& value, const std::string& path) {
  if (!value.IsObject()) return WrongType(path, "an object of strings", value);
  Annotations annotations;
  for (auto it = value.MemberBegin(); it != value.MemberEnd(); ++it) {
    std::string key(StringOf(it->name));
    if (!it->value.IsString())
      return WrongType(path + "[" + Quoted(key) + "]", "a string", it->value);
    if (!annotations.emplace(key, std::string(StringOf(it->value))).second) {
      return ManifestInvalid(path + ": duplicate key " + Quoted(key));
    }
  }
  return annotations;
}

// The `platform` of an index entry (image-index.md): architecture and os are required.
Status CheckPlatform(const JsonValue& value, const std::string& path) {
  if (!value.IsObject()) return WrongType(path, "an object", value);
  OCIREG_RETURN_IF_ERROR(CheckUniqueKeys(value, path));
  for (std::string_view field : {"architecture", "os"}) {
    Result<std::optional<std::string>> text = OptionalString(value, field, path);
    OCIREG_RETURN_IF_ERROR(text);
    if (!text->has_value()) return ManifestInvalid(Join(path, field) + ": is required");
  }
  for (std::string_view field : {"os.version", "variant"}) {
    OCIREG_RETURN_IF_ERROR(OptionalString(value, field, path));
  }
  for (std::string_view field : {"os.features", "features"}) {
    if (const JsonValue* list = Find(value, field)) {
      OCIREG_RETURN_IF_ERROR(CheckStringArray(*list, Join(path, field)));
    }
  }
  return Status::Ok();
}

Result<int64_t> ParseSize(const JsonValue* value, const std::string& path) {
  if (value == nullptr) return ManifestInvalid(path + ": is required");
  if (!value->IsNumber()) return WrongType(path, "an integer", *value);
  if (value->IsInt64()) {
    if (value->GetInt64() < 0) {
      return ManifestInvalid(path + ": must not be negative, got " +
                             std::to_string(value->GetInt64()));
    }
    return value->GetInt64();
  }
  if (value->IsUint64()) return ManifestInvalid(path + ": is larger than the int64 range");
  return ManifestInvalid(path + ": must be an integer, not a fraction or exponent");
}

// A content descriptor (descriptor.md). Fields we do not know are ignored, as the spec requires.
// `in_index` adds the checks of an index entry (its platform).
Result<Descriptor> ParseDescriptor(const JsonValue& value, const std::string& path, bool in_index) {
  if (!value.IsObject()) return WrongType(path, "an object (a descriptor)", value);
  OCIREG_RETURN_IF_ERROR(CheckUniqueKeys(value, path));
  Descriptor descriptor;

  Result<std::string> media_type = MediaTypeField(value, "mediaType", path, /*required=*/true);
  OCIREG_RETURN_IF_ERROR(media_type);
  descriptor.media_type = std::move(*media_type);

  const JsonValue* digest = Find(value, "digest");
  if (digest == nullptr) return ManifestInvalid(path + ".digest: is required");
  if (!digest->IsString()) return WrongType(path + ".digest", "a string", *digest);
  Result<Digest> parsed = Digest::Parse(StringOf(*digest));
  if (!parsed.ok()) {
    return DigestInvalid(path + ".digest: " + parsed.status().message());
  }
  descriptor.digest = std::move(*parsed);

  Result<int64_t> size = ParseSize(Find(value, "size"), path + ".size");
  OCIREG_RETURN_IF_ERROR(size);
  descriptor.size = *size;

  if (const JsonValue* urls = Find(value, "urls")) {
    OCIREG_RETURN_IF_ERROR(CheckStringArray(*urls, path + ".urls"));
    for (const JsonValue& url : urls->GetArray()) descriptor.urls.emplace_back(StringOf(url));
  }
  if (const JsonValue* annotations = Find(value, "annotations")) {
    Result<Annotations> parsed_annotations = ParseAnnotations(*annotations, path + ".annotations");
    OCIREG_RETURN_IF_ERROR(parsed_annotations);
    descriptor.annotations = std::move(*parsed_annotations);
  }
  Result<std::string> artifact_type = MediaTypeField(value, "artifactType", path, false);
  OCIREG_RETURN_IF_ERROR(artifact_type);
  descriptor.artifact_type = std::move(*artifact_type);

  Result<std::optional<std::string>> data = OptionalString(value, "data", path);
  OCIREG_RETURN_IF_ERROR(data);
  if (data->has_value() && !IsBase64(**data)) return ManifestInvalid(path + ".data: is not base64");

  if (in_index) {
    if (const JsonValue* platform = Find(value, "platform")) {
      OCIREG_RETURN_IF_ERROR(CheckPlatform(*platform, path + ".platform"));
    }
  }
  return descriptor;
}

Result<std::vector<Descriptor>> ParseDescriptorArray(const JsonValue& object,
                                                     std::string_view field, bool in_index) {
  std::string path(field);
  const JsonValue* value = Find(object, field);
  if (value == nullptr) return ManifestInvalid(path + ": is required");
  if (!value->IsArray()) return WrongType(path, "an array of descriptors", *value);
  std::vector<Descriptor> out;
  out.reserve(value->Size());
  for (rapidjson::SizeType i = 0; i < value->Size(); ++i) {
    Result<Descriptor> descriptor = ParseDescriptor((*value)[i], Index(path, i), in_index);
    OCIREG_RETURN_IF_ERROR(descriptor);
    out.push_back(std::move(*descriptor));
  }
  return out;
}

bool IsOci(ManifestKind kind) {
  return kind == ManifestKind::kOciManifest || kind == ManifestKind::kOciIndex;
}

std::string_view MediaTypeOf(ManifestKind kind) {
  switch (kind) {
    case ManifestKind::kOciManifest:
      return media_types::kOciManifest;
    case ManifestKind::kOciIndex:
      return media_types::kOciIndex;
    case ManifestKind::kDockerManifest:
      return media_types::kDockerManifest;
    case ManifestKind::kDockerManifestList:
      return media_types::kDockerManifestList;
  }
  return media_types::kOciManifest;
}

// `lowered` is a lowercase media type without parameters.
std::optional<ManifestKind> KindOf(std::string_view lowered) {
  for (ManifestKind kind : {ManifestKind::kOciManifest, ManifestKind::kOciIndex,
                            ManifestKind::kDockerManifest, ManifestKind::kDockerManifestList}) {
    if (lowered == MediaTypeOf(kind)) return kind;
  }
  return std::nullopt;
}

bool IsSchema1(std::string_view lowered) {
  return lowered == media_types::kDockerSchema1 || lowered == media_types::kDockerSchema1Signed;
}

// The media type of a Content-Type header: parameters dropped, optional whitespace trimmed.
std::string_view StripParameters(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  constexpr std::string_view kSpace = " \t";
  size_t begin = content_type.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  size_t end = content_type.find_last_not_of(kSpace);
  return content_type.substr(begin, end - begin + 1);
}

Status Schema1Refused(std::string_view why) {
  return ManifestInvalid("Docker image manifest schema 1 (" + std::string(why) +
                         ") is not supported; push an OCI or Docker schema 2 manifest");
}

// RapidJSON's memory stream ends at a NUL byte and skips leading byte-order-mark bytes, so either
// would let bytes through that other JSON parsers refuse. Neither can appear in valid JSON text.
Status CheckRawBytes(std::string_view body) {
  if (size_t nul = body.find('\0'); nul != std::string_view::npos) {
    return ManifestInvalid("invalid JSON at byte " + std::to_string(nul) + ": a NUL byte");
  }
  if (!body.empty() && static_cast<unsigned char>(body.front()) >= 0x80) {
    return ManifestInvalid("invalid JSON at byte 0: not ASCII (a byte order mark is not allowed)");
  }
  return Status::Ok();
}

Status CheckSchemaVersion(const JsonValue& root) {
  const JsonValue* version = Find(root, "schemaVersion");
  if (version == nullptr) return ManifestInvalid("schemaVersion: is required");
  if (!version->IsInt()) return WrongType("schemaVersion", "the integer 2", *version);
  if (version->GetInt() == 1) return Schema1Refused("schemaVersion 1");
  if (version->GetInt() != 2) {
    return ManifestInvalid("schemaVersion: must be 2, got " + std::to_string(version->GetInt()));
  }
  return Status::Ok();
}

// Decides what the body is, from the Content-Type, the body's mediaType, or (when neither is given)
// its shape. `header` is the Content-Type without parameters.
Result<ManifestKind> ResolveKind(std::string_view header, const JsonValue& root) {
  Result<std::optional<std::string>> body_type = OptionalString(root, "mediaType", "");
  OCIREG_RETURN_IF_ERROR(body_type);
  std::string lowered_header = AsciiLower(header);
  std::optional<std::string> lowered_body;
  if (body_type->has_value()) lowered_body = AsciiLower(**body_type);

  if (IsSchema1(lowered_header)) return Schema1Refused(header);
  if (lowered_body && IsSchema1(*lowered_body)) return Schema1Refused(**body_type);
  OCIREG_RETURN_IF_ERROR(CheckSchemaVersion(root));

  if (!header.empty() && lowered_body && *lowered_body != lowered_header) {
    return ManifestInvalid("mediaType " + Quoted(**body_type) +
                           " in the body contradicts Content-Type " + Quoted(header));
  }
  std::optional<ManifestKind> kind;
  if (!header.empty() || lowered_body) {
    std::string_view effective = header.empty() ? std::string_view(*lowered_body) : lowered_header;
    kind = KindOf(effective);
    if (!kind) {
      return ManifestInvalid("unsupported manifest media type " +
                             Quoted(header.empty() ? std::string_view(**body_type) : header));
    }
  } else {
    // OCI lets mediaType out; the required field tells a manifest from an index.
    bool has_manifests = Find(root, "manifests") != nullptr;
    bool has_config = Find(root, "config") != nullptr;
    if (has_manifests && has_config) {
      return ManifestInvalid(
          "no mediaType or Content-Type, and the body has both config and manifests");
    }
    if (!has_manifests && !has_config) {
      return ManifestInvalid(
          "no mediaType or Content-Type, and the body has neither config nor manifests");
    }
    kind = has_manifests ? ManifestKind::kOciIndex : ManifestKind::kOciManifest;
  }
  if (!IsOci(*kind) && !lowered_body) {
    return ManifestInvalid("mediaType: is required in a Docker manifest (" +
                           std::string(MediaTypeOf(*kind)) + ")");
  }
  return *kind;
}

// The fields only the OCI formats define: artifactType, subject and annotations.
Status ParseOciFields(const JsonValue& root, ManifestInfo& info) {
  Result<std::string> artifact_type = MediaTypeField(root, "artifactType", "", false);
  OCIREG_RETURN_IF_ERROR(artifact_type);
  info.artifact_type = std::move(*artifact_type);
  if (const JsonValue* subject = Find(root, "subject")) {
    Result<Descriptor> descriptor = ParseDescriptor(*subject, "subject", false);
    OCIREG_RETURN_IF_ERROR(descriptor);
    info.subject = std::move(*descriptor);
  }
  if (const JsonValue* annotations = Find(root, "annotations")) {
    Result<Annotations> parsed = ParseAnnotations(*annotations, "annotations");
    OCIREG_RETURN_IF_ERROR(parsed);
    info.annotations = std::move(*parsed);
  }
  return Status::Ok();
}

Status ParseImageManifest(const JsonValue& root, ManifestInfo& info) {
  if (Find(root, "manifests") != nullptr) {
    return ManifestInvalid("manifests: not allowed in an image manifest (" + info.media_type + ")");
  }
  const JsonValue* config = Find(root, "config");
  if (config == nullptr) return ManifestInvalid("config: is required");
  Result<Descriptor> config_descriptor = ParseDescriptor(*config, "config", false);
  OCIREG_RETURN_IF_ERROR(config_descriptor);
  info.config = std::move(*config_descriptor);
  // The schema says minItems 1 but the prose only says layers SHOULD have an entry, so an empty
  // array is accepted.
  Result<std::vector<Descriptor>> layers = ParseDescriptorArray(root, "layers", false);
  OCIREG_RETURN_IF_ERROR(layers);
  info.layers = std::move(*layers);
  if (info.kind != ManifestKind::kOciManifest) return Status::Ok();

  OCIREG_RETURN_IF_ERROR(ParseOciFields(root, info));
  if (info.artifact_type.empty() && info.config->media_type == media_types::kOciEmptyJson) {
    return ManifestInvalid("artifactType: is required when config.mediaType is " +
                           std::string(media_types::kOciEmptyJson));
  }
  return Status::Ok();
}

Status ParseIndex(const JsonValue& root, ManifestInfo& info) {
  for (std::string_view field : {"config", "layers"}) {
    if (Find(root, field) != nullptr) {
      return ManifestInvalid(std::string(field) + ": not allowed in an image index (" +
                             info.media_type + ")");
    }
  }
  Result<std::vector<Descriptor>> manifests = ParseDescriptorArray(root, "manifests", true);
  OCIREG_RETURN_IF_ERROR(manifests);
  info.manifests = std::move(*manifests);
  if (info.kind != ManifestKind::kOciIndex) return Status::Ok();
  return ParseOciFields(root, info);
}

}  // namespace

std::string ManifestInfo::ReferrerArtifactType() const {
  if (!artifact_type.empty()) return artifact_type;
  if (!IsIndexKind(kind) && config.has_value()) return config->media_type;
  return {};
}

std::vector<Descriptor> ManifestInfo::References() const {
  std::vector<Descriptor> out;
  out.reserve((config ? 1 : 0) + layers.size() + manifests.size());
  if (config) out.push_back(*config);
  out.insert(out.end(), layers.begin(), layers.end());
  out.insert(out.end(), manifests.begin(), manifests.end());
  return out;
}

Result<ManifestInfo> ParseManifest(std::string_view content_type, std::string_view body,
                                   size_t max_bytes) {
  if (body.size() > max_bytes) {
    return ManifestTooLarge("manifest is " + std::to_string(body.size()) +
                            " bytes, over the limit of " + std::to_string(max_bytes));
  }
  OCIREG_RETURN_IF_ERROR(CheckRawBytes(body));
  rapidjson::Document document;
  // Parse(str, length) reads the bytes without writing to them (no in-situ parsing).
  document.Parse<kParseFlags>(body.data(), body.size());
  if (document.HasParseError()) {
    return ManifestInvalid("invalid JSON at byte " + std::to_string(document.GetErrorOffset()) +
                           ": " + rapidjson::GetParseError_En(document.GetParseError()));
  }
  if (!document.IsObject())
    return ManifestInvalid("a manifest must be a JSON object, not " + TypeName(document));
  OCIREG_RETURN_IF_ERROR(CheckUniqueKeys(document, ""));

  Result<ManifestKind> kind = ResolveKind(StripParameters(content_type), document);
  OCIREG_RETURN_IF_ERROR(kind);
  ManifestInfo info;
  info.kind = *kind;
  info.media_type = std::string(MediaTypeOf(*kind));
  if (IsIndexKind(info.kind)) {
    OCIREG_RETURN_IF_ERROR(ParseIndex(document, info));
  } else {
    OCIREG_RETURN_IF_ERROR(ParseImageManifest(document, info));
  }
  return info;
}

}  // namespace ocireg
