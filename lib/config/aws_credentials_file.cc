// SPDX-License-Identifier: Apache-2.0
// Reading one profile of an AWS shared credentials file (config/aws_credentials_file.h).
#include "config/aws_credentials_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <optional>

#include "operator_file.h"

namespace ocireg::internal {
namespace {

std::string_view Trimmed(std::string_view text) {
  const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!text.empty() && blank(text.front())) text.remove_prefix(1);
  while (!text.empty() && blank(text.back())) text.remove_suffix(1);
  return text;
}

std::string Lowercase(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower;
}

// Sets the member of `keys` that `key` names; other keys (region, output, ...) are not ours.
void Assign(std::string_view key, std::string_view value, S3Credentials& keys) {
  const std::string name = Lowercase(key);
  if (name == "aws_access_key_id") keys.access_key_id = value;
  if (name == "aws_secret_access_key") keys.secret_access_key = value;
  if (name == "aws_session_token") keys.session_token = value;
}

}  // namespace

Result<S3Credentials> ParseAwsCredentials(std::string_view text, std::string_view path,
                                          std::string_view profile) {
  std::optional<S3Credentials> found;
  bool in_profile = false;
  size_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = Trimmed(text.substr(0, end));
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++line_number;
    if (line.empty() || line.starts_with('#') || line.starts_with(';')) continue;
    if (line.starts_with('[') && line.ends_with(']')) {
      in_profile = Trimmed(line.substr(1, line.size() - 2)) == profile;
      if (in_profile && !found) found.emplace();
      continue;
    }
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos || Trimmed(line.substr(0, equals)).empty()) {
      return InvalidArgument(
          fmt::format("{}:{}: expected \"[profile]\" or \"key = value\"", path, line_number));
    }
    if (in_profile)
      Assign(Trimmed(line.substr(0, equals)), Trimmed(line.substr(equals + 1)), *found);
  }
  if (!found) return InvalidArgument(fmt::format("{}: no profile \"{}\"", path, profile));
  for (const auto& [key, value] : {std::pair{"aws_access_key_id", &found->access_key_id},
                                   std::pair{"aws_secret_access_key", &found->secret_access_key}}) {
    if (value->empty()) {
      return InvalidArgument(fmt::format("{}: profile \"{}\" has no {}", path, profile, key));
    }
  }
  return *found;
}

Result<S3Credentials> ReadAwsCredentialsFile(const std::string& path, std::string_view profile) {
  Result<std::string> text = ReadOperatorFile(path);
  if (!text.ok()) return text.status();
  return ParseAwsCredentials(*text, path, profile);
}

}  // namespace ocireg::internal
