// SPDX-License-Identifier: Apache-2.0
// IpAddress and AddressRange: IPv4 and IPv6 addresses as text, and CIDR ranges of them.
//
// Used to tell trusted proxies (auth.trusted_proxies) from clients, and to key the login
// throttle. IPv4-mapped IPv6 addresses (::ffff:192.0.2.1) are taken as the IPv4 address, so
// a dual-stack listener and a configured IPv4 range agree. Value types: thread-safe to share.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4

  // An IPv4 or IPv6 address in its usual text form; nullopt for anything else (names, ports,
  // brackets, zone ids).
  static std::optional<IpAddress> Parse(std::string_view text);
  // The canonical text form (inet_ntop's).
  std::string ToString() const;
  size_t bits() const { return v6 ? 128 : 32; }
};

class AddressRange {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Errors:
  // kInvalidArgument with a message saying what is wrong.
  static Result<AddressRange> Parse(std::string_view text);
  bool Contains(const IpAddress& address) const;

 private:
  IpAddress base_;
  size_t prefix_ = 0;
};

// The key under which the login throttle counts a client address: the address itself for IPv4,
// its /64 network for IPv6 (one host commonly holds a whole /64, so rotating within it must not
// earn fresh guesses). Text that is not an address is returned unchanged.
std::string ThrottleAddress(std::string_view address);

}  // namespace ocireg::internal
