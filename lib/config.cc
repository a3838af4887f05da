// SPDX-License-Identifier: Apache-2.0
// ParseConfig and LoadConfig: reads the TOML configuration with toml++ and checks every key.
#include "ocireg/config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

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

#include "address_range.h"

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
max_open_connections = 2048    # connections open at once, served or waiting; at least 1
keep_alive_max_requests = 100  # requests served on one connection; at least 1
keep_alive_timeout = "5s"      # an idle connection is closed after this; at least 1s
header_timeout = "20s"         # a request's line and headers must arrive within this; >= 1s
read_timeout = "60s"           # per receive, not per request; at least 1s
write_timeout = "60s"          # per send, not per request; at least 1s
shutdown_timeout = "30s"       # in-flight requests get this long to finish on SIGTERM/SIGINT
max_uploads = 1000             # upload sessions open at once; at least 1
max_uploads_per_client = 100   # of those, per user or address; 0 means no per-client limit

[features]
allow_delete = true  # DELETE of manifests, tags and blobs; 405 UNSUPPORTED when false
auto_mount = true    # a mount without ?from= searches the readable repositories

[log]
format = "text"    # "text" or "json"
level = "info"     # "debug", "info", "warn" or "error"
access_log = true  # one line per request

[tls]                    # TLS is on when certificate is set
certificate = ""         # PEM file: the server certificate followed by its chain
private_key = ""         # PEM file of its private key
client_ca = ""           # PEM file of the CAs of client certificates; set: mutual TLS
client_auth = "required" # "required": no client certificate, no connection; or "optional"
client_identity = "cn"   # user name of a client certificate: "cn", "san-dns", "san-email", "san-uri"

[auth]
realm = "ocireg"           # realm of the WWW-Authenticate: Basic challenge
failure_limit = 5          # failed logins of one user from one address before it waits; 0: never
failure_window = "5m"      # a count restarts this long after its first (throttled: last) failure
failure_delay = "1s"       # the first wait (Retry-After), doubled per further failure
failure_delay_max = "30s"  # the longest wait
trusted_proxies = []       # proxies whose X-Forwarded-For names the client: addresses or CIDR

[auth.htpasswd]
file = ""  # htpasswd file of bcrypt entries (htpasswd -B); set: htpasswd login on

[auth.ldap]
url = ""                        # ldap://host:389 or ldaps://host:636; set: LDAP login on
start_tls = false               # StartTLS on an ldap:// URL
ca_file = ""                    # PEM CAs for ldaps:// and StartTLS; "" uses the system's
bind_dn = ""                    # service account that searches users; "" searches anonymously
bind_password = ""              # its password
user_base_dn = ""               # where users are searched; required with url
user_filter = "(uid={user})"    # {user} is the escaped user name
group_attribute = ""            # groups from this attribute of the user (e.g. "memberOf")
group_base_dn = ""              # set: groups from a search under this DN
group_filter = "(member={dn})"  # {dn}: the user's DN, {user}: the user name, both escaped
group_name_attribute = "cn"     # names a group found by the search
timeout = "5s"                  # connecting and each LDAP operation
cache_ttl = "60s"               # successful logins are remembered this long; 0: never

[docs]   # API documentation, served without credentials
enabled = true  # the OpenAPI document at /openapi.json and a Swagger UI page at /docs/
swagger_ui_dir = ""  # swagger-ui-dist's files; "": the installed copy, else a checkout's

[metrics]
enabled = true  # GET /metrics in the Prometheus text format, served without credentials

# Without an [access] table: when no login method is configured (no htpasswd, LDAP or client_ca),
# anonymous callers may do everything; otherwise anonymous callers may do nothing and every
# authenticated user everything. With one, exactly what it grants. Actions: "read", "create"
# (push new content), "update" (move an existing tag), "delete". Patterns: "*" within one path
# component, "**" across components.
#
# [access]
# admins = ["root"]             # may do everything everywhere
# admin_groups = ["registry-admins"]
#
# [[access.anonymous]]
# repositories = ["public/**"]
# actions = ["read"]
#
# [[access.authenticated]]
# repositories = ["**"]
# actions = ["read"]
#
# [[access.policy]]
# repositories = ["team-a/**"]
# users = ["alice"]
# groups = ["team-a"]
# actions = ["read", "create", "update", "delete"]
)toml";

// A whole number followed by one of these suffixes is multiplied by the factor.
struct Unit {
  std::string_view suffix;
  uint64_t factor;
};

constexpr Unit kDurationUnits[] = {{"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
constexpr Unit kSizeUnits[] = {{"B", 1},
                               {"KiB", uint64_t{1} << 10},
                               {"MiB", uint64_t{1} << 20},
                               {"GiB", uint64_t{1} << 30},
                               {"TiB", uint64_t{1} << 40}};

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
constexpr Quantity kDuration = {"duration", "seconds", "s", kDurationUnits, uint64_t{36500} * 86400,
                                "36500d",   "30s"};
constexpr Quantity kSize = {
    "size", "bytes", "B", kSizeUnits, std::numeric_limits<uint64_t>::max(), "16EiB - 1", "4MiB"};

// The value readers below return what is wrong with a value; ConfigReader adds where it is.
Status Wrong(std::string what) { return {ErrorCode::kInvalidArgument, std::move(what)}; }

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

// A string that may be empty (an empty path or URL turns its feature off).
Result<std::string> ReadString(const toml::node& node) {
  const auto* string = node.as_string();
  if (string == nullptr) return WrongType("a string", node);
  return string->get();
}

// An array of non-empty strings.
Result<std::vector<std::string>> ReadStringList(const toml::node& node) {
  const auto* array = node.as_array();
  if (array == nullptr) return WrongType("an array of strings", node);
  std::vector<std::string> list;
  for (size_t i = 0; i < array->size(); ++i) {
    const auto* string = (*array)[i].as_string();
    if (string == nullptr) {
      return Wrong(
          fmt::format("element {}: {}", i + 1, WrongType("a string", (*array)[i]).message()));
    }
    if (string->get().empty()) return Wrong(fmt::format("element {}: must not be empty", i + 1));
    list.push_back(string->get());
  }
  return list;
}

// An array of IPv4 or IPv6 addresses or CIDR ranges ("10.0.0.0/8").
Result<std::vector<std::string>> ReadAddressRanges(const toml::node& node) {
  Result<std::vector<std::string>> ranges = ReadStringList(node);
  if (!ranges.ok()) return ranges.status();
  for (size_t i = 0; i < ranges->size(); ++i) {
    Result<internal::AddressRange> range = internal::AddressRange::Parse((*ranges)[i]);
    if (!range.ok()) {
      return Wrong(
          fmt::format("element {} \"{}\": {}", i + 1, (*ranges)[i], range.status().message()));
    }
  }
  return ranges;
}

// An array of action names: "read", "create", "update", "delete".
Result<ActionSet> ReadActions(const toml::node& node) {
  Result<std::vector<std::string>> names = ReadStringList(node);
  if (!names.ok()) return names.status();
  ActionSet actions;
  for (const std::string& name : *names) {
    std::optional<Action> action = ParseAction(name);
    if (!action) {
      return Wrong(fmt::format(
          "unknown action \"{}\": use \"read\", \"create\", \"update\" or \"delete\"", name));
    }
    actions |= ActionSet{*action};
  }
  return actions;
}

constexpr std::pair<std::string_view, LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                                                  {"json", LogFormat::kJson}};
constexpr std::pair<std::string_view, LogLevel> kLogLevels[] = {{"debug", LogLevel::kDebug},
                                                                {"info", LogLevel::kInfo},
                                                                {"warn", LogLevel::kWarn},
                                                                {"error", LogLevel::kError}};
constexpr std::pair<std::string_view, ClientAuth> kClientAuth[] = {
    {"required", ClientAuth::kRequired}, {"optional", ClientAuth::kOptional}};
constexpr std::pair<std::string_view, ClientIdentity> kClientIdentity[] = {
    {"cn", ClientIdentity::kCommonName},
    {"san-dns", ClientIdentity::kSanDns},
    {"san-email", ClientIdentity::kSanEmail},
    {"san-uri", ClientIdentity::kSanUri}};

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

// One table of the file, by its dotted name ("auth.ldap"). An array of tables ([[access.policy]])
// has add_element, which appends the element its fields then fill through `.back()`.
struct SectionSpec {
  std::string_view name;
  std::vector<FieldSpec> fields;
  void (*add_element)(Config& config) = nullptr;
  // Runs when the table is present, before its fields are read.
  void (*on_present)(Config& config) = nullptr;
  // Checks across the fields of the table (or element) once they are read; its problem is
  // reported at the table.
  Status (*check)(const Config& config) = nullptr;
};

// One schema entry per field of Config. The macros spell the key from the member name, so the two
// cannot drift apart; `n` is the TOML value and `c` the Config inside `reader`.
#define OCIREG_FIELD_OF(object, member, reader)                                           \
  FieldSpec {                                                                             \
#member, [](const toml::node& n, Config& c) { return Assign(reader, object.member); } \
  }
#define OCIREG_FIELD(section, member, reader) OCIREG_FIELD_OF(c.section, member, reader)

Status CheckTls(const Config& c) {
  const TlsConfig& tls = c.tls;
  if (!tls.certificate.empty() && tls.private_key.empty()) {
    return Wrong("private_key is required when certificate is set");
  }
  if (tls.certificate.empty() && !tls.private_key.empty()) {
    return Wrong("certificate is required when private_key is set");
  }
  if (tls.certificate.empty() && !tls.client_ca.empty()) {
    return Wrong("client_ca needs TLS: set certificate and private_key");
  }
  return Status::Ok();
}

Status CheckLdap(const Config& c) {
  const LdapConfig& ldap = c.auth.ldap;
  if (ldap.url.empty()) return Status::Ok();
  if (!ldap.url.starts_with("ldap://") && !ldap.url.starts_with("ldaps://")) {
    return Wrong(fmt::format("url must start with ldap:// or ldaps://, got \"{}\"", ldap.url));
  }
  if (ldap.start_tls && ldap.url.starts_with("ldaps://")) {
    return Wrong("start_tls applies to ldap:// URLs; ldaps:// is TLS already");
  }
  if (ldap.user_base_dn.empty()) return Wrong("user_base_dn is required when url is set");
  if (ldap.user_filter.find("{user}") == std::string::npos) {
    return Wrong("user_filter must contain {user}");
  }
  return Status::Ok();
}

Status CheckRule(const AccessRule& rule, bool names_callers) {
  if (rule.repositories.empty()) return Wrong("repositories is required (a list of patterns)");
  if (rule.actions.empty()) return Wrong("actions is required (a list of actions)");
  if (names_callers && rule.users.empty() && rule.groups.empty()) {
    return Wrong("a policy needs users or groups");
  }
  return Status::Ok();
}

void EnsureAccess(Config& c) {
  if (!c.access) c.access.emplace();
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
        OCIREG_FIELD(limits, max_open_connections, ReadInteger<uint32_t>(n, 1)),
        OCIREG_FIELD(limits, keep_alive_max_requests, ReadInteger<uint32_t>(n, 1)),
        OCIREG_FIELD(limits, keep_alive_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, header_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, read_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, write_timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(limits, shutdown_timeout, ReadDuration(n)),
        OCIREG_FIELD(limits, max_uploads, ReadInteger<uint32_t>(n, 1)),
        OCIREG_FIELD(limits, max_uploads_per_client, ReadInteger<uint32_t>(n))}},
      {"features",
       {OCIREG_FIELD(features, allow_delete, ReadBool(n)),
        OCIREG_FIELD(features, auto_mount, ReadBool(n))}},
      {"log",
       {OCIREG_FIELD(log, format, ReadChoice(n, kLogFormats)),
        OCIREG_FIELD(log, level, ReadChoice(n, kLogLevels)),
        OCIREG_FIELD(log, access_log, ReadBool(n))}},
      {"tls",
       {OCIREG_FIELD(tls, certificate, ReadString(n)),
        OCIREG_FIELD(tls, private_key, ReadString(n)), OCIREG_FIELD(tls, client_ca, ReadString(n)),
        OCIREG_FIELD(tls, client_auth, ReadChoice(n, kClientAuth)),
        OCIREG_FIELD(tls, client_identity, ReadChoice(n, kClientIdentity))},
       nullptr,
       nullptr,
       CheckTls},
      {"auth",
       {OCIREG_FIELD(auth, realm, ReadNonEmptyString(n)),
        OCIREG_FIELD(auth, failure_limit, ReadInteger<uint32_t>(n)),
        OCIREG_FIELD(auth, failure_window, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(auth, failure_delay, ReadDuration(n)),
        OCIREG_FIELD(auth, failure_delay_max, ReadDuration(n)),
        OCIREG_FIELD(auth, trusted_proxies, ReadAddressRanges(n))}},
      {"auth.htpasswd", {OCIREG_FIELD(auth.htpasswd, file, ReadString(n))}},
      {"auth.ldap",
       {OCIREG_FIELD(auth.ldap, url, ReadString(n)),
        OCIREG_FIELD(auth.ldap, start_tls, ReadBool(n)),
        OCIREG_FIELD(auth.ldap, ca_file, ReadString(n)),
        OCIREG_FIELD(auth.ldap, bind_dn, ReadString(n)),
        OCIREG_FIELD(auth.ldap, bind_password, ReadString(n)),
        OCIREG_FIELD(auth.ldap, user_base_dn, ReadString(n)),
        OCIREG_FIELD(auth.ldap, user_filter, ReadNonEmptyString(n)),
        OCIREG_FIELD(auth.ldap, group_attribute, ReadString(n)),
        OCIREG_FIELD(auth.ldap, group_base_dn, ReadString(n)),
        OCIREG_FIELD(auth.ldap, group_filter, ReadNonEmptyString(n)),
        OCIREG_FIELD(auth.ldap, group_name_attribute, ReadNonEmptyString(n)),
        OCIREG_FIELD(auth.ldap, timeout, ReadDuration(n, seconds(1))),
        OCIREG_FIELD(auth.ldap, cache_ttl, ReadDuration(n))},
       nullptr,
       nullptr,
       CheckLdap},
      {"docs",
       {OCIREG_FIELD(docs, enabled, ReadBool(n)),
        OCIREG_FIELD(docs, swagger_ui_dir, ReadString(n))}},
      {"metrics", {OCIREG_FIELD(metrics, enabled, ReadBool(n))}},
      {"access",
       {OCIREG_FIELD_OF((*c.access), admins, ReadStringList(n)),
        OCIREG_FIELD_OF((*c.access), admin_groups, ReadStringList(n))},
       nullptr,
       EnsureAccess},
      {"access.anonymous",
       {OCIREG_FIELD_OF(c.access->anonymous.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->anonymous.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->anonymous.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->anonymous.back(), false); }},
      {"access.authenticated",
       {OCIREG_FIELD_OF(c.access->authenticated.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->authenticated.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->authenticated.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->authenticated.back(), false); }},
      {"access.policy",
       {OCIREG_FIELD_OF(c.access->policy.back(), repositories, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), users, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), groups, ReadStringList(n)),
        OCIREG_FIELD_OF(c.access->policy.back(), actions, ReadActions(n))},
       [](Config& c) { c.access->policy.emplace_back(); },
       nullptr,
       [](const Config& c) { return CheckRule(c.access->policy.back(), true); }},
  };
  return schema;
}

#undef OCIREG_FIELD
#undef OCIREG_FIELD_OF

// Walks a parsed document against the schema. toml++ tables are sorted by key, so the reader
// visits every key and keeps the problem that comes first in the file: the one a user expects.
class ConfigReader {
 public:
  explicit ConfigReader(std::string_view source) : source_(source) {}

  Result<Config> Read(const toml::table& root) {
    Config config;
    ReadTable("", root, config);
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

  static const FieldSpec* FindField(const SectionSpec* section, std::string_view key) {
    if (section == nullptr) return nullptr;
    for (const FieldSpec& field : section->fields) {
      if (field.key == key) return &field;
    }
    return nullptr;
  }

  // Reads the keys of `table`, the table named `name` ("" for the root): fields of its section
  // and sub-tables that are sections of their own.
  void ReadTable(const std::string& name, const toml::table& table, Config& config) {
    const SectionSpec* section = FindSection(name);
    for (const auto& [key, value] : table) {
      const std::string dotted =
          name.empty() ? std::string(key.str()) : fmt::format("{}.{}", name, key.str());
      if (const FieldSpec* field = FindField(section, key.str())) {
        if (Status status = field->read(value, config); !status.ok()) {
          Report(value.source(), dotted, status.message());
        }
      } else if (const SectionSpec* sub = FindSection(dotted)) {
        ReadSection(*sub, dotted, value, config);
      } else {
        const bool table_like = value.is_table() || value.is_array_of_tables();
        Report(key.source(), dotted, table_like ? "unknown table" : "unknown key");
      }
    }
  }

  void ReadSection(const SectionSpec& section, const std::string& dotted, const toml::node& value,
                   Config& config) {
    if (section.add_element == nullptr) {
      const toml::table* table = value.as_table();
      if (table == nullptr) {
        return Report(value.source(), dotted, WrongType("a table", value).message());
      }
      if (section.on_present != nullptr) section.on_present(config);
      const size_t problems_before = problems_;
      ReadTable(dotted, *table, config);
      Check(section, *table, dotted, config, problems_before);
      return;
    }
    const toml::array* array = value.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      return Report(value.source(), dotted,
                    fmt::format("expected an array of tables ([[{}]]), got {}", dotted,
                                TypeName(value.type())));
    }
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& element = *(*array)[i].as_table();
      section.add_element(config);
      const std::string element_name = fmt::format("{}[{}]", dotted, i + 1);
      const size_t problems_before = problems_;
      ReadFields(section, element_name, element, config);
      Check(section, element, element_name, config, problems_before);
    }
  }

  // The keys of one element of an array of tables: fields only.
  void ReadFields(const SectionSpec& section, const std::string& name, const toml::table& table,
                  Config& config) {
    for (const auto& [key, value] : table) {
      const std::string dotted = fmt::format("{}.{}", name, key.str());
      const FieldSpec* field = FindField(&section, key.str());
      if (field == nullptr) {
        Report(key.source(), dotted, "unknown key");
      } else if (Status status = field->read(value, config); !status.ok()) {
        Report(value.source(), dotted, status.message());
      }
    }
  }

  // A table whose own keys had problems is not checked: its fields may not hold what the file
  // says, and the check would report a consequence instead of the cause. A problem elsewhere
  // does not matter: Report keeps whichever comes first in the file.
  void Check(const SectionSpec& section, const toml::table& table, const std::string& name,
             const Config& config, size_t problems_before) {
    if (section.check == nullptr || problems_ != problems_before) return;
    if (Status status = section.check(config); !status.ok()) {
      Report(table.source(), name, status.message());
    }
  }

  void Report(const toml::source_region& region, std::string_view key, std::string_view what) {
    const toml::source_position& where = region.begin;
    ++problems_;
    if (first_problem_ && std::tie(first_problem_->where.line, first_problem_->where.column) <=
                              std::tie(where.line, where.column)) {
      return;
    }
    first_problem_ = Problem{where, fmt::format("{}:{}: {}: {}", source_, where.line, key, what)};
  }

  std::string_view source_;
  std::optional<Problem> first_problem_;
  size_t problems_ = 0;  // all reported, including those first_problem_ outranks
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

namespace {

template <typename T, size_t N>
std::string_view NameOf(const std::pair<std::string_view, T> (&names)[N], T value) {
  for (const auto& [name, candidate] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

std::string Joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

}  // namespace

std::string DescribeConfig(const Config& config) {
  const auto duration = [](seconds value) { return fmt::format("{}s", value.count()); };
  const auto bytes = [](uint64_t value) {
    return value == 0 ? std::string("unlimited") : fmt::format("{} bytes", value);
  };
  const TlsConfig& tls = config.tls;
  std::string tls_mode = "off";
  if (!tls.certificate.empty()) {
    tls_mode = "on";
    if (!tls.client_ca.empty()) {
      tls_mode += fmt::format(" (client certificates {}, identity {})",
                              NameOf(kClientAuth, tls.client_auth),
                              NameOf(kClientIdentity, tls.client_identity));
    }
  }
  std::vector<std::string> logins;
  if (!tls.certificate.empty() && !tls.client_ca.empty()) logins.push_back("client-certificate");
  if (!config.auth.htpasswd.file.empty()) logins.push_back("htpasswd " + config.auth.htpasswd.file);
  if (!config.auth.ldap.url.empty()) logins.push_back("ldap " + config.auth.ldap.url);
  std::string access = "implicit (no [access] table)";
  if (config.access) {
    const AccessConfig& a = *config.access;
    access = fmt::format("{} rules, {} admins, {} admin groups",
                         a.anonymous.size() + a.authenticated.size() + a.policy.size(),
                         a.admins.size(), a.admin_groups.size());
  }
  const LimitsConfig& limits = config.limits;
  return fmt::format(
      "listen {}:{}; tls {}; logins {}; access {}; storage {} (gc every {}, grace {}, uploads "
      "{}); limits: {} connections ({} open), {} requests per connection, keep-alive {}, headers "
      "{}, read {}, write {}, shutdown {}, manifests {}, blobs {}, {} uploads ({} per client); "
      "deletion {}",
      config.listen.address, config.listen.port, tls_mode, Joined(logins), access,
      config.storage.root, duration(config.storage.gc_interval),
      duration(config.storage.gc_grace_period), duration(config.storage.upload_ttl),
      limits.max_connections, limits.max_open_connections, limits.keep_alive_max_requests,
      duration(limits.keep_alive_timeout), duration(limits.header_timeout),
      duration(limits.read_timeout), duration(limits.write_timeout),
      duration(limits.shutdown_timeout), bytes(limits.max_manifest_bytes),
      bytes(limits.max_blob_bytes), limits.max_uploads, limits.max_uploads_per_client,
      config.features.allow_delete ? "on" : "off");
}

}  // namespace ocireg
