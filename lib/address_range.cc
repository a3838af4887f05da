// SPDX-License-Identifier: Apache-2.0
// IpAddress and AddressRange: parsing with inet_pton, prefix comparison bit by bit.
#include "address_range.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ocireg::internal {
namespace {

constexpr std::array<uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Whether the first `bits` bits of `a` and `b` are equal.
bool SamePrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, size_t bits) {
  const size_t whole = bits / 8;
  if (std::memcmp(a.data(), b.data(), whole) != 0) return false;
  if (bits % 8 == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a terminated string; no address is longer than this.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  const std::string terminated(text);
  IpAddress address;
  if (::inet_pton(AF_INET, terminated.c_str(), address.bytes.data()) == 1) return address;
  if (::inet_pton(AF_INET6, terminated.c_str(), address.bytes.data()) != 1) return std::nullopt;
  if (std::memcmp(address.bytes.data(), kMappedPrefix.data(), kMappedPrefix.size()) == 0) {
    std::memmove(address.bytes.data(), address.bytes.data() + 12, 4);
    std::memset(address.bytes.data() + 4, 0, 12);
    return address;
  }
  address.v6 = true;
  return address;
}

std::string IpAddress::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), text, sizeof(text));
  return text;
}

Result<AddressRange> AddressRange::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  std::optional<IpAddress> base = IpAddress::Parse(text.substr(0, slash));
  if (!base) return InvalidArgument("not an IPv4 or IPv6 address");
  AddressRange range;
  range.base_ = *base;
  range.prefix_ = base->bits();
  if (slash != std::string_view::npos) {
    const std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), range.prefix_);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        range.prefix_ > base->bits()) {
      return InvalidArgument("the prefix length after / must be 0 to " +
                             std::to_string(base->bits()));
    }
  }
  return range;
}

bool AddressRange::Contains(const IpAddress& address) const {
  return address.v6 == base_.v6 && SamePrefix(address.bytes, base_.bytes, prefix_);
}

std::string ThrottleAddress(std::string_view address) {
  std::optional<IpAddress> parsed = IpAddress::Parse(address);
  if (!parsed) return std::string(address);
  if (!parsed->v6) return parsed->ToString();
  std::memset(parsed->bytes.data() + 8, 0, 8);
  return parsed->ToString() + "/64";
}

}  // namespace ocireg::internal
