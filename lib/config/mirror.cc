// SPDX-License-Identifier: Apache-2.0
// The [[mirror]] array of tables: upstream registries mirrored under a local prefix, on demand (a
// pull-through cache) or by a scheduled sync. This file checks what the text says; the files an
// entry names (credentials_file, ca_file) are read by LoadConfig (config/mirror_files.h).
//
// Elements are named "mirror[N]" in messages, N counting from 1 in file order, as for every array
// of tables (load.cc). An element is checked against the ones before it, so a clash of names or
// prefixes is reported at the later entry.
#include <fmt/format.h>

#include <charconv>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "config/schema.h"
#include "ocireg/reference.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::milliseconds;

constexpr uint32_t kMaxConcurrentRequests = 1024;
constexpr std::string_view kRegexPrefix = "regex:";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Splits `text` at every '/'; "a//b" gives an empty part.
std::vector<std::string_view> SplitPath(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t slash = text.find('/', start);
    parts.push_back(text.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (slash == std::string_view::npos) return parts;
    start = slash + 1;
  }
}

// A DNS name or IPv4 address: letters, digits, '-' and '.', not empty.
bool IsHostName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    if (!IsAlnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

bool IsIpv6Literal(std::string_view host) {
  if (host.find(':') == std::string_view::npos) return false;
  for (char c : host) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex && c != ':' && c != '.') return false;
  }
  return true;
}

// scheme://host[:port] with an optional trailing '/'. No message quotes the URL: it was refused
// perhaps for holding a password.
Result<MirrorUpstream> ParseUpstream(std::string_view url) {
  MirrorUpstream upstream;
  if (url.starts_with("https://")) {
    upstream.scheme = "https";
    upstream.port = 443;
  } else if (url.starts_with("http://")) {
    upstream.scheme = "http";
    upstream.port = 80;
  } else {
    return InvalidArgument("must start with http:// or https://");
  }
  std::string_view rest = url.substr(upstream.scheme.size() + 3);
  if (rest.find('@') != std::string_view::npos) {
    return InvalidArgument(
        "must not hold a user name or password: set username and password, or credentials_file");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("takes no query or fragment");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) {
    return InvalidArgument(
        "takes no path, only scheme://host[:port]: the local namespace is set by prefix");
  }
  std::string_view host = rest;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("has an unclosed [ in its host");
    host = rest.substr(1, close - 1);
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (!after.starts_with(':')) return InvalidArgument("has text after the ] of its host");
      port = after.substr(1);
      has_port = true;
    }
    if (!IsIpv6Literal(host)) return InvalidArgument("has a bad IPv6 address in [ ]");
  } else {
    if (const size_t colon = rest.find(':'); colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      has_port = true;
    }
    if (host.empty()) return InvalidArgument("names no host");
    if (!IsHostName(host)) {
      return InvalidArgument("has a bad host: letters, digits, - and . only (IPv6 in [ ])");
    }
  }
  upstream.host = std::string(host);
  if (has_port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
        value > 65535) {
      return InvalidArgument(fmt::format("has a bad port: {}", port));
    }
    upstream.port = static_cast<uint16_t>(value);
  }
  return upstream;
}

// `upstream` and its parts from one key; the URL is kept without its trailing '/'.
Status ReadUpstream(const toml::node& node, Config& c) {
  Result<std::string> url = ReadNonEmptyString(node);
  if (!url.ok()) return url.status();
  Result<MirrorUpstream> parts = ParseUpstream(*url);
  if (!parts.ok()) return parts.status();
  MirrorConfig& mirror = c.mirrors.back();
  if (url->ends_with('/')) url->pop_back();
  mirror.upstream = std::move(*url);
  mirror.upstream_parts = std::move(*parts);
  return Status::Ok();
}

// Names go into log lines and metric labels as they are, so no spaces or quotes; '/' is allowed
// because a prefix is the default name. "" asks for the default, as when the key is absent.
Result<std::string> ReadName(const toml::node& node) {
  Result<std::string> name = ReadString(node);
  if (!name.ok()) return name;
  for (char c : *name) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.' && c != ':' && c != '/') {
      return InvalidArgument("may hold only letters, digits and - _ . : /");
    }
  }
  if (name->size() > 128) return InvalidArgument("must be at most 128 characters");
  return name;
}

Result<std::string> ReadPrefix(const toml::node& node) {
  Result<std::string> prefix = ReadString(node);
  if (!prefix.ok() || prefix->empty()) return prefix;
  if (Status valid = ValidateRepositoryName(*prefix); !valid.ok()) {
    return InvalidArgument(valid.message());
  }
  return prefix;
}

// What is wrong with a glob over repository names; "" when nothing. Components are those of the
// name grammar with '*' and '?' among their characters, or "**" alone.
std::string RepositoryGlobProblem(std::string_view glob) {
  for (std::string_view part : SplitPath(glob)) {
    if (part.empty()) return "has an empty path component (a leading, trailing or double /)";
    if (part == "**") continue;
    if (part.find("**") != std::string_view::npos) {
      return "\"**\" must be a whole path component, as in \"library/**\"";
    }
    for (char c : part) {
      if (!IsLowerAlnum(c) && c != '.' && c != '_' && c != '-' && c != '*' && c != '?') {
        return "may hold only a-z, 0-9, . _ - /, and the wildcards * ** ?";
      }
    }
  }
  return "";
}

// A tag glob uses the tag grammar's characters with '*' and '?'; a tag has no '/', so no "**".
std::string TagPatternProblem(std::string_view pattern) {
  if (pattern.starts_with(kRegexPrefix)) {
    const std::string expression(pattern.substr(kRegexPrefix.size()));
    if (expression.empty()) return "has an empty regular expression";
    try {
      const std::regex compiled(expression, std::regex::ECMAScript);
    } catch (const std::regex_error& error) {
      return fmt::format("is not a valid ECMAScript regular expression: {}", error.what());
    }
    return "";
  }
  if (pattern.find("**") != std::string_view::npos) {
    return "\"**\" matches across path components, and tags have none: use \"*\"";
  }
  for (char c : pattern) {
    if (!IsAlnum(c) && c != '.' && c != '_' && c != '-' && c != '*' && c != '?') {
      return "may hold only letters, digits, . _ - and the wildcards * ? (or start with regex:)";
    }
  }
  return "";
}

// "os/arch" or "os/arch/variant", each part lower-case letters, digits, '.', '_' or '-'.
std::string PlatformProblem(std::string_view platform) {
  const std::vector<std::string_view> parts = SplitPath(platform);
  bool valid = parts.size() == 2 || parts.size() == 3;
  for (std::string_view part : parts) {
    valid = valid && !part.empty();
    for (char c : part) valid = valid && (IsLowerAlnum(c) || c == '.' || c == '_' || c == '-');
  }
  return valid ? ""
               : "must be os/arch or os/arch/variant, e.g. \"linux/amd64\" or \"linux/arm/v7\"";
}

// An array of strings each of which `problem` accepts; empty only when `may_be_empty`.
Result<std::vector<std::string>> ReadPatterns(const toml::node& node,
                                              std::string (*problem)(std::string_view),
                                              bool may_be_empty) {
  Result<std::vector<std::string>> list = ReadStringList(node);
  if (!list.ok()) return list;
  if (list->empty() && !may_be_empty) {
    return InvalidArgument("must not be empty: [\"**\"] mirrors every repository");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    if (std::string why = problem((*list)[i]); !why.empty()) {
      return InvalidArgument(fmt::format("element {} \"{}\": {}", i + 1, (*list)[i], why));
    }
  }
  return list;
}

Result<uint32_t> ReadConcurrency(const toml::node& node) {
  Result<uint32_t> value = ReadInteger<uint32_t>(node, 1);
  if (value.ok() && *value > kMaxConcurrentRequests) {
    return InvalidArgument(
        fmt::format("must be at most {}, got {}", kMaxConcurrentRequests, *value));
  }
  return value;
}

// The name of an entry that gives none: its prefix, or its upstream's host at the root.
std::string DefaultName(const MirrorConfig& mirror) {
  return mirror.prefix.empty() ? mirror.upstream_parts.host : mirror.prefix;
}

std::string EffectiveName(const MirrorConfig& mirror) {
  return mirror.name.empty() ? DefaultName(mirror) : mirror.name;
}

// Whether `inner` is `outer` or a repository under it ("hub/x" under "hub", not "hubx").
bool IsWithin(std::string_view inner, std::string_view outer) {
  return inner.starts_with(outer) && (inner.size() == outer.size() || inner[outer.size()] == '/');
}

// host[:port] as the ns query parameter names an upstream.
std::string NamespaceOf(const MirrorUpstream& upstream) {
  const bool default_port = upstream.port == (upstream.scheme == "https" ? 443 : 80);
  const bool ipv6 = upstream.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? "[" + upstream.host + "]" : upstream.host;
  return default_port ? host : fmt::format("{}:{}", host, upstream.port);
}

// The entry against itself. Messages name keys, never a password.
Status CheckEntry(const MirrorConfig& m) {
  if (m.upstream.empty()) {
    return InvalidArgument("upstream is required (an http:// or https:// URL of a registry)");
  }
  if (!m.password.empty() && m.username.empty()) return InvalidArgument("password needs username");
  if (!m.credentials_file.empty() && (!m.username.empty() || !m.password.empty())) {
    return InvalidArgument(
        "credentials_file and username or password are exclusive: set one or the other");
  }
  if (!m.ca_file.empty() && m.upstream_parts.scheme != "https") {
    return InvalidArgument("ca_file needs an https:// upstream");
  }
  return Status::Ok();
}

// The last entry against the ones before it (see MirrorConfig for the rules).
Status CheckMirror(const Config& c) {
  const MirrorConfig& m = c.mirrors.back();
  OCIREG_RETURN_IF_ERROR(CheckEntry(m));
  const std::string name = EffectiveName(m);
  const std::string how =
      m.name.empty() ? m.prefix.empty() ? " (the upstream's host)" : " (the prefix)" : "";
  for (size_t i = 0; i + 1 < c.mirrors.size(); ++i) {
    const MirrorConfig& other = c.mirrors[i];
    if (EffectiveName(other) == name) {
      return InvalidArgument(fmt::format(
          "name \"{}\"{} is already used by mirror[{}]: names must differ", name, how, i + 1));
    }
    if (m.prefix.empty() != other.prefix.empty()) continue;
    if (m.prefix.empty()) {
      if (NamespaceOf(m.upstream_parts) == NamespaceOf(other.upstream_parts)) {
        return InvalidArgument(fmt::format(
            "mirror[{}] already mirrors {} at the root, and ?ns= could not choose between them: "
            "give one a prefix",
            i + 1, NamespaceOf(m.upstream_parts)));
      }
    } else if (m.prefix == other.prefix) {
      return InvalidArgument(
          fmt::format("prefix \"{}\" is already used by mirror[{}]", m.prefix, i + 1));
    } else if (IsWithin(m.prefix, other.prefix) || IsWithin(other.prefix, m.prefix)) {
      return InvalidArgument(fmt::format("prefix \"{}\" overlaps prefix \"{}\" of mirror[{}]",
                                         m.prefix, other.prefix, i + 1));
    }
  }
  return Status::Ok();
}

void FillDefaultName(Config& c) {
  MirrorConfig& mirror = c.mirrors.back();
  if (mirror.name.empty()) mirror.name = DefaultName(mirror);
}

}  // namespace

std::vector<SectionSpec> MirrorSections() {
  return {
      {"mirror",
       {OCIREG_FIELD_OF(c.mirrors.back(), name, ReadName(n)), FieldSpec{"upstream", ReadUpstream},
        OCIREG_FIELD_OF(c.mirrors.back(), prefix, ReadPrefix(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), repositories,
                        ReadPatterns(n, RepositoryGlobProblem, false)),
        OCIREG_FIELD_OF(c.mirrors.back(), username, ReadString(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), password, ReadString(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), credentials_file, ReadString(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), ca_file, ReadString(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), tls_verify, ReadBool(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), on_demand, ReadBool(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), tag_ttl, ReadDuration(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), sync_interval, ReadDuration(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), tags, ReadPatterns(n, TagPatternProblem, true)),
        OCIREG_FIELD_OF(c.mirrors.back(), tags_latest, ReadInteger<uint32_t>(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), platforms, ReadPatterns(n, PlatformProblem, true)),
        OCIREG_FIELD_OF(c.mirrors.back(), allow_push, ReadBool(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), max_concurrent_requests, ReadConcurrency(n)),
        OCIREG_FIELD_OF(c.mirrors.back(), connect_timeout, ReadFineDuration(n, milliseconds(1))),
        OCIREG_FIELD_OF(c.mirrors.back(), request_timeout, ReadFineDuration(n, milliseconds(1)))},
       [](Config& c) { c.mirrors.emplace_back(); },
       nullptr,
       CheckMirror,
       FillDefaultName}};
}

}  // namespace ocireg::config_parse
