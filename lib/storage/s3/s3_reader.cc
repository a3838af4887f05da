// SPDX-License-Identifier: Apache-2.0
// S3Reader (s3_reader.h): single reads, or one stream for a reader going on through the object.
#include "storage/s3/s3_reader.h"

#include <algorithm>

namespace ocireg::internal::s3 {

Result<size_t> S3Reader::ReadAt(uint64_t offset, std::span<char> buffer) {
  if (offset >= size_ || buffer.empty()) return size_t{0};
  buffer = buffer.first(static_cast<size_t>(std::min<uint64_t>(buffer.size(), size_ - offset)));
  std::lock_guard lock(mu_);
  const bool continues = offset == next_ && offset != 0;
  if (continues && (stream_ == nullptr || stream_->position() != offset)) {
    stream_ = std::make_unique<ObjectStream>(client_, key_, offset, size_);
  }
  Result<size_t> read = stream_ != nullptr && stream_->position() == offset
                            ? stream_->Read(buffer)
                            : client_.ReadRange(key_, offset, buffer);
  // Fewer bytes than the object had when it was opened: it changed; the caller sees a short read.
  if (read.ok()) next_ = offset + *read;
  return read;
}

}  // namespace ocireg::internal::s3
