// SPDX-License-Identifier: Apache-2.0
// Unit tests for repository name, tag and reference validation.
#include "ocireg/reference.h"

#include <string>
#include <vector>

#include "catch.h"
#include "status_macros.h"

using ocireg::ErrorCode;
using ocireg::Reference;
using ocireg::Status;

namespace {

constexpr std::string_view kSha256Abc =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

struct Invalid {
  std::string input;
  std::string reason;  // a fragment the error message must contain
};

// A name of exactly `size` characters made of valid two-character components "a/a/.../a".
std::string SlashedName(size_t size) {
  std::string name;
  while (name.size() < size) name += name.empty() ? "a" : "/a";
  name.resize(size);
  if (name.back() == '/') name.back() = 'b';  // "...a/ab": no empty last component
  return name;
}

void CheckInvalid(const std::vector<Invalid>& cases, Status (*validate)(std::string_view),
                  ErrorCode code) {
  for (const Invalid& c : cases) {
    INFO("input: \"" << c.input << "\" (" << c.input.size() << " bytes)");
    const Status status = validate(c.input);
    REQUIRE(!status.ok());
    CHECK(status.code() == code);
    INFO("message: " << status.message());
    CHECK(status.message().find(c.reason) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("valid repository names", "[reference]") {
  const std::vector<std::string> names = {
      "a",
      "0",
      "library",
      "library/ubuntu",
      "a/b/c/d/e/f",
      "0x/1y/2z",
      "a.b",
      "a_b",
      "a__b",
      "a-b",
      "a--b",
      "a-----b",
      "a.b.c",
      "a_b_c",
      "a__b__c",
      "a.b-c_d__e--f",
      "my-org/my.project/sub__component",
      "a0-b1.c2/d3__e4",
      "123/456",
      std::string(255, 'a'),
      SlashedName(255),
  };
  for (const std::string& name : names) {
    INFO("name: \"" << name << "\"");
    const Status status = ocireg::ValidateRepositoryName(name);
    CHECK_OK(status);
  }
}

TEST_CASE("invalid repository names are NAME_INVALID with a reason", "[reference]") {
  const std::vector<Invalid> cases = {
      {"", "empty"},
      // Path-escape attempts: none may name a directory outside the repository root.
      {".", "component 1 (\".\") is a relative path element"},
      {"..", "component 1 (\"..\") is a relative path element"},
      {"../etc/passwd", "component 1 (\"..\") is a relative path element"},
      {"a/../b", "component 2 (\"..\") is a relative path element"},
      {"a/./b", "component 2 (\".\") is a relative path element"},
      {"a/b/../../etc", "component 3 (\"..\") is a relative path element"},
      {"a/..", "component 2 (\"..\")"},
      {"...", "starts with separator"},
      {"/a", "starts with '/'"},
      {"/", "starts with '/'"},
      {"a/", "ends with '/'"},
      {"a/b/", "ends with '/'"},
      {"a//b", "empty component 2 at offset 2"},
      {"a/b//c", "empty component 3 at offset 4"},
      {"a\\b", "invalid character \"\\x5c\""},
      {"a%2fb", "invalid character \"%\""},
      // Letters must be lowercase.
      {"A", "uppercase \"A\" at offset 0"},
      {"Library/ubuntu", "component 1 (\"Library\") has uppercase"},
      {"library/Ubuntu", "component 2 (\"Ubuntu\") has uppercase \"U\" at offset 8"},
      // Length: 255 is the most.
      {std::string(256, 'a'), "too long: 256 characters, at most 255"},
      {SlashedName(256), "too long"},
      {std::string(10000, 'a'), "too long"},
      // Bytes outside the alphabet.
      {"caf\xc3\xa9", "invalid character \"\\xc3\" at offset 3"},
      {std::string("a\0b", 3), "invalid character \"\\x00\" at offset 1"},
      {std::string("a/b\0", 4), "invalid character \"\\x00\" at offset 3"},
      {"a b", "invalid character \" \""},
      {"a\nb", "invalid character \"\\x0a\""},
      {"a:b", "invalid character \":\""},
      {"a@b", "invalid character \"@\""},
      {"a+b", "invalid character \"+\""},
      {"a*b", "invalid character \"*\""},
      {"a~b", "invalid character \"~\""},
      // Separators: one '.', one or two '_', or any run of '-', always between alphanumerics.
      {"a___b", "consecutive separators \"___\""},
      {"a..b", "consecutive separators \"..\""},
      {"a._b", "consecutive separators \"._\""},
      {"a_.b", "consecutive separators \"_.\""},
      {"a-.b", "consecutive separators \"-.\""},
      {"a.-b", "consecutive separators \".-\""},
      {"a-_b", "consecutive separators \"-_\""},
      {"a__-b", "consecutive separators \"__-\""},
      {"a____b", "consecutive separators \"____\""},
      {"x/a..b", "component 2 (\"a..b\") has consecutive separators \"..\" at offset 3"},
      {".a", "starts with separator \".\""},
      {"-a", "starts with separator \"-\""},
      {"_a", "starts with separator \"_\""},
      {"__a", "starts with separator \"__\""},
      {"a.", "ends with separator \".\""},
      {"a-", "ends with separator \"-\""},
      {"a_", "ends with separator \"_\""},
      {"a--", "ends with separator \"--\""},
      {"a/.b", "component 2 (\".b\") starts with separator"},
      {"a/b-", "component 2 (\"b-\") ends with separator"},
  };
  CheckInvalid(cases, &ocireg::ValidateRepositoryName, ErrorCode::kNameInvalid);
}

TEST_CASE("valid tags", "[reference]") {
  const std::vector<std::string> tags = {
      "latest",
      "v1",
      "v1.0.0",
      "1.2.3-rc.1_build.7",
      "_",
      "A",
      "9",
      "UPPER_lower.x-1",
      "v-",
      "a..b",
      "a--__..b",
      "_hidden",
      "sha256",
      std::string(128, 'a'),
      "a" + std::string(127, '-'),
  };
  for (const std::string& tag : tags) {
    INFO("tag: \"" << tag << "\"");
    const Status status = ocireg::ValidateTag(tag);
    CHECK_OK(status);
  }
}

TEST_CASE("invalid tags are MANIFEST_INVALID with a reason", "[reference]") {
  const std::vector<Invalid> cases = {
      {"", "empty"},
      {std::string(129, 'a'), "too long: 129 characters, at most 128"},
      {std::string(4096, 'a'), "too long"},
      {".hidden", "starts with \".\""},
      {"-flag", "starts with \"-\""},
      {".", "starts with \".\""},
      {"..", "starts with \".\""},
      {"a/b", "invalid character \"/\" at offset 1"},
      {"../x", "starts with \".\""},
      {"a:b", "invalid character \":\""},
      {"a b", "invalid character \" \""},
      {"a@b", "invalid character \"@\""},
      {"a+b", "invalid character \"+\""},
      {"latest\n", "invalid character \"\\x0a\" at offset 6"},
      {std::string("a\0b", 3), "invalid character \"\\x00\" at offset 1"},
      {std::string("\0", 1), "starts with \"\\x00\""},
      {"v\xc3\xa9", "invalid character \"\\xc3\""},
  };
  CheckInvalid(cases, &ocireg::ValidateTag, ErrorCode::kManifestInvalid);
}

TEST_CASE("references parse as tags or digests", "[reference]") {
  const std::string digest_text = "sha256:" + std::string(kSha256Abc);

  SECTION("a tag") {
    auto reference = Reference::Parse("v1.2.3");
    REQUIRE_OK(reference);
    CHECK(!reference->is_digest());
    CHECK(reference->tag() == "v1.2.3");
    CHECK(reference->ToString() == "v1.2.3");
  }
  SECTION("an algorithm name without ':' is a tag") {
    auto reference = Reference::Parse("sha256");
    REQUIRE_OK(reference);
    CHECK(!reference->is_digest());
    CHECK(reference->tag() == "sha256");
  }
  SECTION("a 128-character tag") {
    const std::string tag = "T" + std::string(127, '_');
    auto reference = Reference::Parse(tag);
    REQUIRE_OK(reference);
    CHECK(reference->tag() == tag);
  }
  SECTION("a digest") {
    auto reference = Reference::Parse(digest_text);
    REQUIRE_OK(reference);
    CHECK(reference->is_digest());
    CHECK(reference->digest().algorithm() == ocireg::DigestAlgorithm::kSha256);
    CHECK(reference->digest().hex() == kSha256Abc);
    CHECK(reference->ToString() == digest_text);
  }
  SECTION("from a computed digest") {
    const Reference reference =
        Reference::FromDigest(ocireg::Digester::Of(ocireg::DigestAlgorithm::kSha256, "abc"));
    CHECK(reference.is_digest());
    CHECK(reference.ToString() == digest_text);
  }
}

TEST_CASE("malformed references report the code of what they look like", "[reference]") {
  struct Case {
    std::string text;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      // Anything with ':' is judged as a digest.
      {"sha256:abc", ErrorCode::kDigestInvalid},
      {"sha256:" + std::string(kSha256Abc) + "0", ErrorCode::kDigestInvalid},
      {"SHA256:" + std::string(kSha256Abc), ErrorCode::kDigestInvalid},
      {"md5:d41d8cd98f00b204e9800998ecf8427e", ErrorCode::kDigestInvalid},
      {"a:b", ErrorCode::kDigestInvalid},
      {":", ErrorCode::kDigestInvalid},
      {"latest:", ErrorCode::kDigestInvalid},
      // Everything else as a tag.
      {"", ErrorCode::kManifestInvalid},
      {".latest", ErrorCode::kManifestInvalid},
      {"-latest", ErrorCode::kManifestInvalid},
      {"a/b", ErrorCode::kManifestInvalid},
      {"../../etc", ErrorCode::kManifestInvalid},
      {std::string(129, 'x'), ErrorCode::kManifestInvalid},
      {std::string("v1\0", 3), ErrorCode::kManifestInvalid},
  };
  for (const Case& c : cases) {
    INFO("reference: \"" << c.text << "\"");
    auto reference = Reference::Parse(c.text);
    REQUIRE(!reference.ok());
    CHECK(reference.status().code() == c.code);
    CHECK(!reference.status().message().empty());
  }
}
