// SPDX-License-Identifier: Apache-2.0
// S3Reader: positional reads of one object; reads that go on through it come from one GET.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "ocireg/storage/driver.h"
#include "storage/s3/object_stream.h"
#include "storage/s3/s3_client.h"

namespace ocireg::internal::s3 {

// Reads the object at `key` as it was when it was found (`size`). A read that continues the one
// before it (a pull, front to back) is served by an ObjectStream from there to the end, started
// at the first such read; any other read (the first, or a range) fetches just what it asks for.
// A pull so costs two GETs, whatever the blob's size, and holds at most the stream's buffer.
// ReadAt may be called concurrently (calls are serialised). The client must outlive the reader.
class S3Reader final : public FileReader {
 public:
  S3Reader(S3Client& client, std::string key, uint64_t size)
      : client_(client), key_(std::move(key)), size_(size) {}

  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override;

 private:
  S3Client& client_;
  const std::string key_;
  const uint64_t size_;

  std::mutex mu_;
  std::unique_ptr<ObjectStream> stream_;  // null until a read continues the one before
  uint64_t next_ = 0;                     // where the last read ended
};

}  // namespace ocireg::internal::s3
