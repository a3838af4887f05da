// SPDX-License-Identifier: Apache-2.0
// Hand-written matchers for the distribution spec's repository name and tag grammars.
#include "ocireg/reference.h"

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <utility>

#include "quote.h"

namespace ocireg {
namespace {

constexpr size_t kMaxTagLength = 128;

std::string Quote(std::string_view text) { return internal::QuoteForMessage(text); }

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsNameSeparator(char c) { return c == '.' || c == '_' || c == '-'; }
bool IsTagStart(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsTagChar(char c) { return IsTagStart(c) || c == '.' || c == '-'; }

// The separators the grammar allows between alphanumeric runs: (\.|_|__|-+).
bool IsAllowedSeparator(std::string_view run) {
  if (run == "." || run == "_" || run == "__") return true;
  return run.find_first_not_of('-') == std::string_view::npos;
}

// Checks one '/'-separated component, [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*, which starts at byte
// `offset` of the whole name and is the `index`-th component (1-based), so messages can point at
// it.
Status ValidateComponent(std::string_view component, size_t index, size_t offset) {
  const auto where = [&] { return fmt::format("component {} ({})", index, Quote(component)); };
  if (component == "." || component == "..") {
    return NameInvalid(fmt::format("repository name {} is a relative path element", where()));
  }
  size_t i = 0;
  while (i < component.size()) {
    const char c = component[i];
    if (IsLowerAlnum(c)) {
      ++i;
      continue;
    }
    if (c >= 'A' && c <= 'Z') {
      return NameInvalid(
          fmt::format("repository name {} has uppercase {} at offset {}; names are "
                      "lowercase",
                      where(), Quote(component.substr(i, 1)), offset + i));
    }
    if (!IsNameSeparator(c)) {
      return NameInvalid(
          fmt::format("repository name {} has invalid character {} at offset {}; "
                      "allowed are a-z, 0-9, '.', '_', '-' and '/'",
                      where(), Quote(component.substr(i, 1)), offset + i));
    }
    // A run of separators: it must sit between alphanumerics and be one the grammar allows.
    const size_t run_end = std::min(component.find_first_not_of("._-", i), component.size());
    const std::string_view run = component.substr(i, run_end - i);
    if (i == 0) {
      return NameInvalid(
          fmt::format("repository name {} starts with separator {}", where(), Quote(run)));
    }
    if (run_end == component.size()) {
      return NameInvalid(
          fmt::format("repository name {} ends with separator {}", where(), Quote(run)));
    }
    if (!IsAllowedSeparator(run)) {
      return NameInvalid(fmt::format(
          "repository name {} has consecutive separators {} at offset {}; allowed are one '.', "
          "one or two '_', or any number of '-'",
          where(), Quote(run), offset + i));
    }
    i = run_end;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateRepositoryName(std::string_view name) {
  if (name.empty()) return NameInvalid("repository name is empty");
  if (name.size() > kMaxRepositoryNameLength) {
    return NameInvalid(fmt::format("repository name is too long: {} characters, at most {}",
                                   name.size(), kMaxRepositoryNameLength));
  }
  if (name.front() == '/') return NameInvalid("repository name starts with '/'");
  if (name.back() == '/') return NameInvalid("repository name ends with '/'");

  size_t start = 0;
  for (size_t index = 1;; ++index) {
    const size_t slash = name.find('/', start);
    const size_t end = slash == std::string_view::npos ? name.size() : slash;
    if (end == start) {
      return NameInvalid(
          fmt::format("repository name has an empty component {} at offset {} "
                      "(consecutive '/')",
                      index, start));
    }
    OCIREG_RETURN_IF_ERROR(ValidateComponent(name.substr(start, end - start), index, start));
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

Status ValidateTag(std::string_view tag) {
  if (tag.empty()) return ManifestInvalid("tag is empty");
  if (tag.size() > kMaxTagLength) {
    return ManifestInvalid(
        fmt::format("tag is too long: {} characters, at most {}", tag.size(), kMaxTagLength));
  }
  if (!IsTagStart(tag.front())) {
    return ManifestInvalid(
        fmt::format("tag starts with {}; the first character must be a letter, digit or '_'",
                    Quote(tag.substr(0, 1))));
  }
  for (size_t i = 1; i < tag.size(); ++i) {
    if (!IsTagChar(tag[i])) {
      return ManifestInvalid(
          fmt::format("tag has invalid character {} at offset {}; allowed are letters, "
                      "digits, '_', '.' and '-'",
                      Quote(tag.substr(i, 1)), i));
    }
  }
  return Status::Ok();
}

Result<Reference> Reference::Parse(std::string_view text) {
  if (text.find(':') != std::string_view::npos) {
    Result<Digest> digest = Digest::Parse(text);
    if (!digest.ok()) return digest.status();
    return Reference(std::move(*digest));
  }
  OCIREG_RETURN_IF_ERROR(ValidateTag(text));
  return Reference(std::string(text));
}

}  // namespace ocireg
