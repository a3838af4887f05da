// SPDX-License-Identifier: Apache-2.0
// NewMemoryDriver: a StorageDriver that keeps files and directories in maps, for tests and
// embedding.
#include <algorithm>
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
// the time seen through both names, and appends through one name show through the other, exactly
// as with the hard links of the file system driver.
struct Inode {
  // Never changed while a reader holds it (use_count() > 1): an append then copies it first, so a
  // reader keeps the bytes it opened without taking any lock.
  std::shared_ptr<std::string> data;
  Clock::time_point modified;
};

// Everything the driver keeps, shared with the appenders it hands out so that they stay valid on
// their own. Directories are explicit, as on a file system: they are created as parents of files
// and remain, empty, when their files are removed, until RemoveTree. The root is implicit.
struct State {
  std::mutex mu;
  std::map<std::string, std::shared_ptr<Inode>, std::less<>> files;
  std::map<std::string, Clock::time_point, std::less<>> dirs;  // directory -> last entry change
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

class MemoryAppender final : public FileAppender {
 public:
  MemoryAppender(std::shared_ptr<State> state, std::shared_ptr<Inode> inode)
      : state_(std::move(state)), inode_(std::move(inode)) {}

  uint64_t size() const override {
    std::lock_guard lock(state_->mu);
    return inode_->data->size();
  }

  Status Append(std::span<const char> bytes) override {
    std::lock_guard lock(state_->mu);
    if (inode_->data.use_count() > 1) {
      inode_->data = std::make_shared<std::string>(*inode_->data);  // a reader holds the old one
    }
    inode_->data->append(bytes.data(), bytes.size());
    inode_->modified = Clock::now();
    return Status::Ok();
  }

  Status Truncate(uint64_t size) override {
    std::lock_guard lock(state_->mu);
    if (size > inode_->data->size()) {
      return InvalidArgument("truncate past the end of the file");
    }
    if (inode_->data.use_count() > 1) {
      inode_->data = std::make_shared<std::string>(*inode_->data);  // a reader holds the old one
    }
    inode_->data->resize(size);
    inode_->modified = Clock::now();
    return Status::Ok();
  }

  Status Sync() override { return Status::Ok(); }

 private:
  const std::shared_ptr<State> state_;
  const std::shared_ptr<Inode> inode_;
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

  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(path);
    if (file == state_->files.end()) return MissingFileError(path);
    return std::unique_ptr<FileReader>(std::make_unique<MemoryReader>(file->second->data));
  }

  Result<std::unique_ptr<FileAppender>> OpenAppender(std::string_view path, Durability) override {
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
    } else if (HasOtherNames(file->second)) {
      return AlreadyExists(std::string(path) + " has other names: appending would change them all");
    }
    return std::unique_ptr<FileAppender>(std::make_unique<MemoryAppender>(state_, file->second));
  }

  Status Rename(std::string_view from, std::string_view to, Durability) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(from));
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(to));
    std::lock_guard lock(state_->mu);
    auto file = state_->files.find(from);
    if (file == state_->files.end()) return MissingFileError(from);
    if (from == to) return Status::Ok();
    if (state_->dirs.contains(to)) return Internal(std::string(to) + ": Is a directory");
    Clock::time_point now = Clock::now();
    OCIREG_RETURN_IF_ERROR(MakeParents(*state_, to, now));
    std::shared_ptr<Inode> inode = std::move(file->second);
    state_->files.erase(file);
    state_->files.insert_or_assign(std::string(to), std::move(inode));
    TouchParent(*state_, from, now);
    TouchParent(*state_, to, now);
    return Status::Ok();
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
    TouchParent(*state_, path, Clock::now());
    return Status::Ok();
  }

  Status RemoveTree(std::string_view path) override {
    OCIREG_RETURN_IF_ERROR(ValidateDriverPath(path));
    std::lock_guard lock(state_->mu);
    bool removed = false;
    if (auto file = state_->files.find(path); file != state_->files.end()) {
      state_->files.erase(file);
      removed = true;
    }
    if (auto dir = state_->dirs.find(path); dir != state_->dirs.end()) {
      std::string prefix = std::string(path) + "/";
      EraseBelow(state_->files, prefix);
      EraseBelow(state_->dirs, prefix);
      state_->dirs.erase(dir);
      removed = true;
    }
    if (removed) TouchParent(*state_, path, Clock::now());
    return Status::Ok();
  }

 private:
  // kNotFound for a missing path; a directory where a file is expected is an error of its own, as
  // on a file system. Needs mu.
  Status MissingFileError(std::string_view path) const {
    return state_->dirs.contains(path)
               ? Internal(std::string(path) + ": Is a directory")
               : NotFound(std::string(path) + ": No such file or directory");
  }

  // Whether a name other than the one found also holds `inode`. Appenders hold inodes too, so
  // only a shared one is looked for among the names. Needs mu.
  bool HasOtherNames(const std::shared_ptr<Inode>& inode) const {
    if (inode.use_count() <= 1) return false;
    int names = 0;
    for (const auto& [name, other] : state_->files) {
      if (other == inode && ++names > 1) return true;
    }
    return false;
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
