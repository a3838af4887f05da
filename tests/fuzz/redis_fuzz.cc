// SPDX-License-Identifier: Apache-2.0
// Fuzzes what ocireg reads from or about a Redis server: its replies (hiredis's protocol reader
// and the copy into RedisReply), fed in pieces as a socket would deliver them, and redis_url.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/redis_reply.h"
#include "cluster/redis_url.h"
#include "fuzz_check.h"

namespace {

// Replies nested deeper than hiredis allows are refused; a reply it accepted must be sane.
void CheckReply(const ocireg::internal::RedisReply& reply, std::string_view input, int depth) {
  using Type = ocireg::internal::RedisReply::Type;
  FUZZ_CHECK(depth < 16, input);
  if (reply.type != Type::kArray) FUZZ_CHECK(reply.elements.empty(), input);
  for (const auto& element : reply.elements) CheckReply(element, input, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // The first byte chooses where the bytes are cut, as reads of a socket would cut them.
  const size_t piece = size == 0 ? 1 : 1 + data[0] % 64;
  ocireg::internal::RedisReplyReader reader;
  for (size_t at = 0; at < input.size(); at += piece) {
    reader.Feed(input.substr(at, piece));
    while (true) {
      auto reply = reader.Next();
      if (!reply.ok()) return 0;  // not the protocol: the connection would be dropped
      if (!reply->has_value()) break;
      CheckReply(**reply, input, 0);
    }
  }

  if (auto address = ocireg::internal::ParseRedisUrl(input); address.ok()) {
    FUZZ_CHECK(!address->host.empty() && address->port != 0, input);
    // What ToString prints parses back to the same address.
    auto again = ocireg::internal::ParseRedisUrl(address->ToString());
    FUZZ_CHECK(again.ok() && again->host == address->host && again->port == address->port &&
                   again->database == address->database && again->tls == address->tls,
               address->ToString());
  }
  return 0;
}
