// SPDX-License-Identifier: Apache-2.0
// Readers of TOML values for the configuration: each turns one toml++ node into a field's value, or
// says what is wrong with it ("must be at least 1s, got 0s"); the schema walk (load.cc) adds the
// file, the line and the dotted key in front.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/auth/access.h"
#include "ocireg/status.h"

namespace ocireg::config_parse {

// "an integer", "a table": the type of `type` for messages.
std::string_view TypeName(toml::node_type type);

// "expected <expected>, got <the type of node>".
Status WrongType(std::string_view expected, const toml::node& node);

// An integer of type T, at least `min`.
template <typename T>
Result<T> ReadInteger(const toml::node& node, T min = std::numeric_limits<T>::min()) {
  const auto* integer = node.as_integer();
  if (integer == nullptr) return WrongType("an integer", node);
  const int64_t value = integer->get();
  if (std::cmp_less(value, min)) {
    return InvalidArgument(fmt::format("must be at least {}, got {}", min, value));
  }
  if (std::cmp_greater(value, std::numeric_limits<T>::max())) {
    return InvalidArgument(
        fmt::format("must be at most {}, got {}", std::numeric_limits<T>::max(), value));
  }
  return static_cast<T>(value);
}

// An integer of seconds or a string with a unit ("30s", "5m", "24h", "1d"), at least `min`.
Result<std::chrono::seconds> ReadDuration(const toml::node& node,
                                          std::chrono::seconds min = std::chrono::seconds(0));

// A duration kept in milliseconds: as ReadDuration, and a string may also count "ms" ("500ms").
Result<std::chrono::milliseconds> ReadFineDuration(
    const toml::node& node, std::chrono::milliseconds min = std::chrono::milliseconds(0));

// An integer of bytes or a string with a binary unit ("4MiB"), at least `min`.
Result<uint64_t> ReadSize(const toml::node& node, uint64_t min = 0);

Result<bool> ReadBool(const toml::node& node);

Result<std::string> ReadNonEmptyString(const toml::node& node);

// A string that may be empty (an empty path or URL turns its feature off).
Result<std::string> ReadString(const toml::node& node);

// An array of non-empty strings.
Result<std::vector<std::string>> ReadStringList(const toml::node& node);

// An array of IPv4 or IPv6 addresses or CIDR ranges ("10.0.0.0/8").
Result<std::vector<std::string>> ReadAddressRanges(const toml::node& node);

// An array of action names: "read", "create", "update", "delete".
Result<ActionSet> ReadActions(const toml::node& node);

// One of the strings of `choices`, mapped to its enumerator.
template <typename E, size_t N>
Result<E> ReadChoice(const toml::node& node, const std::pair<std::string_view, E> (&choices)[N]) {
  const auto* string = node.as_string();
  if (string == nullptr) return WrongType("a string", node);
  std::string names;
  for (const auto& [name, value] : choices) {
    if (string->get() == name) return value;
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", name);
  }
  return InvalidArgument(fmt::format("must be one of {}, got \"{}\"", names, string->get()));
}

// The name `value` has in `choices`; "?" for none.
template <typename E, size_t N>
std::string_view NameOf(const std::pair<std::string_view, E> (&choices)[N], E value) {
  for (const auto& [name, candidate] : choices) {
    if (candidate == value) return name;
  }
  return "?";
}

}  // namespace ocireg::config_parse
