// SPDX-License-Identifier: Apache-2.0
// The address of a Redis server as [cluster] redis_url spells it:
//   redis://[user@]host[:port][/db]    rediss://... for TLS
// Passwords are not part of the URL: they come from redis_password, so that the URL can be
// logged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

struct RedisAddress {
  bool tls = false;
  std::string host;
  uint16_t port = 6379;
  uint32_t database = 0;
  std::string user;  // ACL user for AUTH; "" is the default user

  // "redis://host:port/db", for messages.
  std::string ToString() const;
};

// kInvalidArgument saying what is wrong: another scheme, no host, a bad port or database, a
// password in the URL, a query or fragment.
Result<RedisAddress> ParseRedisUrl(std::string_view url);

}  // namespace ocireg::internal
