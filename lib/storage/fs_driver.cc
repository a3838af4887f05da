// SPDX-License-Identifier: Apache-2.0
// NewFsDriver: a StorageDriver over a POSIX directory, crash-safe through temp files, rename and
// fsync.
//
// Every path is resolved against a descriptor of the root (the *at calls), so the driver keeps
// working when the process changes its directory. Files are written under "<root>/.tmp/", a name no
// driver path may use, and renamed into place; the directories whose entries changed are fsynced
// before a call that makes a file visible returns. A blob writer appends to the file at its own
// path, and its commit renames that file into place.
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "storage/fs_io.h"
#include "storage/fs_test_hooks.h"
#include "storage/path.h"

namespace ocireg {
namespace {

using Clock = std::chrono::system_clock;
using internal::ErrnoText;
using internal::Fd;
using internal::FsReader;
using internal::kDirMode;
using internal::kFileMode;
using internal::ParentPath;
using internal::RetryOnEintr;
using internal::SyncDirFd;
using internal::ToTimePoint;
using internal::WriteAll;

// The driver's own directory for files being written. Driver paths never start with it.
constexpr std::string_view kTempDir = ".tmp";
// How often Link makes a name again that was removed as soon as it appeared.
constexpr int kLinkAttempts = 3;
// A committed blob with this many names takes the next commit of the same bytes as a new file
// rather than refusing it: ext4 allows about 65,000 names per file, and Link would fail past them.
// Tests lower it (TEST_SetFsCrowdedLinks).
std::atomic<nlink_t>& CrowdedLinks() {
  static std::atomic<nlink_t> links{60000};
  return links;
}

std::function<void(std::string_view)>& AfterLinkHook() {
  static std::function<void(std::string_view)> hook;
  return hook;
}

// Distinguishes the temp files of one process; with the pid it makes names unique across processes.
std::atomic<uint64_t> temp_counter{0};

class FsBlobWriter;

class FsDriver final : public StorageDriver {
 public:
  FsDriver(std::string root, Fd root_fd) : root_(std::move(root)), root_fd_(std::move(root_fd)) {}

  Result<FileInfo> Stat(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    struct stat st;
    if (::fstatat(root_fd_.get(), std::string(path).c_str(), &st, 0) != 0) {
      return Error("stat", path, errno);
    }
    bool is_directory = S_ISDIR(st.st_mode);
    return FileInfo{is_directory ? 0 : static_cast<uint64_t>(st.st_size), is_directory,
                    ToTimePoint(st.st_mtim)};
  }

  Result<std::vector<std::string>> List(std::string_view path) override {
    if (!path.empty()) OCIREG_RETURN_IF_ERROR(CheckPath(path));
    std::string target = path.empty() ? std::string(".") : std::string(path);
    int fd = RetryOnEintr([&] {
      return ::openat(root_fd_.get(), target.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    });
    if (fd < 0) return Error("open", path, errno);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), &::closedir);
    if (!dir) {
      int err = errno;
      ::close(fd);
      return Error("opendir", path, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* entry = ::readdir(dir.get())) {
      std::string_view name = entry->d_name;
      if (name == "." || name == ".." || (path.empty() && name == kTempDir)) continue;
      names.emplace_back(name);
    }
    if (errno != 0) return Error("readdir", path, errno);
    return names;
  }

  Result<std::string> ReadFile(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    Fd fd(RetryOnEintr(
        [&] { return ::openat(root_fd_.get(), std::string(path).c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return Error("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Error("stat", path, errno);
    // One byte more than the size, so that the usual case ends with one read returning 0.
    std::string content(static_cast<size_t>(std::max<off_t>(st.st_size, 0)) + 1, '\0');
    size_t length = 0;
    while (true) {
      if (length == content.size()) content.resize(content.size() * 2);
      ssize_t n = RetryOnEintr(
          [&] { return ::read(fd.get(), content.data() + length, content.size() - length); });
      if (n < 0) return Error("read", path, errno);
      if (n == 0) break;
      length += static_cast<size_t>(n);
    }
    content.resize(length);
    return content;
  }

  Status WriteFileAtomic(std::string_view path, std::string_view data,
                         Durability durability) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    std::string temp;
    Result<Fd> fd = CreateTemp(temp);
    if (!fd.ok()) return fd.status();
    Status status = FillTemp(std::move(*fd), temp, data, durability);
    if (status.ok()) status = RenameIntoPlace(temp, path, durability);
    if (!status.ok()) {
      ::unlinkat(root_fd_.get(), temp.c_str(), 0);
      return status;
    }
    return SyncDir(ParentPath(path), durability);
  }

  Result<VersionedFile> ReadVersioned(std::string_view path) override {
    std::lock_guard lock(replace_mu_);
    auto version = VersionOf(path);
    OCIREG_RETURN_IF_ERROR(version);
    if (version->empty()) return Error("open", path, ENOENT);
    auto data = ReadFile(path);
    OCIREG_RETURN_IF_ERROR(data);
    return VersionedFile{std::move(*data), std::move(*version)};
  }

  // Compare and swap between the callers of this driver (replace_mu_); processes sharing a root
  // get no such guarantee.
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability durability) override {
    std::lock_guard lock(replace_mu_);
    auto current = VersionOf(path);
    OCIREG_RETURN_IF_ERROR(current);
    if (*current != version) {
      return AlreadyExists(Display(path) + ": changed since it was read");
    }
    OCIREG_RETURN_IF_ERROR(WriteFileAtomic(path, data, durability));
    auto written = VersionOf(path);
    OCIREG_RETURN_IF_ERROR(written);
    return std::move(*written);
  }

  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    Fd fd(RetryOnEintr(
        [&] { return ::openat(root_fd_.get(), std::string(path).c_str(), O_RDONLY | O_CLOEXEC); }));
    if (!fd.valid()) return Error("open", path, errno);
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Error("stat", path, errno);
    if (S_ISDIR(st.st_mode)) return Error("open", path, EISDIR);
    return std::unique_ptr<FileReader>(std::make_unique<FsReader>(
        std::move(fd), static_cast<uint64_t>(st.st_size), Display(path)));
  }

  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(std::string_view path,
                                                     Durability durability) override;

  // Renames the writer's file `from` to `to` unless `to` exists: then `to` keeps its content and
  // gets a fresh time, `from` is removed, and the result is kAlreadyExists. A `to` crowded with
  // names (CrowdedLinks) is replaced instead, so that further links have a file to go to; the
  // names it had keep the old file.
  Status CommitFile(const std::string& from, std::string_view to) {
    OCIREG_RETURN_IF_ERROR(CheckPath(to));
    std::string target(to);
    struct stat st;
    const bool crowded = ::fstatat(root_fd_.get(), target.c_str(), &st, 0) == 0 &&
                         st.st_nlink >= CrowdedLinks().load();
    Status placed = RenameIntoPlace(from, to, Durability::kDurable, !crowded);
    if (IsAlreadyExists(placed)) {
      if (::utimensat(root_fd_.get(), target.c_str(), nullptr, 0) != 0 && errno != ENOENT) {
        return Error("utimensat", to, errno);
      }
      (void)::unlinkat(root_fd_.get(), from.c_str(), 0);
      return placed;
    }
    OCIREG_RETURN_IF_ERROR(placed);
    return SyncDir(ParentPath(to));
  }

  // The root has nothing but files: no leftovers of its own.
  Result<uint64_t> CollectLeftovers(Clock::time_point /*cutoff*/) override { return uint64_t{0}; }

  Status Link(std::string_view from, std::string_view to, Durability durability) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(from));
    OCIREG_RETURN_IF_ERROR(CheckPath(to));
    std::string source(from);
    std::string target(to);
    for (int attempt = 0; attempt < kLinkAttempts; ++attempt) {
      // Garbage collection removes names with an old time. The shared time is set before the new
      // name exists, so the name is born "recently linked": set afterwards, it would leave a
      // moment in which the new name carries the source's old time.
      if (::utimensat(root_fd_.get(), source.c_str(), nullptr, 0) != 0) {
        return Error("utimensat", from, errno);
      }
      Status made = MakeLink(source, target, durability);
      const bool existed = IsAlreadyExists(made);
      if (!made.ok() && !existed) return made;
      if (!existed && AfterLinkHook()) AfterLinkHook()(to);
      // Refreshes an existing `to` (see the contract) and finds a new one that is gone already
      // (garbage collection with no grace period): then the caller has no link, so make it again.
      if (::utimensat(root_fd_.get(), target.c_str(), nullptr, 0) != 0) {
        if (errno != ENOENT) return Error("utimensat", to, errno);
        continue;
      }
      return existed ? made : SyncDir(ParentPath(to), durability);
    }
    return Internal("link " + Display(from) + " to " + Display(to) + ": removed as soon as made, " +
                    std::to_string(kLinkAttempts) + " times");
  }

  // Removals are not fsynced: a removal lost in a crash leaves only garbage that is collected
  // later, never a half-visible file.
  Status Remove(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    if (::unlinkat(root_fd_.get(), std::string(path).c_str(), 0) != 0) {
      return Error("unlink", path, errno);
    }
    return Status::Ok();
  }

  Status RemoveTree(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    std::string name(path);
    struct stat st;
    if (::fstatat(root_fd_.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return errno == ENOENT || errno == ENOTDIR ? Status::Ok() : Error("stat", path, errno);
    }
    return internal::RemoveTreeAt(root_fd_.get(), name, Display(path));
  }

  // Creates and removes a temp file. Writing is the one reliable test: access(2) says yes to root
  // even on a read-only mount.
  Status ProbeWritable() {
    std::string probe;
    Result<Fd> fd = CreateTemp(probe);
    if (!fd.ok()) return fd.status();
    if (::unlinkat(root_fd_.get(), probe.c_str(), 0) != 0) return Error("unlink", probe, errno);
    return Status::Ok();
  }

 private:
  // A file's version: its inode, modification time and size, which every atomic write (a new
  // file renamed into place) changes. Empty when it does not exist.
  Result<std::string> VersionOf(std::string_view path) {
    OCIREG_RETURN_IF_ERROR(CheckPath(path));
    struct stat st;
    if (::fstatat(root_fd_.get(), std::string(path).c_str(), &st, 0) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) return std::string();
      return Error("stat", path, errno);
    }
    if (S_ISDIR(st.st_mode)) return Error("open", path, EISDIR);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
           std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + ":" +
           std::to_string(st.st_size);
  }

  // A name in ".tmp" that no other writer uses, opened for writing. Fills `name`.
  Result<Fd> CreateTemp(std::string& name) {
    static const std::string pid = std::to_string(::getpid());
    for (int attempt = 0; attempt < 100; ++attempt) {
      // The counter alone is not enough: a dead process with our pid may have left its files.
      name = std::string(kTempDir) + "/" + pid + "-" + std::to_string(temp_counter++);
      Fd fd(RetryOnEintr([&] {
        return ::openat(root_fd_.get(), name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                        kFileMode);
      }));
      if (fd.valid()) return fd;
      if (errno == ENOENT) {
        // Someone removed the temp directory; make it again.
        if (::mkdirat(root_fd_.get(), std::string(kTempDir).c_str(), kDirMode) != 0 &&
            errno != EEXIST) {
          return Error("mkdir", kTempDir, errno);
        }
      } else if (errno != EEXIST) {
        return Error("create", name, errno);
      }
    }
    return Internal("create " + Display(kTempDir) + "/...: no unused temp name");
  }

  // linkat(2) of `source` to `target`, creating the parents of `target` when missing.
  // kAlreadyExists when `target` exists.
  Status MakeLink(const std::string& source, const std::string& target, Durability durability) {
    int rc = ::linkat(root_fd_.get(), source.c_str(), root_fd_.get(), target.c_str(), 0);
    if (rc != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      // Either the source is missing or the target's directory is: only the latter is ours to fix.
      struct stat st;
      if (::fstatat(root_fd_.get(), source.c_str(), &st, 0) != 0) {
        return Error("stat", source, errno);
      }
      OCIREG_RETURN_IF_ERROR(MakeDirs(ParentPath(target), durability));
      rc = ::linkat(root_fd_.get(), source.c_str(), root_fd_.get(), target.c_str(), 0);
    }
    if (rc == 0) return Status::Ok();
    if (errno == EEXIST) {
      return AlreadyExists(Display(target) + ": " + ErrnoText(EEXIST));
    }
    return Error("link " + Display(source) + " to", target, errno);
  }

  // The path relative to the process, for messages.
  std::string Display(std::string_view path) const { return root_ + "/" + std::string(path); }

  // kNotFound when `err` says the path or a parent is missing, else kInternal.
  Status Error(const std::string& op, std::string_view path, int err) const {
    if (err == ENOENT || err == ENOTDIR) return NotFound(Display(path) + ": " + ErrnoText(err));
    return Internal(op + " " + Display(path) + ": " + ErrnoText(err));
  }

  // A driver path that is also not in the driver's temp directory.
  Status CheckPath(std::string_view path) const {
    OCIREG_RETURN_IF_ERROR(internal::ValidateDriverPath(path));
    if (path.substr(0, path.find('/')) == kTempDir) {
      return InvalidArgument("invalid storage path \"" + std::string(path) +
                             "\": reserved by the driver");
    }
    return Status::Ok();
  }

  Status FillTemp(Fd fd, const std::string& temp, std::string_view data, Durability durability) {
    if (WriteAll(fd.get(), data) != 0) return Error("write", temp, errno);
    if (durability == Durability::kDurable &&
        RetryOnEintr([&] { return ::fsync(fd.get()); }) != 0) {
      return Error("fsync", temp, errno);
    }
    if (fd.Close() != 0 && errno != EINTR) return Error("close", temp, errno);
    return Status::Ok();
  }

  // Renames `from` (known to exist) over `to`, creating the parents of `to` when missing. With
  // `keep_existing`, an existing `to` stays and the result is kAlreadyExists.
  Status RenameIntoPlace(const std::string& from, std::string_view to,
                         Durability durability = Durability::kDurable, bool keep_existing = false) {
    std::string target(to);
    const unsigned flags = keep_existing ? RENAME_NOREPLACE : 0;
    auto rename = [&] {
      return ::renameat2(root_fd_.get(), from.c_str(), root_fd_.get(), target.c_str(), flags);
    };
    int rc = rename();
    if (rc != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      OCIREG_RETURN_IF_ERROR(MakeDirs(ParentPath(to), durability));
      rc = rename();
    }
    if (rc != 0 && errno == EEXIST && keep_existing) {
      return AlreadyExists(Display(to) + ": " + ErrnoText(EEXIST));
    }
    if (rc != 0) return Error("rename " + Display(from) + " to", to, errno);
    return Status::Ok();
  }

  // mkdir -p for `dir` below the root, safe against concurrent creators. Each directory made is
  // made durable by an fsync of its parent, unless `durability` is kCache.
  Status MakeDirs(std::string_view dir, Durability durability = Durability::kDurable) {
    if (dir.empty()) return Status::Ok();
    std::string name(dir);
    struct stat st;
    if (::fstatat(root_fd_.get(), name.c_str(), &st, 0) == 0) {
      return S_ISDIR(st.st_mode) ? Status::Ok() : Error("mkdir", dir, EEXIST);
    }
    if (errno != ENOENT && errno != ENOTDIR) return Error("stat", dir, errno);
    OCIREG_RETURN_IF_ERROR(MakeDirs(ParentPath(dir), durability));
    if (::mkdirat(root_fd_.get(), name.c_str(), kDirMode) != 0) {
      if (errno != EEXIST) return Error("mkdir", dir, errno);
      if (::fstatat(root_fd_.get(), name.c_str(), &st, 0) != 0) return Error("stat", dir, errno);
      if (!S_ISDIR(st.st_mode)) return Error("mkdir", dir, EEXIST);
      // Another caller made it and may not have fsynced its parent yet; ours must not return
      // before the directory is durable.
    }
    return SyncDir(ParentPath(dir), durability);
  }

  Status SyncDir(std::string_view dir, Durability durability = Durability::kDurable) {
    if (durability == Durability::kCache) return Status::Ok();
    std::string name = dir.empty() ? std::string(".") : std::string(dir);
    Fd fd(RetryOnEintr([&] {
      return ::openat(root_fd_.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }));
    if (!fd.valid()) return Error("open", dir, errno);
    if (SyncDirFd(fd.get()) != 0) return Error("fsync", dir, errno);
    return Status::Ok();
  }

  const std::string root_;
  const Fd root_fd_;
  std::mutex replace_mu_;  // makes ReplaceFile's check and write one step
};

// The bytes of a blob being received: the file at the writer's path, appended to; its commit
// renames the file into place.
class FsBlobWriter final : public BlobWriter {
 public:
  FsBlobWriter(FsDriver& driver, Fd fd, uint64_t size, std::string path, std::string display)
      : driver_(driver),
        fd_(std::move(fd)),
        size_(size),
        path_(std::move(path)),
        display_(std::move(display)) {}

  uint64_t size() const override { return size_; }

  Status Append(std::span<const char> bytes) override {
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    std::string_view rest(bytes.data(), bytes.size());
    while (!rest.empty()) {
      ssize_t n = RetryOnEintr([&] { return ::write(fd_.get(), rest.data(), rest.size()); });
      if (n < 0) return Internal("write " + display_ + ": " + ErrnoText(errno));
      rest.remove_prefix(static_cast<size_t>(n));
      size_ += static_cast<uint64_t>(n);
    }
    StartWriteback();
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    if (size > size_) return InvalidArgument("truncate " + display_ + " past its end");
    if (RetryOnEintr([&] { return ::ftruncate(fd_.get(), static_cast<off_t>(size)); }) != 0) {
      return Internal("truncate " + display_ + ": " + ErrnoText(errno));
    }
    size_ = size;
    written_back_ = std::min(written_back_, size_ - size_ % kWritebackBytes);
    return Status::Ok();
  }

  // The file is the checkpoint: it holds every byte appended, and OpenReader reads them back, so
  // no state is kept beside it.
  Status Checkpoint(std::string_view /*state*/) override { return CheckOpen(); }
  const std::string& state() const override { return no_state_; }

  Result<std::unique_ptr<FileReader>> OpenReader() override {
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    return driver_.OpenReader(path_);
  }

  Status Commit(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    OCIREG_RETURN_IF_ERROR(internal::ValidateDriverPath(path));
    spent_ = true;
    if (RetryOnEintr([&] { return ::fdatasync(fd_.get()); }) != 0) {
      return Internal("fdatasync " + display_ + ": " + ErrnoText(errno));
    }
    return driver_.CommitFile(path_, path);
  }

 private:
  Status CheckOpen() const {
    if (spent_) return InvalidArgument(display_ + ": the blob writer was committed");
    return Status::Ok();
  }

  // Without this, a large blob sits in the page cache until the fdatasync of its commit, and the
  // push then waits for the whole blob to reach the disk. Starting writeback every
  // kWritebackBytes keeps the disk busy while the body is still arriving, so the final fdatasync
  // has little left to do; waiting for the range before the one just started bounds the dirty
  // pages a push holds to two windows. Only a hint: the fdatasync still makes the blob durable.
  void StartWriteback() {
#ifdef __linux__
    while (size_ - written_back_ >= kWritebackBytes) {
      const auto start = static_cast<off_t>(written_back_);
      (void)::sync_file_range(fd_.get(), start, kWritebackBytes, SYNC_FILE_RANGE_WRITE);
      if (written_back_ >= kWritebackBytes) {
        (void)::sync_file_range(
            fd_.get(), start - static_cast<off_t>(kWritebackBytes), kWritebackBytes,
            SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
      }
      written_back_ += kWritebackBytes;
    }
#endif
  }

  static constexpr uint64_t kWritebackBytes = 8 << 20;
  static inline const std::string no_state_;

  FsDriver& driver_;
  const Fd fd_;
  uint64_t size_;
  // Bytes before this offset have had their writeback started (from where this writer began).
  uint64_t written_back_ = size_ - size_ % kWritebackBytes;
  const std::string path_;
  const std::string display_;
  bool spent_ = false;
};

Result<std::unique_ptr<BlobWriter>> FsDriver::OpenBlobWriter(std::string_view path,
                                                             Durability durability) {
  OCIREG_RETURN_IF_ERROR(CheckPath(path));
  std::string target(path);
  bool created = false;
  Fd fd;
  // Exclusive creation first, to learn whether the directory gained an entry that needs an fsync;
  // the loop covers a file created or removed by someone else in between.
  for (int attempt = 0; attempt < 8 && !fd.valid(); ++attempt) {
    fd = Fd(RetryOnEintr([&] {
      return ::openat(root_fd_.get(), target.c_str(),
                      O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, kFileMode);
    }));
    if (fd.valid()) {
      created = true;
    } else if (errno == EEXIST) {
      fd = Fd(RetryOnEintr([&] {
        return ::openat(root_fd_.get(), target.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      }));
      if (!fd.valid() && errno != ENOENT) return Error("open", path, errno);
    } else if (errno == ENOENT || errno == ENOTDIR) {
      OCIREG_RETURN_IF_ERROR(MakeDirs(ParentPath(path), durability));
    } else {
      return Error("open", path, errno);
    }
  }
  if (!fd.valid()) return Internal("open " + Display(path) + ": keeps appearing and vanishing");
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Error("stat", path, errno);
  if (created) OCIREG_RETURN_IF_ERROR(SyncDir(ParentPath(path), durability));
  return std::unique_ptr<BlobWriter>(std::make_unique<FsBlobWriter>(
      *this, std::move(fd), static_cast<uint64_t>(st.st_size), target, Display(path)));
}

}  // namespace

namespace internal {

void TEST_SetFsAfterLinkHook(std::function<void(std::string_view to)> hook) {
  AfterLinkHook() = std::move(hook);
}

void TEST_SetFsCrowdedLinks(uint64_t links) { CrowdedLinks() = static_cast<nlink_t>(links); }

}  // namespace internal

Result<std::unique_ptr<StorageDriver>> NewFsDriver(const std::string& root_path) {
  if (root_path.empty()) return Internal("the storage root is an empty path");
  std::string root = root_path;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  OCIREG_RETURN_IF_ERROR(internal::MakeRoot(root));
  Fd root_fd(
      RetryOnEintr([&] { return ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); }));
  if (!root_fd.valid()) {
    if (errno == ENOTDIR) return Internal("the storage root " + root + " is not a directory");
    return Internal("cannot open the storage root " + root + ": " + ErrnoText(errno));
  }
  if (::mkdirat(root_fd.get(), std::string(kTempDir).c_str(), kDirMode) != 0 && errno != EEXIST) {
    return Internal("the storage root " + root + " is not writable: " + ErrnoText(errno));
  }
  internal::RemoveStaleTemps(root_fd.get(), kTempDir, root + "/" + std::string(kTempDir));
  auto driver = std::make_unique<FsDriver>(root, std::move(root_fd));
  if (Status writable = driver->ProbeWritable(); !writable.ok()) {
    return Internal("the storage root " + root + " is not writable: " + writable.message());
  }
  return std::unique_ptr<StorageDriver>(std::move(driver));
}

}  // namespace ocireg
