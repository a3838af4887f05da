// SPDX-License-Identifier: Apache-2.0
// ReadOperatorFile: stdio with an error that names the file and the reason.
#include "operator_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <system_error>

namespace ocireg::internal {

Result<std::string> ReadOperatorFile(const std::string& path) {
  auto close = [](std::FILE* file) { std::fclose(file); };
  std::unique_ptr<std::FILE, decltype(close)> file(std::fopen(path.c_str(), "rb"), close);
  const auto failure = [&path] {
    return InvalidArgument(
        fmt::format("{}: cannot read: {}", path, std::generic_category().message(errno)));
  };
  if (file == nullptr) return failure();
  std::string text;
  char buffer[8192];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get())) return failure();
  return text;
}

}  // namespace ocireg::internal
