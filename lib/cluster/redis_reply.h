// SPDX-License-Identifier: Apache-2.0
// RedisReply: one answer of a Redis server as a plain value, copied out of hiredis's reply
// objects so that nothing of hiredis leaks past redis_connection.cc.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

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

}  // namespace ocireg::internal
