// SPDX-License-Identifier: Apache-2.0
// S3Reader: positional reads of one object, in windows fetched ahead of a sequential reader.
#pragma once

#include <future>
#include <mutex>
#include <optional>
#include <string>

#include "ocireg/storage/driver.h"
#include "storage/s3/s3_client.h"

namespace ocireg::internal::s3 {

// Reads the object at `key` as it was when it was found (`size`). A pull reads a blob front to
// back in pieces far smaller than what one GET moves at full speed, and one GET per piece would
// spend most of its time on round trips: so the reader fetches a window of kWindowBytes, serves
// the pieces from it, and fetches the next window on its own thread while the current one is
// served. It so holds at most two windows. A read that does not continue the one before (the first,
// or a range) fetches only what it asks for, at least kFirstBytes.
// ReadAt may be called concurrently (calls are serialised). The client must outlive the reader.
class S3Reader final : public FileReader {
 public:
  static constexpr uint64_t kWindowBytes = 8 << 20;
  static constexpr uint64_t kFirstBytes = 1 << 20;

  S3Reader(S3Client& client, std::string key, uint64_t size)
      : client_(client), key_(std::move(key)), size_(size) {}
  ~S3Reader() override;

  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override;

 private:
  struct Window {
    uint64_t start = 0;
    std::string bytes;
  };
  // Fetches up to `length` bytes at `start` (less at the end).
  Result<Window> Fetch(uint64_t start, uint64_t length) const;
  // Makes window_ hold `offset`: from the window fetched ahead, or `length` bytes fetched now.
  // Requires mu_.
  Status MoveTo(uint64_t offset, uint64_t length);

  S3Client& client_;
  const std::string key_;
  const uint64_t size_;

  std::mutex mu_;
  std::optional<Window> window_;
  std::optional<std::future<Result<Window>>> ahead_;  // the next window, being fetched
  uint64_t ahead_start_ = 0;
  uint64_t next_ = 0;  // where the last read ended: a read there is sequential
};

}  // namespace ocireg::internal::s3
