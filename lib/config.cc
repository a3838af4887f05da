// SPDX-License-Identifier: Apache-2.0
// ParseConfig and LoadConfig: reads the TOML configuration with toml++ and checks every key.
#include "ocireg/config.h"

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace ocireg {
namespace {

using std::chrono::seconds;

// Kept equal to Config{} (a unit test checks it). Every key is spelled out, so this text doubles as
// the reference a user copies from.
constexpr std::string_view kDefaultConfigText = R"toml(# ocireg configuration: the defaults.
# Every key is optional: a missing key keeps the value shown here. Unknown keys are errors.
# Durations: an integer of seconds, or a whole number with a unit s, m, h or d: "30s", "24h".
# Sizes: an integer of bytes, or a whole number with a unit B, KiB, MiB, GiB or TiB: "4MiB".

[listen]
address = "127.0.0.1"  # IP literal or host name to listen on; must not be empty
port = 5000            # 0..65535; 0 picks a free port

[storage]
root = "./ocireg-data"   # directory of the OCI image layouts; must not be empty
gc_grace_period = "24h"  # unreferenced blobs younger than this survive garbage collection
gc_interval = "1h"       # how often garbage is collected; 0 turns periodic collection off
upload_ttl = "24h"       # upload sessions idle for longer are removed; at least 1s

[limits]
max_manifest_bytes = "4MiB"    # larger manifests are refused; at least 1 byte
max_blob_bytes = 0             # larger blobs are refused; 0 means no limit
max_connections = 512          # worker threads, one per open connection; at least 1
keep_alive_max_requests = 100  # requests served on one connection; at least 1
keep_alive_timeout = "5s"      # an idle connection is closed after this; at least 1s
read_timeout = "60s"           # per receive, not per request; at least 1s
write_timeout = "60s"          # per send, not per request; at least 1s
shutdown_timeout = "30s"       # in-flight requests get this long to finish on SIGTERM/SIGINT

[features]
allow_delete = true  # DELETE of manifests, tags and blobs; 405 UNSUPPORTED when false
auto_mount = true    # a mount without ?from= searches the readable repositories

[log]
format = "text"    # "text" or "json"
level = "info"     # "debug", "info", "warn" or "error"
access_log = true  # one line per request
)toml";

// A whole number followed by one of these suffixes is multiplied by the factor.
struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr Unit kDurationUnits[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
constexpr Unit kSizeUnits[] = {
    {"B", 1}, {"KiB", uint64_t{1} << 10}, {"MiB", uint64_t{1} << 20},
    {"GiB", uint64_t{1} << 30}, {"TiB", uint64_t{1} << 40}};

// A kind of value written as an integer in its base unit or as a string with a unit.
struct Quantity {
  std::string_view kind;         // "duration", for messages
  std::string_view base_unit;    // what a bare integer counts: "seconds"
  std::string_view base_suffix;  // its unit suffix: "s"
  std::span<const Unit> units;   // the suffixes a string may carry
  uint64_t max;                  // in the base unit
  std::string_view max_text;     // `max` for humans
  std::string_view example;      // a valid string
};

// A hundred years is far beyond any sensible timeout, and small enough that the server may convert
// any duration to nanoseconds without overflowing.
constexpr Quantity kDuration = {"duration", "seconds", "s", kDurationUnits,
                                uint64_t{36500} * 86400, "36500d", "30s"};
constexpr Quantity kSize = {"size", "bytes", "B", kSizeUnits, std::numeric_limits<uint64_t>::max(),
                            "16EiB - 1", "4MiB"};

// The value readers below return what is wrong with a value; ConfigReader adds where it is.
Status Wrong(std::string what) { return {ErrorCode::kInvalidArgument, std::move(what)}; }

std::string_view TypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "an unknown type";
}

Status WrongType(std::string_view expected, const toml::node& node) {
  return Wrong(fmt::format("expected {}, got {}", expected, TypeName(node.type())));
}

// An integer of type T, at least `min`.
template <typename T>
Result<T> ReadInteger(const toml::node& node, T min = std::numeric_limits<T>::min()) {
  const auto* integer = node.as_integer();
  if (integer == nullptr) return WrongType("an integer", node);
  const int64_t value = integer->get();
  if (std::cmp_less(value, min)) {
    return Wrong(fmt::format("must be at least {}, got {}", min, value));
  }
  if (std::cmp_greater(value, std::numeric_limits<T>::max())) {
    return Wrong(fmt::format("must be at most {}, got {}", std::numeric_limits<T>::max(), value));
  }
  return static_cast<T>(value);
}

Status Negative(int64_t value) { return Wrong(fmt::format("must not be negative, got {}", value)); }

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
  if (text.starts_with('-')) return Wrong(prefix + "must not be negative");
  uint64_t number = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec == std::errc::invalid_argument) {
    return Wrong(fmt::format("{}expected a whole number and a unit ({}), e.g. \"{}\"", prefix,
                             units, quantity.example));
  }
  if (ec == std::errc::result_out_of_range) return Wrong(too_large);
  std::string_view suffix = text.substr(static_cast<size_t>(end - text.data()));
  if (suffix.starts_with('.')) return Wrong(prefix + "must be a whole number; use a smaller unit");
  while (suffix.starts_with(' ') || suffix.starts_with('\t')) suffix.remove_prefix(1);
  if (suffix.empty()) return Wrong(fmt::format("{}missing a unit ({})", prefix, units));
  for (const Unit& unit : quantity.units) {
    if (suffix != unit.suffix) continue;
    if (number > quantity.max / unit.factor) return Wrong(too_large);
    return number * unit.factor;
  }
  return Wrong(fmt::format("{}unknown unit \"{}\" (use {})", prefix, suffix, units));
}

// An integer in the base unit of `quantity` or a string with a unit, at least `min`.
Result<uint64_t> ReadQuantity(const toml::node& node, const Quantity& quantity, uint64_t min) {
  uint64_t value = 0;
  if (const auto* integer = node.as_integer()) {
    if (integer->get() < 0) return Negative(integer->get());
    value = static_cast<uint64_t>(integer->get());
    if (value > quantity.max) {
      return Wrong(fmt::format("must be at most {} {} ({}), got {}", quantity.max,
                               quantity.base_unit, quantity.max_text, value));
    }
  } else if (const auto* string = node.as_string()) {
    Result<uint64_t> parsed = ParseWithUnit(string->get(), quantity);
    if (!parsed.ok()) return parsed.status();
    value = *parsed;
  } else {
    return WrongType(fmt::format("a {} (an integer of {} or a string like \"{}\")", quantity.kind,
                                 quantity.base_unit, quantity.example),
                     node);
  }
  if (value < min) {
    return Wrong(
        fmt::format("must be at least {1}{0}, got {2}{0}", quantity.base_suffix, min, value));
  }
  return value;
}

Result<seconds> ReadDuration(const toml::node& node, seconds min = seconds(0)) {
  Result<uint64_t> value = ReadQuantity(node, kDuration, static_cast<uint64_t>(min.count()));
  if (!value.ok()) return value.status();
  return seconds(static_cast<seconds::rep>(*value));  // at most kDuration.max: no overflow
}

Result<uint64_t> ReadSize(const toml::node& node, uint64_t min = 0) {
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
  if (string->get().empty()) return Wrong("must not be empty");
  return string->get();
}

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
  return Wrong(fmt::format("must be one of {}, got \"{}\"", names, string->get()));
}

constexpr std::pair<std::string_view, LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                                                  {"json", LogFormat::kJson}};
constexpr std::pair<std::string_view, LogLevel> kLogLevels[] = {{"debug", LogLevel::kDebug},
                                                                {"info", LogLevel::kInfo},
                                                                {"warn", LogLevel::kWarn},
                                                                {"error", LogLevel::kError}};

template <typename T>
Status Assign(Result<T> value, T& out) {
  if (!value.ok()) return value.status();
  out = std::move(*value);
  return Status::Ok();
}

// One key of a table: reads its value into the Config, or says what is wrong with it.
struct FieldSpec {
  std::string_view key;
  Status (*read)(const toml::node& value, Config& config);
};

struct SectionSpec {
  std::string_view name;
  std::vector<FieldSpec> fields;
};

// One schema entry per field of Config. The macro spells the key from the member name, so the two
// cannot drift apart; `n` is the TOML value and `c` the Config inside `reader`.
#define OCIREG_FIELD(section, member, reader) \
  FieldSpec {                                  \
    #member, [](const toml::node& n, Config& c) { return Assign(reader, c.section.member); } \
  }

// The whole schema: every field of Config has exactly one entry here.
const std::vector<SectionSpec>& Schema() {
  static const auto& schema = *new std::vector<SectionSpec>{
      {"listen",
       {OCIREG_FIELD(listen, address, ReadNonEmptyString(n)),
        OCIREG_FIELD(listen, port, ReadInteger<uint16_t>(n))}},
      {"storage",
       {OCIREG_FIELD(storage, root, ReadNonEmptyString(n)),
        OCIREG_FIELD(storage, gc_grace_period, ReadDuration(n)),
        OCIREG_FIELD(storage, gc_interval, ReadDuration(n)),
        OCIREG_FIELD(storage, upload_ttl, ReadDuration(n, seconds(1)))}},
      {"limits",
       {OCIREG_FIELD(limits, max_manifest_bytes, ReadSize(n, 1)),
        OCIREG_FIELD(limits, max_blob_bytes, ReadSize(n)),
        OCIREG_FIELD(limits, max_connections, ReadInteger<uint32_t>(n, 1)),
        OCIREG_FIELD(limits, keep_alive_max_requests, ReadInteger<uint32_t>(n, 1)),
        OCIREG_FIELD(limits, keep_alive_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, read_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, write_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, shutdown_timeout, ReadDuration(n))}},
      {"features",
       {OCIREG_FIELD(features, allow_delete, ReadBool(n)),
        OCIREG_FIELD(features, auto_mount, ReadBool(n))}},
      {"log",
       {OCIREG_FIELD(log, format, ReadChoice(n, kLogFormats)),
        OCIREG_FIELD(log, level, ReadChoice(n, kLogLevels)),
        OCIREG_FIELD(log, access_log, ReadBool(n))}},
  };
  return schema;
}

#undef OCIREG_FIELD

// Walks a parsed document against the schema. toml++ tables are sorted by key, so the reader
// visits every key and keeps the problem that comes first in the file: the one a user expects.
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  Result<Config> Read(const toml::table& root) {
    Config config;
    for (const auto& [key, node] : root) {
      const SectionSpec* section = FindSection(key.str());
      if (section == nullptr) {
        Report(key.source(), key.str(), node.is_table() ? "unknown table" : "unknown key");
      } else if (const toml::table* table = node.as_table()) {
        ReadSection(*section, *table, config);
      } else {
        Report(node.source(), key.str(), WrongType("a table", node).message());
      }
    }
    if (first_problem_) return Wrong(std::move(first_problem_->message));
    return config;
  }

 private:
  struct Problem {
    toml::source_position where;
    std::string message;
  };

  static const SectionSpec* FindSection(std::string_view name) {
    for (const SectionSpec& section : Schema()) {
      if (section.name == name) return &section;
    }
    return nullptr;
  }

  static const FieldSpec* FindField(const SectionSpec& section, std::string_view key) {
    for (const FieldSpec& field : section.fields) {
      if (field.key == key) return &field;
    }
    return nullptr;
  }

  void ReadSection(const SectionSpec& section, const toml::table& table, Config& config) {
    for (const auto& [key, value] : table) {
      const std::string dotted = fmt::format("{}.{}", section.name, key.str());
      const FieldSpec* field = FindField(section, key.str());
      if (field == nullptr) {
        Report(key.source(), dotted, "unknown key");
        continue;
      }
      if (Status status = field->read(value, config); !status.ok()) {
        Report(value.source(), dotted, status.message());
      }
    }
  }

  void Report(const toml::source_region& region, std::string_view key, std::string_view what) {
    const toml::source_position& where = region.begin;
    if (first_problem_ && std::tie(first_problem_->where.line, first_problem_->where.column) <=
                              std::tie(where.line, where.column)) {
      return;
    }
    first_problem_ = Problem{where, fmt::format("{}:{}: {}: {}", source_, where.line, key, what)};
  }

  std::string_view source_;
  std::optional<Problem> first_problem_;
};

}  // namespace

std::string_view DefaultConfigText() { return kDefaultConfigText; }

Result<Config> ParseConfig(std::string_view text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& error) {
    const toml::source_position& where = error.source().begin;
    return Wrong(
        fmt::format("{}:{}:{}: {}", source, where.line, where.column, error.description()));
  }
  return ConfigReader(source).Read(root);
}

Result<Config> LoadConfig(const std::string& path) {
  auto close = [](std::FILE* file) { std::fclose(file); };
  std::unique_ptr<std::FILE, decltype(close)> file(std::fopen(path.c_str(), "rb"), close);
  const auto failure = [&path] {
    return Wrong(fmt::format("{}: cannot read: {}", path, std::generic_category().message(errno)));
  };
  if (file == nullptr) return failure();
  std::string text;
  char buffer[8192];
  size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof(buffer), file.get())) > 0) text.append(buffer, got);
  if (std::ferror(file.get())) return failure();
  return ParseConfig(text, path);
}

}  // namespace ocireg
