// SPDX-License-Identifier: Apache-2.0
// The checks of S3Options (storage/s3/option_checks.h): URL, bucket and prefix syntax, part sizes.
#include "storage/s3/option_checks.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <string>

namespace ocireg::internal {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool IsControl(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

// A host name or an IPv4 literal: letters, digits, '-' and '.'.
bool IsHostName(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return IsAlnum(c) || c == '-' || c == '.'; });
}

// The inside of "[...]": hex digits, ':' and '.' (an embedded IPv4 address).
bool IsIpv6Literal(std::string_view host) {
  return host.find(':') != std::string_view::npos &&
         std::all_of(host.begin(), host.end(),
                     [](char c) { return IsHexDigit(c) || c == ':' || c == '.'; });
}

bool IsPort(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const int value = std::stoi(std::string(port));
  return value >= 1 && value <= 65535;
}

// "host", "host:port", "[v6]" or "[v6]:port".
bool IsHostAndPort(std::string_view authority) {
  std::string_view port;
  bool has_port = false;
  std::string_view host = authority;
  if (authority.starts_with('[')) {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(1, close - 1);
    const std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    has_port = !rest.empty();
    port = has_port ? rest.substr(1) : rest;
    if (!IsIpv6Literal(host)) return false;
  } else {
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    if (!IsHostName(host)) return false;
  }
  return !has_port || IsPort(port);
}

Status Prefixed(std::string_view field, const Status& status) {
  if (status.ok()) return status;
  return InvalidArgument(fmt::format("{}: {}", field, status.message()));
}

Status AtLeastOneMillisecond(std::string_view field, std::chrono::milliseconds value) {
  if (value.count() > 0) return Status::Ok();
  return InvalidArgument(fmt::format("{}: must be at least 1ms, got {}ms", field, value.count()));
}

}  // namespace

Status CheckS3Endpoint(std::string_view endpoint) {
  std::string_view authority = endpoint;
  if (authority.starts_with("https://")) {
    authority.remove_prefix(8);
  } else if (authority.starts_with("http://")) {
    authority.remove_prefix(7);
  } else {
    return InvalidArgument(fmt::format("must be an http:// or https:// URL, got \"{}\"", endpoint));
  }
  if (authority.find('@') != std::string_view::npos) {
    // Not quoted: what comes before the '@' may be a password.
    return InvalidArgument(
        "must not carry a user or password (user@host); give the keys with access_key and "
        "secret_key, the environment or a credentials file");
  }
  if (authority.find_first_of("/?#") != std::string_view::npos) {
    return InvalidArgument(fmt::format(
        "must have no path, query or fragment (bucket and prefix are keys of their own), "
        "got \"{}\"",
        endpoint));
  }
  if (!IsHostAndPort(authority)) {
    return InvalidArgument(fmt::format(
        "must name a host and an optional port (1-65535), like \"https://s3.example.net\" or "
        "\"http://127.0.0.1:7480\", got \"{}\"",
        endpoint));
  }
  return Status::Ok();
}

Status CheckS3BucketName(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) {
    return InvalidArgument(fmt::format("bucket name \"{}\" must be 3 to 63 characters, has {}",
                                       bucket, bucket.size()));
  }
  const auto allowed = [](char c) { return IsLowerAlnum(c) || c == '.' || c == '-'; };
  if (!std::all_of(bucket.begin(), bucket.end(), allowed)) {
    return InvalidArgument(fmt::format(
        "bucket name \"{}\" may hold only lowercase letters, digits, '.' and '-'", bucket));
  }
  if (!IsLowerAlnum(bucket.front()) || !IsLowerAlnum(bucket.back())) {
    return InvalidArgument(fmt::format(
        "bucket name \"{}\" must start and end with a lowercase letter or a digit", bucket));
  }
  if (bucket.find("..") != std::string_view::npos) {
    return InvalidArgument(fmt::format("bucket name \"{}\" must not hold \"..\"", bucket));
  }
  return Status::Ok();
}

Status CheckS3Prefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  if (std::any_of(prefix.begin(), prefix.end(), IsControl)) {
    return InvalidArgument("must not hold control characters");
  }
  if (prefix.starts_with('/') || prefix.ends_with('/')) {
    return InvalidArgument(
        fmt::format("\"{}\" must not start or end with '/' (write \"a/b\")", prefix));
  }
  std::string_view rest = prefix;
  while (true) {
    const size_t slash = rest.find('/');
    const std::string_view component = rest.substr(0, slash);
    if (component.empty()) {
      return InvalidArgument(
          fmt::format("\"{}\" must not hold an empty component (\"//\")", prefix));
    }
    if (component == "." || component == "..") {
      return InvalidArgument(
          fmt::format("\"{}\" must not hold a \"{}\" component", prefix, component));
    }
    if (slash == std::string_view::npos) return Status::Ok();
    rest.remove_prefix(slash + 1);
  }
}

Status CheckS3PartSize(uint64_t part_size) {
  if (part_size >= kS3MinPartSize && part_size <= kS3MaxPartSize) return Status::Ok();
  return InvalidArgument(
      fmt::format("must be 5MiB to 5GiB (the part sizes S3 accepts), got {} bytes", part_size));
}

Status CheckS3Options(const S3Options& options) {
  OCIREG_RETURN_IF_ERROR(Prefixed("endpoint", CheckS3Endpoint(options.endpoint)));
  if (options.region.empty()) return InvalidArgument("region: must not be empty");
  OCIREG_RETURN_IF_ERROR(Prefixed("bucket", CheckS3BucketName(options.bucket)));
  OCIREG_RETURN_IF_ERROR(Prefixed("prefix", CheckS3Prefix(options.prefix)));
  const S3Credentials& keys = options.credentials;
  if (keys.access_key_id.empty() != keys.secret_access_key.empty()) {
    return InvalidArgument(
        "credentials: an access key id and a secret access key go together; one is missing");
  }
  if (!keys.session_token.empty() && keys.access_key_id.empty()) {
    return InvalidArgument("credentials: a session token needs an access key id and a secret");
  }
  OCIREG_RETURN_IF_ERROR(Prefixed("part_size", CheckS3PartSize(options.part_size)));
  OCIREG_RETURN_IF_ERROR(AtLeastOneMillisecond("connect_timeout", options.connect_timeout));
  OCIREG_RETURN_IF_ERROR(AtLeastOneMillisecond("idle_timeout", options.idle_timeout));
  OCIREG_RETURN_IF_ERROR(AtLeastOneMillisecond("retry_base_delay", options.retry_base_delay));
  if (options.max_retry_time.count() < 0) {
    return InvalidArgument("max_retry_time: must not be negative");
  }
  if (options.max_idle_connections == 0) {
    return InvalidArgument("max_idle_connections: must be at least 1, got 0");
  }
  return Status::Ok();
}

}  // namespace ocireg::internal
