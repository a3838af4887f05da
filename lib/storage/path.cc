// SPDX-License-Identifier: Apache-2.0
// Driver path validation and splitting, shared by every StorageDriver implementation.
#include "storage/path.h"

#include <string>

namespace ocireg::internal {
namespace {

Status InvalidPath(std::string_view path, std::string_view reason) {
  return InvalidArgument("invalid storage path \"" + std::string(path) +
                         "\": " + std::string(reason));
}

}  // namespace

Status ValidateDriverPath(std::string_view path) {
  if (path.empty()) return InvalidPath(path, "empty");
  // Checked first so that no message ever carries a NUL byte.
  if (path.find('\0') != std::string_view::npos) {
    return InvalidArgument("invalid storage path: contains a NUL byte");
  }
  if (path.front() == '/') return InvalidPath(path, "absolute");
  if (path.back() == '/') return InvalidPath(path, "trailing '/'");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty()) return InvalidPath(path, "empty component");
    if (component == "." || component == "..") return InvalidPath(path, "'.' or '..' component");
    start = end + 1;
  }
  return Status::Ok();
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string joined;
  joined.reserve(a.size() + 1 + b.size());
  joined.append(a).append(1, '/').append(b);
  return joined;
}

std::string_view ParentPath(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace ocireg::internal
