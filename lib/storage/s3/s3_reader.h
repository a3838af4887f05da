// SPDX-License-Identifier: Apache-2.0
// S3Reader: positional reads of one object with ranged GETs.
#pragma once

#include <string>

#include "ocireg/storage/driver.h"
#include "storage/s3/s3_client.h"

namespace ocireg::internal::s3 {

// Reads the object at `key` as it was when it was found (`size`). Each ReadAt is one ranged GET
// straight into the caller's buffer, so concurrent reads need no lock. The client must outlive
// the reader.
class S3Reader final : public FileReader {
 public:
  S3Reader(S3Client& client, std::string key, uint64_t size)
      : client_(client), key_(std::move(key)), size_(size) {}

  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
    if (offset >= size_ || buffer.empty()) return size_t{0};
    return client_.ReadRange(key_, offset, buffer.first(std::min<uint64_t>(buffer.size(),
                                                                            size_ - offset)));
  }

 private:
  S3Client& client_;
  const std::string key_;
  const uint64_t size_;
};

}  // namespace ocireg::internal::s3
