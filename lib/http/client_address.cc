// SPDX-License-Identifier: Apache-2.0
// TrustedProxies: the right-most untrusted X-Forwarded-For entry behind trusted proxies.
#include "http/client_address.h"

#include <optional>

namespace ocireg::internal {
namespace {

std::string_view Trimmed(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// The comma-separated entries of all the fields, right-most first, at most `limit` of them.
std::vector<std::string_view> EntriesFromRight(const std::vector<std::string>& fields,
                                               size_t limit) {
  std::vector<std::string_view> entries;
  for (auto field = fields.rbegin(); field != fields.rend() && entries.size() < limit; ++field) {
    std::string_view rest = *field;
    while (entries.size() < limit) {
      const size_t comma = rest.rfind(',');
      entries.push_back(Trimmed(comma == std::string_view::npos ? rest : rest.substr(comma + 1)));
      if (comma == std::string_view::npos) break;
      rest = rest.substr(0, comma);
    }
  }
  return entries;
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& ranges) {
  for (const std::string& text : ranges) {
    Result<AddressRange> range = AddressRange::Parse(text);
    if (range.ok()) ranges_.push_back(*range);
  }
}

bool TrustedProxies::Contains(const IpAddress& address) const {
  for (const AddressRange& range : ranges_) {
    if (range.Contains(address)) return true;
  }
  return false;
}

std::string TrustedProxies::ClientAddress(std::string_view peer,
                                          const std::vector<std::string>& forwarded_for) const {
  if (ranges_.empty()) return std::string(peer);
  std::optional<IpAddress> hop = IpAddress::Parse(peer);
  if (!hop || !Contains(*hop)) return std::string(peer);
  std::string client(peer);
  for (std::string_view entry : EntriesFromRight(forwarded_for, kMaxHops)) {
    std::optional<IpAddress> address = IpAddress::Parse(entry);
    // Garbage where an address should be: nothing further left can be believed.
    if (!address) break;
    client = address->ToString();
    if (!Contains(*address)) break;
  }
  return client;
}

}  // namespace ocireg::internal
