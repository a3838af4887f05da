// SPDX-License-Identifier: Apache-2.0
// Checks and splits the '/'-separated relative paths that StorageDriver implementations accept.
#pragma once

#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

// Ok when `path` is a driver path: relative, non-empty, no leading or trailing '/', no empty, "."
// or
// ".." component and no NUL byte. Otherwise kInvalidArgument naming the reason.
Status ValidateDriverPath(std::string_view path);

// `a` and `b` joined by one '/'; an empty side yields the other unchanged.
std::string JoinPath(std::string_view a, std::string_view b);

// Everything before the last '/', or "" for a single component ("a/b/c" -> "a/b", "a" -> "").
std::string_view ParentPath(std::string_view path);

// The last component ("a/b/c" -> "c", "a" -> "a").
std::string_view BaseName(std::string_view path);

}  // namespace ocireg::internal
