// SPDX-License-Identifier: Apache-2.0
// The readers of TOML values (config/parse.h): integers, durations and sizes with units, booleans,
// strings, lists, address ranges and actions, each checked and explained when wrong.
#include "config/parse.h"

#include <charconv>
#include <optional>
#include <span>
#include <system_error>

#include "address_range.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A whole number followed by one of these suffixes is multiplied by the factor.
struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr Unit kDurationUnits[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
constexpr Unit kFineDurationUnits[] = {
    {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
constexpr Unit kSizeUnits[] = {{"B", 1},
                               {"KiB", uint64_t{1} << 10},
                               {"MiB", uint64_t{1} << 20},
                               {"GiB", uint64_t{1} << 30},
                               {"TiB", uint64_t{1} << 40}};

// A kind of value written as an integer (of integer_unit) or as a string with a unit.
struct Quantity {
  std::string_view kind;          // "duration", for messages
  std::string_view integer_unit;  // what a bare integer counts: "seconds"
  uint64_t integer_factor;        // a bare integer's value in the base unit
  std::string_view base_suffix;   // the suffix of the unit values are kept in: "s"
  std::span<const Unit> units;    // the suffixes a string may carry
  uint64_t max;                   // in the base unit
  std::string_view max_text;      // `max` for humans
  std::string_view example;       // a valid string
};

// A hundred years is far beyond any sensible timeout, and small enough that the server may convert
// any duration to nanoseconds without overflowing.
constexpr uint64_t kMaxDurationSeconds = uint64_t{36500} * 86400;
constexpr Quantity kDuration = {"duration",     "seconds",           1,        "s",
                                kDurationUnits, kMaxDurationSeconds, "36500d", "30s"};
// Durations kept in milliseconds take "ms" too; a bare integer still counts seconds, as in every
// other duration of the file.
constexpr Quantity kFineDuration = {
    "duration", "seconds", 1000, "ms", kFineDurationUnits, kMaxDurationSeconds * 1000,
    "36500d",   "500ms"};
constexpr Quantity kSize = {
    "size", "bytes", 1, "B", kSizeUnits, std::numeric_limits<uint64_t>::max(), "16EiB - 1", "4MiB"};

}  // namespace

std::string_view TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none:
      return "nothing";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
  }
  return "an unknown type";
}

Status WrongType(std::string_view expected, const toml::node& node) {
  return InvalidArgument(fmt::format("expected {}, got {}", expected, TypeName(node.type())));
}

namespace {

Status Negative(int64_t value) {
  return InvalidArgument(fmt::format("must not be negative, got {}", value));
}

std::string UnitList(std::span<const Unit> units) {
  std::string list;
  for (const Unit& unit : units) {
    if (!list.empty()) list += ", ";
    list += unit.suffix;
  }
  return list;
}

// Parses "<digits><unit>" (blanks allowed before the unit) into digits * factor.
Result<uint64_t> ParseWithUnit(std::string_view text, const Quantity& quantity) {
  const std::string prefix = fmt::format("invalid {} \"{}\": ", quantity.kind, text);
  const std::string units = UnitList(quantity.units);
  const std::string too_large = fmt::format("{}too large (at most {})", prefix, quantity.max_text);
  if (text.starts_with('-')) return InvalidArgument(prefix + "must not be negative");
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc::invalid_argument) {
    return InvalidArgument(fmt::format("{}expected a whole number and a unit ({}), e.g. \"{}\"",
                                       prefix, units, quantity.example));
  }
  if (ec == std::errc::result_out_of_range) return InvalidArgument(too_large);
  std::string_view suffix = text.substr(static_cast<size_t>(end - text.data()));
  if (suffix.starts_with('.'))
    return InvalidArgument(prefix + "must be a whole number; use a smaller unit");
  while (suffix.starts_with(' ') || suffix.starts_with('\t')) suffix.remove_prefix(1);
  if (suffix.empty()) return InvalidArgument(fmt::format("{}missing a unit ({})", prefix, units));
  for (const Unit& unit : quantity.units) {
    if (suffix != unit.suffix) continue;
    if (number > quantity.max / unit.factor) return InvalidArgument(too_large);
    return number * unit.factor;
  }
  return InvalidArgument(fmt::format("{}unknown unit \"{}\" (use {})", prefix, suffix, units));
}

// An integer in the base unit of `quantity` or a string with a unit, at least `min`.
Result<uint64_t> ReadQuantity(const toml::node& node, const Quantity& quantity, uint64_t min) {
  uint64_t value = 0;
  if (const auto* integer = node.as_integer()) {
    if (integer->get() < 0) return Negative(integer->get());
    const auto number = static_cast<uint64_t>(integer->get());
    const uint64_t max = quantity.max / quantity.integer_factor;
    if (number > max) {
      return InvalidArgument(fmt::format("must be at most {} {} ({}), got {}", max,
                                         quantity.integer_unit, quantity.max_text, number));
    }
    value = number * quantity.integer_factor;
  } else if (const auto* string = node.as_string()) {
    Result<uint64_t> parsed = ParseWithUnit(string->get(), quantity);
    if (!parsed.ok()) return parsed.status();
    value = *parsed;
  } else {
    return WrongType(fmt::format("a {} (an integer of {} or a string like \"{}\")", quantity.kind,
                                 quantity.integer_unit, quantity.example),
                     node);
  }
  if (value < min) {
    return InvalidArgument(
        fmt::format("must be at least {1}{0}, got {2}{0}", quantity.base_suffix, min, value));
  }
  return value;
}

}  // namespace

Result<seconds> ReadDuration(const toml::node& node, seconds min) {
  Result<uint64_t> value = ReadQuantity(node, kDuration, static_cast<uint64_t>(min.count()));
  if (!value.ok()) return value.status();
  return seconds(static_cast<seconds::rep>(*value));  // at most kDuration.max: no overflow
}

Result<milliseconds> ReadFineDuration(const toml::node& node, milliseconds min) {
  Result<uint64_t> value = ReadQuantity(node, kFineDuration, static_cast<uint64_t>(min.count()));
  if (!value.ok()) return value.status();
  return milliseconds(static_cast<milliseconds::rep>(*value));  // at most kFineDuration.max
}

Result<uint64_t> ReadSize(const toml::node& node, uint64_t min) {
  return ReadQuantity(node, kSize, min);
}

Result<bool> ReadBool(const toml::node& node) {
  const auto* boolean = node.as_boolean();
  if (boolean == nullptr) return WrongType("a boolean", node);
  return boolean->get();
}

Result<std::string> ReadNonEmptyString(const toml::node& node) {
  const auto* string = node.as_string();
  if (string == nullptr) return WrongType("a string", node);
  if (string->get().empty()) return InvalidArgument("must not be empty");
  return string->get();
}

Result<std::string> ReadString(const toml::node& node) {
  const auto* string = node.as_string();
  if (string == nullptr) return WrongType("a string", node);
  return string->get();
}

Result<std::vector<std::string>> ReadStringList(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) return WrongType("an array of strings", node);
  std::vector<std::string> list;
  for (size_t i = 0; i < array->size(); ++i) {
    const auto* string = (*array)[i].as_string();
    if (string == nullptr) {
      return InvalidArgument(
          fmt::format("element {}: {}", i + 1, WrongType("a string", (*array)[i]).message()));
    }
    if (string->get().empty())
      return InvalidArgument(fmt::format("element {}: must not be empty", i + 1));
    list.push_back(string->get());
  }
  return list;
}

Result<std::vector<std::string>> ReadAddressRanges(const toml::node& node) {
  Result<std::vector<std::string>> ranges = ReadStringList(node);
  if (!ranges.ok()) return ranges.status();
  for (size_t i = 0; i < ranges->size(); ++i) {
    Result<internal::AddressRange> range = internal::AddressRange::Parse((*ranges)[i]);
    if (!range.ok()) {
      return InvalidArgument(
          fmt::format("element {} \"{}\": {}", i + 1, (*ranges)[i], range.status().message()));
    }
  }
  return ranges;
}

Result<ActionSet> ReadActions(const toml::node& node) {
  Result<std::vector<std::string>> names = ReadStringList(node);
  if (!names.ok()) return names.status();
  ActionSet actions;
  for (const std::string& name : *names) {
    std::optional<Action> action = ParseAction(name);
    if (!action) {
      return InvalidArgument(fmt::format(
          "unknown action \"{}\": use \"read\", \"create\", \"update\" or \"delete\"", name));
    }
    actions |= ActionSet{*action};
  }
  return actions;
}

}  // namespace ocireg::config_parse
