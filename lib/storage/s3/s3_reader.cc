// SPDX-License-Identifier: Apache-2.0
// S3Reader (s3_reader.h): windows of an object, one fetched ahead.
#include "storage/s3/s3_reader.h"

#include <algorithm>
#include <cstring>

namespace ocireg::internal::s3 {

S3Reader::~S3Reader() {
  // A fetch ahead uses this reader's client and key: it must end first.
  if (ahead_ && ahead_->valid()) ahead_->wait();
}

Result<S3Reader::Window> S3Reader::Fetch(uint64_t start, uint64_t length) const {
  Window window{start, std::string(std::min(length, size_ - start), '\0')};
  auto got = client_.ReadRange(key_, start, window.bytes);
  OCIREG_RETURN_IF_ERROR(got);
  // Fewer bytes than the object had when it was opened: it changed; the caller sees a short read.
  window.bytes.resize(*got);
  return window;
}

Status S3Reader::MoveTo(uint64_t offset, uint64_t length) {
  if (ahead_ && offset >= ahead_start_ && offset < ahead_start_ + kWindowBytes) {
    auto fetched = ahead_->get();
    ahead_.reset();
    OCIREG_RETURN_IF_ERROR(fetched);
    window_ = std::move(*fetched);
    if (offset < window_->start + window_->bytes.size()) return Status::Ok();
  }
  auto fetched = Fetch(offset, length);
  OCIREG_RETURN_IF_ERROR(fetched);
  window_ = std::move(*fetched);
  return Status::Ok();
}

Result<size_t> S3Reader::ReadAt(uint64_t offset, std::span<char> buffer) {
  if (offset >= size_ || buffer.empty()) return size_t{0};
  std::lock_guard lock(mu_);
  const bool sequential = offset == next_ && offset != 0;
  if (!window_ || offset < window_->start || offset >= window_->start + window_->bytes.size()) {
    const uint64_t length =
        sequential ? kWindowBytes : std::max<uint64_t>(buffer.size(), kFirstBytes);
    OCIREG_RETURN_IF_ERROR(MoveTo(offset, length));
  }
  const size_t skip = offset - window_->start;
  const size_t count = std::min(buffer.size(), window_->bytes.size() - skip);
  std::memcpy(buffer.data(), window_->bytes.data() + skip, count);
  next_ = offset + count;
  // A reader moving on through the object has the next window fetched meanwhile.
  const uint64_t ahead = window_->start + window_->bytes.size();
  if (sequential && !ahead_ && ahead < size_) {
    ahead_start_ = ahead;
    ahead_ = std::async(std::launch::async, [this, ahead] { return Fetch(ahead, kWindowBytes); });
  }
  return count;
}

}  // namespace ocireg::internal::s3
