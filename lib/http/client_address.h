// SPDX-License-Identifier: Apache-2.0
// ClientAddress: who the client is when it comes through trusted reverse proxies.
//
// A proxy appends the address it received a request from to X-Forwarded-For, so the header's
// right-most entries are written by the proxies in front of us and anything to their left by the
// client, who may write anything. For a request from a trusted proxy the client is therefore the
// right-most entry that is not itself a trusted proxy; entries left of it are never believed. A
// request from any other peer is its socket address, whatever its headers say.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "address_range.h"

namespace ocireg::internal {

class TrustedProxies {
 public:
  // The ranges of auth.trusted_proxies; entries that do not parse are skipped (ParseConfig
  // refuses them, so only a hand-built Config can hold them).
  explicit TrustedProxies(const std::vector<std::string>& ranges);

  bool empty() const { return ranges_.empty(); }
  bool Contains(const IpAddress& address) const;

  // The client of a request from `peer` that carries the X-Forwarded-For field values
  // `forwarded_for` (in header order). The peer itself unless it is trusted. Walking leftwards,
  // an entry that is not an address stops the walk at the last trusted hop, and at most
  // kMaxHops entries are looked at.
  std::string ClientAddress(std::string_view peer,
                            const std::vector<std::string>& forwarded_for) const;

  static constexpr size_t kMaxHops = 32;

 private:
  std::vector<AddressRange> ranges_;
};

}  // namespace ocireg::internal
