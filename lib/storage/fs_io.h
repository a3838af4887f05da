// SPDX-License-Identifier: Apache-2.0
// The POSIX plumbing the file system driver is built from: descriptors, EINTR, errno text, tree
// removal, positional reads and the creation of the root.
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "ocireg/status.h"
#include "ocireg/storage/driver.h"

namespace ocireg::internal {

// Both are narrowed by the process umask.
inline constexpr mode_t kFileMode = 0644;
inline constexpr mode_t kDirMode = 0755;

std::string ErrnoText(int err);

// Runs a system call again while a signal interrupts it.
template <typename Call>
auto RetryOnEintr(Call call) {
  decltype(call()) rc;
  do {
    rc = call();
  } while (rc == -1 && errno == EINTR);
  return rc;
}

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }

  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  int Release() { return std::exchange(fd_, -1); }
  // Closes now and reports the error, for files whose last write matters. Not retried on EINTR:
  // Linux frees the descriptor even then.
  int Close();

 private:
  void Reset();

  int fd_ = -1;
};

std::chrono::system_clock::time_point ToTimePoint(const struct timespec& ts);

// Writes all of `data`, looping over short writes. -1 with errno on failure.
int WriteAll(int fd, std::string_view data);

// fsync on a directory descriptor; some file systems cannot and say EINVAL, which is no failure.
int SyncDirFd(int fd);

// Removes `name` below `dir_fd` and, when it is a directory, everything in it; missing is fine.
// `display` names it in messages.
Status RemoveTreeAt(int dir_fd, const std::string& name, const std::string& display);

// Removes what dead writers left in the temp directory `temp_dir` below `root_fd` (entries older
// than an hour; younger ones may belong to another process sharing the root). Best effort.
void RemoveStaleTemps(int root_fd, std::string_view temp_dir, const std::string& display);

// pread over one open file, which may be read concurrently.
class FsReader final : public FileReader {
 public:
  FsReader(Fd fd, uint64_t size, std::string display)
      : fd_(std::move(fd)), size_(size), display_(std::move(display)) {}

  uint64_t size() const override { return size_; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override;
  int file_descriptor() const override { return fd_.get(); }

 private:
  const Fd fd_;
  const uint64_t size_;
  const std::string display_;
};

// mkdir -p for the root itself, which may be absolute or relative to the working directory. Each
// directory made is made durable by an fsync of its parent.
Status MakeRoot(const std::string& root);

}  // namespace ocireg::internal
