// SPDX-License-Identifier: Apache-2.0
// MappedFile: a blob's file mapped into memory one window at a time, so that a plain pull hands
// its bytes to send(2) without reading them into a buffer first.
//
// Why: a pull through a buffer copies every byte twice in the server (pread into the buffer,
// send out of it); from a mapping the kernel copies it once, from the page cache to the socket.
// Over loopback that took a 1 GiB pull from about 2.5 to about 4 GB/s, at two thirds of the
// server's CPU per GiB.
//
// Why the bytes may only be given to the kernel: a process that reads a mapped page past the end
// of a file that was cut short while mapped gets SIGBUS, which would end the server; send(2)
// reading the same page fails with EFAULT instead, and the response fails like a short read.
// So nothing in this process may read them: no hashing, no TLS (which encrypts in user space).
//
// Windows of kWindowBytes bound how much of a pull is mapped, and so resident in the server's
// address space, whatever the blob's size.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "ocireg/storage/driver.h"

namespace ocireg::internal {

class MappedFile {
 public:
  static constexpr size_t kWindowBytes = 8 << 20;

  // Maps `reader`'s file_descriptor(), which must be >= 0; keeps the reader open while it lives.
  explicit MappedFile(std::unique_ptr<FileReader> reader);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  uint64_t size() const { return size_; }

  // Up to `max` bytes from `offset`, all within one window (mapped now when `offset` is outside
  // the current one). Empty at or past size(), or when the window cannot be mapped. For the
  // kernel's eyes only (see above).
  std::span<const char> At(uint64_t offset, size_t max);

 private:
  bool MapWindowAt(uint64_t offset);
  void Unmap();

  const std::unique_ptr<FileReader> reader_;
  const uint64_t size_;
  char* window_ = nullptr;
  uint64_t window_offset_ = 0;  // the file offset of window_[0]
  size_t window_size_ = 0;
};

}  // namespace ocireg::internal
