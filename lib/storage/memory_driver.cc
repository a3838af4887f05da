// SPDX-License-Identifier: Apache-2.0
// NewMemoryDriver: a StorageDriver that keeps files and directories in maps, for tests and
// embedding.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ocireg/status.h"
#include "ocireg/storage/driver.h"
#include "storage/path.h"

namespace ocireg {
namespace {

using Clock = std::chrono::system_clock;
using internal::ParentPath;
using internal::ValidateDriverPath;

// One file's content and time, shared by every name linked to it, like an inode: a Link refreshes
// the time seen through both names, exactly as with the hard links of the file system driver.
struct Inode {
  // Never changed while a reader holds it (use_count() > 1): a blob writer's append then copies it
  // first, so a reader keeps the bytes it opened without taking any lock.
  std::shared_ptr<std::string> data;
  Clock::time_point modified;
  // Its version for ReadVersioned: unique to this inode, which every write replaces.
  uint64_t serial = NextSerial();

  static uint64_t NextSerial() {
    static std::atomic<uint64_t> next{1};
    return next++;
  }
};

// Everything the driver keeps, shared with the blob writers it hands out so that they stay valid
// on their own. Directories are explicit, as on a file system: they are created as parents of files
// and remain, empty, when their files are removed, until RemoveTree. The root is implicit.
struct State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> files;
  std::map<std::string, Clock::time_point, std::less<>> dirs;  // directory -> last entry change
  // The last checkpoint of the blob writer at a path: its size and the caller's state. Kept, as
  // an object store keeps it, so that the store's resumption from a state is tested in memory too.
  std::map<std::string, std::pair<uint64_t, std::string>, std::less<>> checkpoints;
};

bool HasPrefix(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// Records that an entry of `path`'s parent directory changed, as a file system does. Needs mu.
void TouchParent(State& state, std::string_view path, Clock::time_point now) {
  auto dir = state.dirs.find(ParentPath(path));
  if (dir != state.dirs.end()) dir->second = now;
}

// Creates the missing ancestors of `path`. kInternal when one of them is a file. Needs mu.
Status MakeParents(State& state, std::string_view path, Clock::time_point now) {
  std::string_view parent = ParentPath(path);
  if (parent.empty() || state.dirs.contains(parent)) return Status::Ok();
  if (state.files.contains(parent)) return Internal(std::string(parent) + ": Not a directory");
  OCIREG_RETURN_IF_ERROR(MakeParents(state, parent, now));
  state.dirs.emplace(std::string(parent), now);
  TouchParent(state, parent, now);
  return Status::Ok();
}

// Reads a snapshot of the content; later appends or replacements never reach it.
class MemoryReader final : public FileReader {
 public:
  explicit MemoryReader(std::shared_ptr<const std::string> data) : data_(std::move(data)) {}

  uint64_t size() const override { return data_->size(); }

  Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) override {
    if (offset >= data_->size()) return size_t{0};
    size_t count = std::min<uint64_t>(buffer.size(), data_->size() - offset);
    std::memcpy(buffer.data(), data_->data() + offset, count);
    return count;
  }

 private:
  const std::shared_ptr<const std::string> data_;
};

// The bytes of a blob being received: the file at the writer's path, like the file system's.
class MemoryBlobWriter final : public BlobWriter {
 public:
  MemoryBlobWriter(std::shared_ptr<State> state, std::shared_ptr<Inode> inode, std::string path,
                   std::string resumed)
      : state_(std::move(state)),
        inode_(std::move(inode)),
        path_(std::move(path)),
        resumed_(std::move(resumed)) {}

  uint64_t size() const override {
    std::lock_guard lock(state_->mu);
    return inode_->data->size();
  }

  Status Append(std::span<const char> bytes) override {
    std::lock_guard lock(state_->mu);
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    Own();
    inode_->data->append(bytes.data(), bytes.size());
    inode_->modified = Clock::now();
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard lock(state_->mu);
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    if (size > inode_->data->size()) {
      return InvalidArgument("truncate past the end of the file");
    }
    Own();
    inode_->data->resize(size);
    inode_->modified = Clock::now();
    return Status::Ok();
  }

  Status Checkpoint(std::string_view state) override {
    std::lock_guard lock(state_->mu);
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    state_->checkpoints.insert_or_assign(path_,
                                         std::pair(inode_->data->size(), std::string(state)));
    return Status::Ok();
  }

  const std::string& state() const override { return resumed_; }

  Result<std::unique_ptr<FileReader>> OpenReader() override {
    std::lock_guard lock(state_->mu);
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    return std::unique_ptr<FileReader>(std::make_unique<MemoryReader>(inode_->data));
  }

  Status Commit(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    OCIREG_RETURN_IF_ERROR(CheckOpen());
    spent_ = true;
    state_->checkpoints.erase(path_);
    Clock::time_point now = Clock::now();
    auto own = state_->files.find(path_);
    if (own != state_->files.end() && own->second == inode_) {
      state_->files.erase(own);
      TouchParent(*state_, path_, now);
    }
    if (auto existing = state_->files.find(path); existing != state_->files.end()) {
      existing->second->modified = now;
      return AlreadyExists(std::string(path) + ": File exists");
    }
    if (state_->dirs.contains(path)) return Internal(std::string(path) + ": Is a directory");
    OCIREG_RETURN_IF_ERROR(MakeParents(*state_, path, now));
    inode_->modified = now;
    state_->files.emplace(std::string(path), inode_);
    TouchParent(*state_, path, now);
    return Status::Ok();
  }

 private:
  Status CheckOpen() const {
    if (spent_) return InvalidArgument(path_ + ": the blob writer was committed");
    return Status::Ok();
  }

  // Copies the bytes before a change when a reader holds them. Needs mu.
  void Own() {
    if (inode_->data.use_count() > 1) {
      inode_->data = std::make_shared<std::string>(*inode_->data);
    }
  }

  const std::shared_ptr<State> state_;
  const std::shared_ptr<Inode> inode_;
  const std::string path_;
  const std::string resumed_;
  bool spent_ = false;
};

class MemoryDriver final : public StorageDriver {
 public:
  Result<FileInfo> Stat(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    if (auto file = state_->files.find(path); file != state_->files.end()) {
      return FileInfo{file->second->data->size(), false, file->second->modified};
    }
    if (auto dir = state_->dirs.find(path); dir != state_->dirs.end()) {
      return FileInfo{0, true, dir->second};
    }
    return NotFound(std::string(path) + ": No such file or directory");
  }

  Result<std::vector<std::string>> List(std::string_view path) override {
    if (!path.empty()) OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    if (!path.empty() && !state_->dirs.contains(path))
      return NotFound(std::string(path) + ": No such file or directory");
    std::string prefix = path.empty() ? std::string() : std::string(path) + "/";
    std::vector<std::string> names;
    AddChildren(state_->files, prefix, names);
    AddChildren(state_->dirs, prefix, names);
    return names;
  }

  Result<std::string> ReadFile(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::shared_ptr<const std::string> data;
    {
      std::lock_guard lock(state_->mu);
      auto file = state_->files.find(path);
      if (file == state_->files.end()) return MissingFileError(path);
      data = file->second->data;  // held, so appends copy instead of changing it under us
    }
    return std::string(*data);
  }

  Status WriteFileAtomic(std::string_view path, std::string_view data, Durability) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    // Copied before locking: other callers need not wait for a large copy.
    auto inode = std::make_shared<Inode>(Inode{std::make_shared<std::string>(data), {}});
    std::lock_guard lock(state_->mu);
    if (state_->dirs.contains(path)) return Internal(std::string(path) + ": Is a directory");
    Clock::time_point now = Clock::now();
    OCIREG_RETURN_IF_ERROR(MakeParents(*state_, path, now));
    inode->modified = now;
    state_->files.insert_or_assign(std::string(path), std::move(inode));
    TouchParent(*state_, path, now);
    return Status::Ok();
  }

  Result<VersionedFile> ReadVersioned(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(path);
    if (file == state_->files.end()) return MissingFileError(path);
    return VersionedFile{*file->second->data, std::to_string(file->second->serial)};
  }

  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    auto inode = std::make_shared<Inode>(Inode{std::make_shared<std::string>(data), {}});
    std::lock_guard lock(state_->mu);
    if (state_->dirs.contains(path)) return Internal(std::string(path) + ": Is a directory");
    auto file = state_->files.find(path);
    const std::string current =
        file == state_->files.end() ? std::string() : std::to_string(file->second->serial);
    if (current != version) return AlreadyExists(std::string(path) + ": changed since it was read");
    Clock::time_point now = Clock::now();
    OCIREG_RETURN_IF_ERROR(MakeParents(*state_, path, now));
    inode->modified = now;
    std::string written = std::to_string(inode->serial);
    state_->files.insert_or_assign(std::string(path), std::move(inode));
    TouchParent(*state_, path, now);
    return written;
  }

  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(path);
    if (file == state_->files.end()) return MissingFileError(path);
    return std::unique_ptr<FileReader>(std::make_unique<MemoryReader>(file->second->data));
  }

  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(std::string_view path, Durability) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    if (state_->dirs.contains(path)) return Internal(std::string(path) + ": Is a directory");
    auto file = state_->files.find(path);
    if (file == state_->files.end()) {
      Clock::time_point now = Clock::now();
      OCIREG_RETURN_IF_ERROR(MakeParents(*state_, path, now));
      auto inode = std::make_shared<Inode>(Inode{std::make_shared<std::string>(), now});
      file = state_->files.emplace(std::string(path), std::move(inode)).first;
      TouchParent(*state_, path, now);
    }
    std::string resumed;
    if (auto checkpoint = state_->checkpoints.find(path); checkpoint != state_->checkpoints.end()) {
      if (checkpoint->second.first == file->second->data->size())
        resumed = checkpoint->second.second;
    }
    return std::unique_ptr<BlobWriter>(std::make_unique<MemoryBlobWriter>(
        state_, file->second, std::string(path), std::move(resumed)));
  }

  Status Link(std::string_view from, std::string_view to, Durability) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(from));
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(to));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(from);
    if (file == state_->files.end()) return MissingFileError(from);
    if (auto existing = state_->files.find(to); existing != state_->files.end()) {
      existing->second->modified = Clock::now();  // see the contract: the caller relies on it
      return AlreadyExists(std::string(to) + ": File exists");
    }
    if (state_->dirs.contains(to)) {
      return AlreadyExists(std::string(to) + ": File exists");
    }
    Clock::time_point now = Clock::now();
    OCIREG_RETURN_IF_ERROR(MakeParents(*state_, to, now));
    file->second->modified = now;
    state_->files.emplace(std::string(to), file->second);
    TouchParent(*state_, to, now);
    return Status::Ok();
  }

  Status Remove(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(path);
    if (file == state_->files.end()) return MissingFileError(path);
    state_->files.erase(file);
    state_->checkpoints.erase(std::string(path));
    TouchParent(*state_, path, Clock::now());
    return Status::Ok();
  }

  Status RemoveTree(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    bool removed = false;
    if (auto file = state_->files.find(path); file != state_->files.end()) {
      state_->files.erase(file);
      state_->checkpoints.erase(std::string(path));
      removed = true;
    }
    if (auto dir = state_->dirs.find(path); dir != state_->dirs.end()) {
      std::string prefix = std::string(path) + "/";
      EraseBelow(state_->files, prefix);
      EraseBelow(state_->dirs, prefix);
      EraseBelow(state_->checkpoints, prefix);
      state_->dirs.erase(dir);
      removed = true;
    }
    if (removed) TouchParent(*state_, path, Clock::now());
    return Status::Ok();
  }

  // Everything is in the maps: no leftovers of its own.
  Result<uint64_t> CollectLeftovers(Clock::time_point /*cutoff*/) override { return uint64_t{0}; }

 private:
  // kNotFound for a missing path; a directory where a file is expected is an error of its own, as
  // on a file system. Needs mu.
  Status MissingFileError(std::string_view path) const {
    return state_->dirs.contains(path)
               ? Internal(std::string(path) + ": Is a directory")
               : NotFound(std::string(path) + ": No such file or directory");
  }

  // Adds the names of `entries` directly below `prefix` ("" for the root, else "dir/").
  template <typename Map>
  static void AddChildren(const Map& entries, const std::string& prefix,
                          std::vector<std::string>& names) {
    for (auto it = entries.lower_bound(prefix); it != entries.end(); ++it) {
      std::string_view key = it->first;
      if (!HasPrefix(key, prefix)) break;
      std::string_view rest = key.substr(prefix.size());
      if (rest.find('/') == std::string_view::npos) names.emplace_back(rest);
    }
  }

  template <typename Map>
  static void EraseBelow(Map& entries, const std::string& prefix) {
    auto first = entries.lower_bound(prefix);
    auto last = first;
    while (last != entries.end() && HasPrefix(last->first, prefix)) ++last;
    entries.erase(first, last);
  }

  const std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace

std::unique_ptr<StorageDriver> NewMemoryDriver() { return std::make_unique<MemoryDriver>(); }

}  // namespace ocireg
