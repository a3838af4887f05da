// SPDX-License-Identifier: Apache-2.0
// Manifest endpoints: GET/HEAD (end-3), PUT (end-7a/7b with ?tag=), DELETE (end-9) and the
// referrers list (end-12).
#include <httplib.h>

#include <vector>

#include "http/api.h"
#include "http/response.h"
#include "ocireg/manifest.h"
#include "ocireg/reference.h"
#include "quote.h"

namespace ocireg::internal {
namespace {

// "application/vnd.oci.image.manifest.v1+json; charset=utf-8" -> the media type alone: the spec
// tells registries to ignore parameters.
std::string MediaTypeOf(const std::string& content_type) {
  std::string type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  return type;
}

std::string ManifestLocation(std::string_view name, const Digest& digest) {
  return "/v2/" + std::string(name) + "/manifests/" + digest.ToString();
}

// The reference of a GET, HEAD or DELETE. A tag outside the tag grammar can name no manifest, so
// such a read finds nothing: 404 MANIFEST_UNKNOWN, as the spec asks for a manifest that is not
// found (the conformance suite reads ".INVALID_MANIFEST_NAME"). Only a PUT is told its tag is
// invalid. A malformed digest keeps its DIGEST_INVALID.
Result<Reference> ParseLookupReference(const std::string& text) {
  auto reference = Reference::Parse(text);
  if (reference.ok() || text.find(':') != std::string::npos) return reference;
  return ManifestUnknown("no manifest is tagged " + QuoteForMessage(text) +
                         ", which is not a valid tag");
}

}  // namespace

void Api::GetManifest(Exchange& ex) {
  auto reference = ParseLookupReference(ex.route.reference);
  if (!reference.ok()) return Fail(ex, reference.status());
  auto record = store_.ResolveManifest(ex.route.name, *reference);
  if (!record.ok()) return Fail(ex, record.status(), ErrorCode::kManifestUnknown);
  if (ex.route.method == Method::kHead) {
    ex.res.status = 200;
    ex.res.set_header("Docker-Content-Digest", record->digest.ToString());
    ex.res.set_header("Content-Type", record->media_type);
    ex.res.set_header("Content-Length", std::to_string(record->size));
    return;
  }
  // Manifests are small (max_manifest_bytes) and served whole.
  auto body = store_.ReadManifest(ex.route.name, record->digest);
  if (!body.ok()) return Fail(ex, body.status(), ErrorCode::kManifestUnknown);
  ex.res.status = 200;
  ex.res.set_header("Docker-Content-Digest", record->digest.ToString());
  ex.res.set_content(*body, record->media_type);
}

void Api::PutManifest(Exchange& ex) {
  auto reference = Reference::Parse(ex.route.reference);
  if (!reference.ok()) return Fail(ex, reference.status());
  std::vector<std::string> tags;
  const size_t tag_count = ex.req.get_param_value_count("tag");
  if (tag_count > kMaxTagsPerPut) {
    return Fail(ex, NameInvalid("at most " + std::to_string(kMaxTagsPerPut) + " tags per request"),
                ErrorCode::kNameUnknown, 414);
  }
  for (size_t i = 0; i < tag_count; ++i) tags.push_back(ex.req.get_param_value("tag", i));

  std::string body;
  const Status too_large = ManifestTooLarge("manifest larger than " +
                                            std::to_string(limits_.max_manifest_bytes) + " bytes");
  Status read = ReadBody(ex, limits_.max_manifest_bytes, too_large, kIoChunkBytes, aborting,
                         [&](std::span<const char> bytes) {
                           body.append(bytes.data(), bytes.size());
                           return Status::Ok();
                         });
  if (!read.ok())
    return Fail(ex,
                read.Is(ErrorCode::kBlobUploadInvalid) ? ManifestInvalid(read.message()) : read);

  std::vector<std::string> moved_tags = tags;
  if (!reference->is_digest()) moved_tags.push_back(reference->tag());
  const DigestAlgorithm algorithm =
      reference->is_digest() ? reference->digest().algorithm() : DigestAlgorithm::kSha256;
  if (Status allowed = AuthorizeTagMoves(ex, moved_tags, Digester::Of(algorithm, body));
      !allowed.ok()) {
    return Fail(ex, allowed);
  }
  auto result = store_.PutManifest(ex.route.name, *reference, tags,
                                   MediaTypeOf(ex.req.get_header_value("Content-Type")), body);
  if (!result.ok()) return Fail(ex, result.status(), ErrorCode::kManifestBlobUnknown);
  ex.res.status = 201;
  ex.res.set_header("Location", ManifestLocation(ex.route.name, result->digest));
  ex.res.set_header("Docker-Content-Digest", result->digest.ToString());
  if (result->subject) ex.res.set_header("OCI-Subject", result->subject->ToString());
  for (const auto& tag : tags) ex.res.set_header("OCI-Tag", tag);
  ex.res.set_header("Content-Length", "0");
}

Status Api::AuthorizeTagMoves(const Exchange& ex, const std::vector<std::string>& tags,
                              const Digest& digest) const {
  for (const std::string& tag : tags) {
    auto reference = Reference::Parse(tag);
    if (!reference.ok() || reference->is_digest()) continue;  // PutManifest reports bad tags
    auto current = store_.ResolveManifest(ex.route.name, *reference);
    if (current.ok() && current->digest != digest) {
      OCIREG_RETURN_IF_ERROR(Authorize(ex.caller, ex.route.name, Action::kUpdate));
    }
  }
  return Status::Ok();
}

void Api::DeleteManifest(Exchange& ex) {
  auto reference = ParseLookupReference(ex.route.reference);
  if (!reference.ok()) return Fail(ex, reference.status());
  Status status = reference->is_digest() ? store_.DeleteManifest(ex.route.name, reference->digest())
                                         : store_.DeleteTag(ex.route.name, reference->tag());
  if (!status.ok()) return Fail(ex, status, ErrorCode::kManifestUnknown);
  ex.res.status = 202;
  ex.res.set_header("Content-Length", "0");
}

void Api::GetReferrers(Exchange& ex) {
  auto digest = Digest::Parse(ex.route.reference);
  if (!digest.ok()) return Fail(ex, digest.status());
  const std::string artifact_type = QueryParam(ex.req, "artifactType").value_or("");
  auto referrers = store_.ListReferrers(ex.route.name, *digest, artifact_type);
  if (!referrers.ok()) return Fail(ex, referrers.status());
  ex.res.status = 200;
  if (!artifact_type.empty()) ex.res.set_header("OCI-Filters-Applied", "artifactType");
  ex.res.set_content(ReferrersBody(*referrers), std::string(media_types::kOciIndex));
}

}  // namespace ocireg::internal
