// SPDX-License-Identifier: Apache-2.0
// Tests of AddressRange, ThrottleAddress and TrustedProxies: CIDR matching and the client behind
// trusted proxies' X-Forwarded-For.
#include "http/client_address.h"

#include <string>
#include <vector>

#include "address_range.h"
#include "catch.h"
#include "status_macros.h"

namespace {

using ocireg::internal::AddressRange;
using ocireg::internal::IpAddress;
using ocireg::internal::ThrottleAddress;
using ocireg::internal::TrustedProxies;

bool InRange(const std::string& range, const std::string& address) {
  auto parsed = AddressRange::Parse(range);
  REQUIRE_OK(parsed);
  auto ip = IpAddress::Parse(address);
  REQUIRE(ip);
  return parsed->Contains(*ip);
}

}  // namespace

TEST_CASE("address ranges: CIDR and bare addresses", "[client_address]") {
  CHECK(InRange("10.0.0.0/8", "10.200.3.4"));
  CHECK_FALSE(InRange("10.0.0.0/8", "11.0.0.1"));
  CHECK(InRange("192.0.2.128/25", "192.0.2.200"));
  CHECK_FALSE(InRange("192.0.2.128/25", "192.0.2.127"));
  CHECK(InRange("127.0.0.1", "127.0.0.1"));
  CHECK_FALSE(InRange("127.0.0.1", "127.0.0.2"));
  CHECK(InRange("0.0.0.0/0", "203.0.113.9"));
  CHECK(InRange("2001:db8::/32", "2001:db8:ffff::1"));
  CHECK_FALSE(InRange("2001:db8::/32", "2001:db9::1"));
  CHECK(InRange("10.0.0.0/8", "::ffff:10.1.2.3"));  // IPv4-mapped is IPv4
  CHECK_FALSE(InRange("::/0", "10.1.2.3"));
  for (const char* bad : {"", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/8x", "host", "10.0.0",
                          "[::1]", "10.0.0.1:80", "10.0.0.0/-1"}) {
    INFO(bad);
    CHECK_FALSE(AddressRange::Parse(bad).ok());
  }
}

TEST_CASE("throttle addresses: IPv4 as is, IPv6 by its /64", "[client_address]") {
  CHECK(ThrottleAddress("192.0.2.1") == "192.0.2.1");
  CHECK(ThrottleAddress("::ffff:192.0.2.1") == "192.0.2.1");
  CHECK(ThrottleAddress("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64");
  CHECK(ThrottleAddress("2001:db8:1:2:bbbb::7") == "2001:db8:1:2::/64");
  CHECK(ThrottleAddress("not-an-address") == "not-an-address");
}

TEST_CASE("trusted proxies: the right-most untrusted X-Forwarded-For entry", "[client_address]") {
  const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8"});
  SECTION("a peer that is not a trusted proxy is the client, whatever it claims") {
    CHECK(proxies.ClientAddress("192.0.2.1", {"198.51.100.7"}) == "192.0.2.1");
  }
  SECTION("behind one proxy") {
    CHECK(proxies.ClientAddress("127.0.0.1", {"198.51.100.7"}) == "198.51.100.7");
  }
  SECTION("entries a client wrote to the left are ignored") {
    CHECK(proxies.ClientAddress("127.0.0.1", {"1.1.1.1, 198.51.100.7"}) == "198.51.100.7");
    CHECK(proxies.ClientAddress("127.0.0.1", {"1.1.1.1", "198.51.100.7"}) == "198.51.100.7");
  }
  SECTION("through a chain of trusted proxies") {
    CHECK(proxies.ClientAddress("127.0.0.1", {"198.51.100.7, 10.1.1.1", "10.2.2.2"}) ==
          "198.51.100.7");
  }
  SECTION("garbage stops the walk at the last trusted hop") {
    CHECK(proxies.ClientAddress("127.0.0.1", {"unknown"}) == "127.0.0.1");
    CHECK(proxies.ClientAddress("127.0.0.1", {"198.51.100.7, junk, 10.1.1.1"}) == "10.1.1.1");
  }
  SECTION("no header: the proxy itself") {
    CHECK(proxies.ClientAddress("127.0.0.1", {}) == "127.0.0.1");
  }
  SECTION("spaces around entries; canonical form") {
    CHECK(proxies.ClientAddress("127.0.0.1", {" 2001:DB8::1 "}) == "2001:db8::1");
  }
  SECTION("no trusted proxies: the peer") {
    CHECK(TrustedProxies({}).ClientAddress("127.0.0.1", {"198.51.100.7"}) == "127.0.0.1");
  }
}
