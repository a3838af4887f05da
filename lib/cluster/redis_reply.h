// SPDX-License-Identifier: Apache-2.0
// RedisReply: one answer of a Redis server as a plain value, copied out of hiredis's reply
// objects so that nothing of hiredis leaks past redis_reply.cc; RedisReplyReader: hiredis's
// protocol reader, turning the bytes a server sends into RedisReplies.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/status.h"

struct redisReader;  // hiredis

namespace ocireg::internal {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kError, kInteger, kArray };
  Type type = Type::kNil;
  std::string text;  // kString, kStatus, kError
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  bool is_nil() const { return type == Type::kNil; }
  bool is_error() const { return type == Type::kError; }
};

// Not thread-safe. After an error the reader is unusable. A reply whose arrays hold more than
// 65,536 elements in all is an error, whatever its headers announce.
class RedisReplyReader {
 public:
  RedisReplyReader();
  ~RedisReplyReader();
  RedisReplyReader(const RedisReplyReader&) = delete;
  RedisReplyReader& operator=(const RedisReplyReader&) = delete;

  // Adds bytes received from the server.
  void Feed(std::string_view bytes);
  // The next complete reply, or nullopt when more bytes are needed. kUnavailable when the bytes
  // are not the Redis protocol.
  Result<std::optional<RedisReply>> Next();

 private:
  ::redisReader* reader_;
  size_t array_elements_ = 0;  // allocated for the reply being read, against its limit
};

}  // namespace ocireg::internal
