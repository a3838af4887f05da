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
  cancel_ = true;
  changed_.notify_all();
  thread_.join();
}

void ObjectStream::Receive(S3Client& client, const std::string& key, uint64_t offset,
                           uint64_t end) {
  Status status = client.GetStream(
      key, offset, end - offset, [this](std::string_view piece) { return Take(piece); }, &cancel_);
  std::lock_guard lock(mu_);
  ended_ = true;
  status_ = std::move(status);
  changed_.notify_all();
}

bool ObjectStream::Take(std::string_view piece) {
  std::unique_lock lock(mu_);
  while (!piece.empty()) {
    changed_.wait(lock, [&] { return stopping_ || buffered_ < ring_.size(); });
    if (stopping_) return false;
    const size_t end = (first_ + buffered_) % ring_.size();
    // Up to the ring's end or the unread bytes, whichever comes first.
    const size_t room = std::min(ring_.size() - buffered_, ring_.size() - end);
    const size_t count = std::min(room, piece.size());
    std::memcpy(ring_.data() + end, piece.data(), count);
    buffered_ += count;
    piece.remove_prefix(count);
    changed_.notify_all();
  }
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
  while (copied < out.size() && copied < buffered_) {
    const size_t start = (first_ + copied) % ring_.size();
    const size_t count = std::min({out.size() - copied, buffered_ - copied, ring_.size() - start});
    std::memcpy(out.data() + copied, ring_.data() + start, count);
    copied += count;
  }
  first_ = (first_ + copied) % ring_.size();
  buffered_ -= copied;
  position_ += copied;
  changed_.notify_all();
  return copied;
}

}  // namespace ocireg::internal::s3
