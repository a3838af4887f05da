// SPDX-License-Identifier: Apache-2.0
#include "cluster/redis_reply.h"

#include <hiredis/hiredis.h>

#include <memory>
#include <new>

namespace ocireg::internal {
namespace {

// The elements of all arrays of one reply, together. hiredis 0.14 allocates an array as soon as
// its header announces it, so without a budget eight bytes ("*99999999") could make it allocate
// gigabytes; nothing this registry asks Redis for comes near the limit.
constexpr size_t kMaxElementsPerReply = 1u << 16;

// Where the value of `task` goes: a new root reply, or its slot in the parent array (sized when
// the parent was made, so slots never move).
RedisReply* Place(const redisReadTask* task) {
  if (task->parent == nullptr) return new RedisReply;
  auto* parent = static_cast<RedisReply*>(task->parent->obj);
  return &parent->elements[static_cast<size_t>(task->idx)];
}

void* CreateString(const redisReadTask* task, char* text, size_t size) {
  RedisReply* reply = Place(task);
  switch (task->type) {
    case REDIS_REPLY_STATUS:
      reply->type = RedisReply::Type::kStatus;
      break;
    case REDIS_REPLY_ERROR:
      reply->type = RedisReply::Type::kError;
      break;
    default:
      reply->type = RedisReply::Type::kString;
  }
  reply->text.assign(text, size);
  return reply;
}

void* CreateArray(const redisReadTask* task, int elements) {
  auto& allocated = *static_cast<size_t*>(task->privdata);  // of this reply's arrays so far
  if (task->parent == nullptr) allocated = 0;
  const auto count = static_cast<size_t>(elements);
  if (count > kMaxElementsPerReply - allocated) return nullptr;  // hiredis reports "OOM"
  allocated += count;
  RedisReply* reply = Place(task);
  reply->type = RedisReply::Type::kArray;
  reply->elements.resize(count);
  return reply;
}

void* CreateInteger(const redisReadTask* task, long long value) {
  RedisReply* reply = Place(task);
  reply->type = RedisReply::Type::kInteger;
  reply->integer = value;
  return reply;
}

void* CreateNil(const redisReadTask* task) {
  RedisReply* reply = Place(task);
  reply->type = RedisReply::Type::kNil;
  return reply;
}

// hiredis frees only roots: children live inside their parent.
void FreeRoot(void* reply) { delete static_cast<RedisReply*>(reply); }

redisReplyObjectFunctions kReplyFunctions = {CreateString, CreateArray, CreateInteger, CreateNil,
                                             FreeRoot};

}  // namespace

RedisReplyReader::RedisReplyReader() : reader_(redisReaderCreateWithFunctions(&kReplyFunctions)) {
  if (reader_ == nullptr) throw std::bad_alloc();
  reader_->privdata = &array_elements_;
}

RedisReplyReader::~RedisReplyReader() { redisReaderFree(reader_); }

void RedisReplyReader::Feed(std::string_view bytes) {
  redisReaderFeed(reader_, bytes.data(), bytes.size());
}

Result<std::optional<RedisReply>> RedisReplyReader::Next() {
  void* parsed = nullptr;
  if (redisReaderGetReply(reader_, &parsed) != REDIS_OK) {
    return Unavailable(std::string("bad reply: ") + reader_->errstr);
  }
  if (parsed == nullptr) return std::optional<RedisReply>();
  std::unique_ptr<RedisReply> reply(static_cast<RedisReply*>(parsed));
  return std::optional<RedisReply>(std::move(*reply));
}

}  // namespace ocireg::internal
