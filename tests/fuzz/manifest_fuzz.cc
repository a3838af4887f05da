// SPDX-License-Identifier: Apache-2.0
// Fuzzes ParseManifest with a manifest PUT's Content-Type and body.
//
// Input: the Content-Type on the first line (may be empty), the body after the first '\n'. Without
// a '\n' the whole input is the body and no Content-Type is given.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ocireg/manifest.h"

namespace {

using ocireg::Descriptor;
using ocireg::ManifestInfo;

void CheckDescriptor(const Descriptor& descriptor, std::string_view input) {
  FUZZ_CHECK(descriptor.size >= 0, input);
  FUZZ_CHECK(!descriptor.media_type.empty(), input);
  auto digest = ocireg::Digest::Parse(descriptor.digest.ToString());
  FUZZ_CHECK(digest.ok() && *digest == descriptor.digest, input);
}

void CheckParsed(const ManifestInfo& info, std::string_view input) {
  FUZZ_CHECK(!info.media_type.empty(), input);
  if (ocireg::IsIndexKind(info.kind)) {
    FUZZ_CHECK(!info.config.has_value() && info.layers.empty(), input);
  } else {
    FUZZ_CHECK(info.config.has_value() && info.manifests.empty(), input);
  }
  if (info.config) CheckDescriptor(*info.config, input);
  for (const Descriptor& d : info.layers) CheckDescriptor(d, input);
  for (const Descriptor& d : info.manifests) CheckDescriptor(d, input);
  if (info.subject) CheckDescriptor(*info.subject, input);
  // References() is config, layers and child manifests, the subject not among them.
  const std::vector<Descriptor> references = info.References();
  FUZZ_CHECK(
      references.size() == (info.config ? 1u : 0u) + info.layers.size() + info.manifests.size(),
      input);
  if (!info.artifact_type.empty())
    FUZZ_CHECK(info.ReferrerArtifactType() == info.artifact_type, input);
}

bool SameInfo(const ManifestInfo& a, const ManifestInfo& b) {
  return a.kind == b.kind && a.media_type == b.media_type && a.config == b.config &&
         a.layers == b.layers && a.manifests == b.manifests && a.subject == b.subject &&
         a.artifact_type == b.artifact_type && a.annotations == b.annotations;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view content_type =
      newline == std::string_view::npos ? std::string_view() : input.substr(0, newline);
  const std::string_view body =
      newline == std::string_view::npos ? input : input.substr(newline + 1);

  auto info = ocireg::ParseManifest(content_type, body);
  if (!info.ok()) {
    const ocireg::ErrorCode code = info.status().code();
    FUZZ_CHECK(
        code == ocireg::ErrorCode::kManifestInvalid || code == ocireg::ErrorCode::kDigestInvalid,
        input);
    return 0;
  }
  CheckParsed(*info, input);
  // Pure: the same bytes give the same answer, and a limit below the body's size refuses it.
  auto again = ocireg::ParseManifest(content_type, body);
  FUZZ_CHECK(again.ok() && SameInfo(*info, *again), input);
  if (!body.empty()) {
    auto limited = ocireg::ParseManifest(content_type, body, body.size() - 1);
    FUZZ_CHECK(!limited.ok() && limited.status().code() == ocireg::ErrorCode::kManifestTooLarge,
               input);
  }
  return 0;
}
