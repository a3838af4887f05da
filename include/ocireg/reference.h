// SPDX-License-Identifier: Apache-2.0
// Repository names, tags and references, checked exactly against the distribution spec's grammar.
//
//   <name>      [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*
//   <tag>       [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}
//   <reference> a tag or a digest
//
// The grammar alone keeps a name inside its directory: "..", ".", empty components and a leading or
// trailing "/" never match. Hand-written matchers, no std::regex (it recurses per character).
//
// Contract: pure functions and immutable values; safe to call and share from any thread. Errors: a
// bad name is kNameInvalid, a bad tag kManifestInvalid (the spec's code for an invalid tag), a bad
// digest kDigestInvalid.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ocireg/digest.h"
#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// The longest repository name accepted (the spec's guidance for hostname plus name).
inline constexpr size_t kMaxRepositoryNameLength = 255;

// Ok, or kNameInvalid saying what is wrong with `name`.
OCIREG_EXPORT Status ValidateRepositoryName(std::string_view name);
// Ok, or kManifestInvalid saying what is wrong with `tag`.
OCIREG_EXPORT Status ValidateTag(std::string_view tag);

// A manifest reference: a tag or a digest.
class OCIREG_EXPORT Reference {
 public:
  // A digest if `text` contains ':' (kDigestInvalid when malformed), else a tag (kManifestInvalid).
  static Result<Reference> Parse(std::string_view text);
  static Reference FromDigest(Digest digest) { return Reference(std::move(digest)); }

  bool is_digest() const { return digest_.has_value(); }
  // Precondition: is_digest().
  const Digest& digest() const { return *digest_; }
  // Precondition: !is_digest().
  const std::string& tag() const { return tag_; }
  std::string ToString() const { return is_digest() ? digest_->ToString() : tag_; }

 private:
  explicit Reference(Digest digest) : digest_(std::move(digest)) {}
  explicit Reference(std::string tag) : tag_(std::move(tag)) {}

  std::optional<Digest> digest_;
  std::string tag_;
};

}  // namespace ocireg
