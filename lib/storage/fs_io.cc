// SPDX-License-Identifier: Apache-2.0
// The POSIX plumbing of the file system driver (fs_io.h).
#include "storage/fs_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace ocireg::internal {
namespace {

using Clock = std::chrono::system_clock;

// Temp files older than this belong to a writer that died; younger ones may belong to another
// process sharing the root, mid-write.
constexpr auto kStaleTempAge = std::chrono::hours(1);
// How often RemoveTree rescans a directory that concurrent writers keep filling.
constexpr int kRemoveAttempts = 4;

// strerror_r returns an int (XSI) or a char* (GNU) depending on the C library; both are accepted.
[[maybe_unused]] const char* ErrorText(int rc, const char* buffer) {
  return rc == 0 ? buffer : "unknown error";
}
[[maybe_unused]] const char* ErrorText(const char* text, const char* /*buffer*/) { return text; }

}  // namespace

std::string ErrnoText(int err) {
  char buffer[256] = {};
  return ErrorText(strerror_r(err, buffer, sizeof(buffer)), buffer);
}

int Fd::Close() { return ::close(Release()); }

void Fd::Reset() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Clock::time_point ToTimePoint(const struct timespec& ts) {
  auto since_epoch = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(since_epoch));
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = RetryOnEintr([&] { return ::write(fd, data.data(), data.size()); });
    if (written < 0) return -1;
    data.remove_prefix(static_cast<size_t>(written));
  }
  return 0;
}

int SyncDirFd(int fd) {
  int rc = RetryOnEintr([&] { return ::fsync(fd); });
  return rc < 0 && errno == EINVAL ? 0 : rc;
}

// Removes `name` below `dir_fd` and, when it is a directory, everything in it; missing is fine.
// `display` names it in messages.
Status RemoveTreeAt(int dir_fd, const std::string& name, const std::string& display) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return Status::Ok();
  // Linux says EISDIR for a directory, POSIX EPERM.
  if (errno != EISDIR && errno != EPERM)
    return Internal("unlink " + display + ": " + ErrnoText(errno));
  int fd = RetryOnEintr([&] {
    return ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  });
  if (fd < 0) {
    if (errno == ENOENT) return Status::Ok();
    return Internal("open " + display + ": " + ErrnoText(errno));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    int err = errno;
    ::close(fd);
    return Internal("opendir " + display + ": " + ErrnoText(err));
  }
  for (int attempt = 0; attempt < kRemoveAttempts; ++attempt) {
    std::vector<std::string> children;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir.get())) {
      std::string_view child = entry->d_name;
      if (child != "." && child != "..") children.emplace_back(child);
    }
    if (errno != 0) return Internal("readdir " + display + ": " + ErrnoText(errno));
    for (const std::string& child : children) {
      OCIREG_RETURN_IF_ERROR(RemoveTreeAt(::dirfd(dir.get()), child, display + "/" + child));
    }
    if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return Status::Ok();
    // Someone created an entry meanwhile: scan again.
    if (errno != ENOTEMPTY && errno != EEXIST) break;
    ::rewinddir(dir.get());
  }
  return Internal("rmdir " + display + ": " + ErrnoText(errno));
}

// A temp file that cannot be removed now is tried again at the next start.
void RemoveStaleTemps(int root_fd, std::string_view temp_dir, const std::string& display) {
  int fd = RetryOnEintr([&] {
    return ::openat(root_fd, std::string(temp_dir).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  });
  if (fd < 0) return;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
  if (!dir) {
    ::close(fd);
    return;
  }
  Clock::time_point cutoff = Clock::now() - kStaleTempAge;
  std::vector<std::string> stale;
  while (struct dirent* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::fstatat(::dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (ToTimePoint(st.st_mtim) < cutoff) stale.emplace_back(name);
  }
  for (const std::string& name : stale) {
    (void)RemoveTreeAt(::dirfd(dir.get()), name, display + "/" + name);
  }
}

// pread keeps no file position, so concurrent calls do not disturb each other.
Result<size_t> FsReader::ReadAt(uint64_t offset, std::span<char> buffer) {
  if (offset >= size_) return size_t{0};
  size_t wanted = std::min<uint64_t>(buffer.size(), size_ - offset);
  size_t done = 0;
  while (done < wanted) {
    ssize_t n = RetryOnEintr([&] {
      return ::pread(fd_.get(), buffer.data() + done, wanted - done,
                     static_cast<off_t>(offset + done));
    });
    if (n < 0) return Internal("read " + display_ + ": " + ErrnoText(errno));
    if (n == 0) break;  // truncated behind our back
    done += static_cast<size_t>(n);
  }
  return done;
}

namespace {

// The directory holding `path` of the process's file system: "/" for "/a", "." for "a".
std::string HostParent(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

Status MakeRoot(const std::string& root) {
  for (size_t slash = root.find('/', 1);; slash = root.find('/', slash + 1)) {
    std::string prefix = root.substr(0, slash);
    if (::mkdir(prefix.c_str(), kDirMode) == 0) {
      std::string parent = HostParent(prefix);
      Fd fd(
          RetryOnEintr([&] { return ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
      if (!fd.valid() || SyncDirFd(fd.get()) != 0) {
        return Internal("cannot sync " + parent +
                        " after creating the storage root: " + ErrnoText(errno));
      }
    } else if (errno != EEXIST) {
      return Internal("cannot create the storage root " + root + ": " + ErrnoText(errno));
    }
    if (slash == std::string::npos) return Status::Ok();
  }
}

}  // namespace ocireg::internal
