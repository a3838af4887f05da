// SPDX-License-Identifier: Apache-2.0
// MappedFile: a blob's file mapped one window at a time for send(2) (see mapped_file.h).
#include "http/mapped_file.h"

#include <sys/mman.h>

#include <algorithm>
#include <utility>

namespace ocireg::internal {

MappedFile::MappedFile(std::unique_ptr<FileReader> reader)
    : reader_(std::move(reader)), size_(reader_->size()) {}

MappedFile::~MappedFile() { Unmap(); }

std::span<const char> MappedFile::At(uint64_t offset, size_t max) {
  if (offset >= size_ || max == 0) return {};
  const bool inside =
      window_ != nullptr && offset >= window_offset_ && offset < window_offset_ + window_size_;
  if (!inside && !MapWindowAt(offset)) return {};
  const uint64_t skip = offset - window_offset_;
  return {window_ + skip, static_cast<size_t>(std::min<uint64_t>(max, window_size_ - skip))};
}

bool MappedFile::MapWindowAt(uint64_t offset) {
  Unmap();
  // Windows start at multiples of their size, which are multiples of the page size, as mmap
  // wants its offsets.
  const uint64_t start = offset - offset % kWindowBytes;
  const size_t size = static_cast<size_t>(std::min<uint64_t>(kWindowBytes, size_ - start));
  void* window = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, reader_->file_descriptor(),
                        static_cast<off_t>(start));
  if (window == MAP_FAILED) return false;
  // Read ahead of the socket when the pages are not cached yet; advice only.
  ::madvise(window, size, MADV_SEQUENTIAL);
  window_ = static_cast<char*>(window);
  window_offset_ = start;
  window_size_ = size;
  return true;
}

void MappedFile::Unmap() {
  if (window_ == nullptr) return;
  ::munmap(window_, window_size_);
  window_ = nullptr;
  window_size_ = 0;
}

}  // namespace ocireg::internal
