// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_url.h"

#include <charconv>

namespace ocireg::internal {
namespace {

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string RedisAddress::ToString() const {
  std::string host_part = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return std::string(tls ? "rediss://" : "redis://") + (user.empty() ? "" : user + "@") +
         host_part + ":" + std::to_string(port) + "/" + std::to_string(database);
}

Result<RedisAddress> ParseRedisUrl(std::string_view url) {
  RedisAddress address;
  std::string_view rest = url;
  if (rest.starts_with("redis://")) {
    rest.remove_prefix(8);
  } else if (rest.starts_with("rediss://")) {
    rest.remove_prefix(9);
    address.tls = true;
  } else {
    return InvalidArgument("must start with redis:// or rediss://");
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return InvalidArgument("takes no query or fragment");
  }
  std::string_view path;
  if (size_t slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view user = rest.substr(0, at);
    if (user.find(':') != std::string_view::npos) {
      return InvalidArgument("must not hold a password: set redis_password");
    }
    address.user = std::string(user);
    rest = rest.substr(at + 1);
  }
  std::string_view port;
  if (rest.starts_with("[")) {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return InvalidArgument("has an unclosed [ in its host");
    address.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return InvalidArgument("has text after its host's ]");
      port = after.substr(1);
    }
  } else {
    size_t colon = rest.find(':');
    address.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (address.host.empty()) return InvalidArgument("names no host");
  if (!port.empty() || rest.ends_with(":")) {
    uint32_t number = 0;
    if (!ParseNumber(port, number) || number == 0 || number > 65535) {
      return InvalidArgument("has a bad port: " + std::string(port));
    }
    address.port = static_cast<uint16_t>(number);
  }
  if (!path.empty() && !ParseNumber(path, address.database)) {
    return InvalidArgument("has a bad database number: " + std::string(path));
  }
  return address;
}

}  // namespace ocireg::internal
