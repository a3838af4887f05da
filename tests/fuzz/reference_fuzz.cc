// SPDX-License-Identifier: Apache-2.0
// Fuzzes ValidateRepositoryName, ValidateTag and Reference::Parse: every path and ?from=, ?tag=
// of a request goes through them, and a valid name becomes a directory under the storage root.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ocireg/reference.h"

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
         c == '/';
}

// What makes a name safe as a relative path: checked here independently of the grammar matcher.
void CheckValidName(std::string_view name) {
  FUZZ_CHECK(!name.empty() && name.size() <= ocireg::kMaxRepositoryNameLength, name);
  for (char c : name) FUZZ_CHECK(IsNameChar(c), name);
  FUZZ_CHECK(name.front() != '/' && name.back() != '/', name);
  FUZZ_CHECK(name.find("//") == std::string_view::npos, name);
  size_t start = 0;
  while (start <= name.size()) {
    const size_t slash = std::min(name.find('/', start), name.size());
    const std::string_view component = name.substr(start, slash - start);
    FUZZ_CHECK(component != "." && component != "..", name);
    // Every component starts and ends with a letter or digit.
    FUZZ_CHECK(!component.empty(), name);
    for (char edge : {component.front(), component.back()}) {
      FUZZ_CHECK((edge >= 'a' && edge <= 'z') || (edge >= '0' && edge <= '9'), name);
    }
    // Between alphanumeric runs only the grammar's separators: ".", "_", "__" or "-+".
    for (size_t i = 0; i < component.size();) {
      const size_t run_end = std::min(
          component.find_first_of("abcdefghijklmnopqrstuvwxyz0123456789", i), component.size());
      const std::string_view run = component.substr(i, run_end - i);
      FUZZ_CHECK(run.empty() || run == "." || run == "_" || run == "__" ||
                     run.find_first_not_of('-') == std::string_view::npos,
                 name);
      i = run.empty() ? i + 1 : run_end;
    }
    start = slash + 1;
  }
}

void CheckValidTag(std::string_view tag) {
  FUZZ_CHECK(!tag.empty() && tag.size() <= 128, tag);
  FUZZ_CHECK(tag.front() != '.' && tag.front() != '-', tag);
  for (char c : tag) {
    FUZZ_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '_' || c == '.' || c == '-',
               tag);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using ocireg::ErrorCode;
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  ocireg::Status name = ocireg::ValidateRepositoryName(input);
  if (name.ok()) {
    CheckValidName(input);
  } else {
    FUZZ_CHECK(name.code() == ErrorCode::kNameInvalid, input);
  }

  ocireg::Status tag = ocireg::ValidateTag(input);
  if (tag.ok()) {
    CheckValidTag(input);
  } else {
    FUZZ_CHECK(tag.code() == ErrorCode::kManifestInvalid, input);
  }

  auto reference = ocireg::Reference::Parse(input);
  if (reference.ok()) {
    // A reference round-trips, and is a digest exactly when it holds a ':'.
    FUZZ_CHECK(reference->ToString() == input, input);
    const bool has_colon = input.find(':') != std::string_view::npos;
    FUZZ_CHECK(reference->is_digest() == has_colon, input);
    if (!reference->is_digest()) FUZZ_CHECK(tag.ok(), input);
    auto again = ocireg::Reference::Parse(reference->ToString());
    FUZZ_CHECK(again.ok() && again->ToString() == reference->ToString(), input);
  } else {
    FUZZ_CHECK(!tag.ok(), input);
    FUZZ_CHECK(reference.status().code() == ErrorCode::kManifestInvalid ||
                   reference.status().code() == ErrorCode::kDigestInvalid,
               input);
  }
  return 0;
}
