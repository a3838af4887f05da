// SPDX-License-Identifier: Apache-2.0
#include "storage/s3/object_stream.h"

#include <algorithm>
#include <cstring>

namespace ocireg::internal::s3 {

ObjectStream::ObjectStream(S3Client& client, std::string key, uint64_t offset, uint64_t end)
    : position_(offset), thread_([this, &client, key = std::move(key), offset, end] {
        Receive(client, key, offset, end);
      }) {}

ObjectStream::~ObjectStream() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void ObjectStream::Receive(S3Client& client, const std::string& key, uint64_t offset,
                           uint64_t end) {
  Status status = client.GetStream(key, offset, end - offset,
                                   [this](std::string_view piece) { return Take(piece); });
  std::lock_guard lock(mu_);
  ended_ = true;
  status_ = std::move(status);
  changed_.notify_all();
}

bool ObjectStream::Take(std::string_view piece) {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return stopping_ || buffered_ < kBufferBytes; });
  if (stopping_) return false;
  pieces_.emplace_back(piece);
  buffered_ += piece.size();
  changed_.notify_all();
  return true;
}

uint64_t ObjectStream::position() const {
  std::lock_guard lock(mu_);
  return position_;
}

Result<size_t> ObjectStream::Read(std::span<char> out) {
  std::unique_lock lock(mu_);
  // Filled whole where the buffer can hold that much: fewer, larger reads for the caller.
  const size_t enough = std::min(out.size(), kBufferBytes);
  changed_.wait(lock, [&] { return buffered_ >= enough || ended_; });
  if (buffered_ == 0) {
    if (!status_.ok()) return status_;
    return size_t{0};
  }
  size_t copied = 0;
  while (copied < out.size() && !pieces_.empty()) {
    const std::string& front = pieces_.front();
    const size_t count = std::min(out.size() - copied, front.size() - front_used_);
    std::memcpy(out.data() + copied, front.data() + front_used_, count);
    copied += count;
    front_used_ += count;
    if (front_used_ == front.size()) {
      pieces_.pop_front();
      front_used_ = 0;
    }
  }
  buffered_ -= copied;
  position_ += copied;
  changed_.notify_all();
  return copied;
}

}  // namespace ocireg::internal::s3
