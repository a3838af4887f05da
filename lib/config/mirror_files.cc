// SPDX-License-Identifier: Apache-2.0
// Reads the credentials and CA files of the [[mirror]] entries (config/mirror_files.h), the way
// LoadConfig reads the other files an operator names: whole, with the reason when they cannot be.
#include "config/mirror_files.h"

#include <fmt/format.h>

#include "operator_file.h"

namespace ocireg::internal {
namespace {

// "source:line: mirror[N].key: what", the line being that of the key in the file.
Status ReportAt(const toml::table& root, std::string_view source, size_t index,
                std::string_view key, std::string_view what) {
  // toml++ paths count elements from 0; messages count them from 1, as load.cc does.
  const toml::node* node = root.at_path(fmt::format("mirror[{}].{}", index, key)).node();
  const auto line = node == nullptr ? 0 : node->source().begin.line;
  return InvalidArgument(
      fmt::format("{}:{}: mirror[{}].{}: {}", source, line, index + 1, key, what));
}

}  // namespace

Result<MirrorCredentials> ParseMirrorCredentials(std::string_view text, std::string_view path) {
  const size_t end = text.find('\n');
  std::string_view line = text.substr(0, end);
  if (line.ends_with('\r')) line.remove_suffix(1);
  const std::string_view rest = end == std::string_view::npos ? "" : text.substr(end + 1);
  if (rest.find_first_not_of(" \t\r\n") != std::string_view::npos) {
    return InvalidArgument(fmt::format("{}: must hold one line, username:password", path));
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == line.size()) {
    return InvalidArgument(
        fmt::format("{}: expected username:password, both non-empty, on its one line", path));
  }
  return MirrorCredentials{std::string(line.substr(0, colon)), std::string(line.substr(colon + 1))};
}

Status ReadMirrorFiles(const toml::table& root, std::string_view source, Config& config) {
  for (size_t i = 0; i < config.mirrors.size(); ++i) {
    MirrorConfig& mirror = config.mirrors[i];
    if (!mirror.credentials_file.empty()) {
      Result<std::string> text = ReadOperatorFile(mirror.credentials_file);
      if (!text.ok()) {
        return ReportAt(root, source, i, "credentials_file", text.status().message());
      }
      Result<MirrorCredentials> credentials =
          ParseMirrorCredentials(*text, mirror.credentials_file);
      if (!credentials.ok()) {
        return ReportAt(root, source, i, "credentials_file", credentials.status().message());
      }
      mirror.username = std::move(credentials->username);
      mirror.password = std::move(credentials->password);
    }
    if (!mirror.ca_file.empty()) {
      Result<std::string> pem = ReadOperatorFile(mirror.ca_file);
      if (!pem.ok()) return ReportAt(root, source, i, "ca_file", pem.status().message());
    }
  }
  return Status::Ok();
}

}  // namespace ocireg::internal
