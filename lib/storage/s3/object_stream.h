// SPDX-License-Identifier: Apache-2.0
// ObjectStream: one GET of an object from an offset to its end, received on a thread of its own
// into a bounded buffer that one reader drains in order.
//
// Why: a pull reads a blob front to back, and one GET for the whole of it moves at the gateway's
// full speed, while a GET per window pays a round trip and the gateway's first-byte time each
// (distribution's driver also streams). The buffer bounds memory: when it is full the receiving
// thread waits, and TCP flow control holds the gateway. A reader that stays away longer than the
// client's idle timeout costs a new GET, which S3Client::GetStream resumes where it stopped.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ocireg/status.h"
#include "storage/s3/s3_client.h"

namespace ocireg::internal::s3 {

class ObjectStream {
 public:
  // The most the buffer holds.
  static constexpr size_t kBufferBytes = 4 << 20;

  // Starts the GET of `key` from `offset` up to `end` (exclusive). The client must outlive the
  // stream.
  ObjectStream(S3Client& client, std::string key, uint64_t offset, uint64_t end);
  // Stops the GET (the connection is dropped if bytes were still coming) and waits for its thread.
  ~ObjectStream();
  ObjectStream(const ObjectStream&) = delete;
  ObjectStream& operator=(const ObjectStream&) = delete;

  // The offset of the next byte Read returns.
  uint64_t position() const;
  // Copies the next bytes into `out`, waiting until they fill it (or the buffer, if smaller) or
  // the stream ends; 0 once it has ended. The GET's error, after its retries, if it failed.
  Result<size_t> Read(std::span<char> out);

 private:
  // Runs on thread_: the GET, handing pieces to Take.
  void Receive(S3Client& client, const std::string& key, uint64_t offset, uint64_t end);
  // Copies `piece` into the ring as room frees up; false once the reader has gone.
  bool Take(std::string_view piece);

  mutable std::mutex mu_;
  std::condition_variable changed_;
  // A ring: the bytes received and not yet read start at ring_[first_] and may wrap around. One
  // allocation for the stream's life, not one per piece curl hands over.
  std::vector<char> ring_ = std::vector<char>(kBufferBytes);
  size_t first_ = 0;
  size_t buffered_ = 0;
  uint64_t position_ = 0;  // offset of the next byte to read
  bool ended_ = false;     // the GET is over (see status_)
  bool stopping_ = false;  // the reader has gone
  // Set with stopping_: stops the GET also while it waits for bytes from a gateway that sends
  // none, so that the reader's going is not held up until the idle timeout.
  std::atomic<bool> cancel_{false};
  Status status_;
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace ocireg::internal::s3
