// SPDX-License-Identifier: Apache-2.0
// StorageDriver: the one seam between the OCI-layout logic and the bytes it keeps.
//
// A driver stores files at '/'-separated relative paths ("team/app/index.json"). It knows nothing
// of digests, manifests or repositories; the Store (store.h) lays out the OCI image layout on top
// of it. A POSIX file system (NewFsDriver) and memory (NewMemoryDriver) implement it today; an
// object store can implement it later and must pass the same driver and store test suites.
//
// Contract for every implementation:
// - Thread-safe: all methods may be called concurrently from any thread.
// - Paths are relative, never empty, and never contain "." or ".." components or a leading '/';
//   a driver refuses such a path with kInvalidArgument.
// - Missing paths are kNotFound. I/O failures are kInternal with the path and the OS message.
// - Parent "directories" are created as needed by every call that creates a file.
// - Every call that makes a file visible (WriteFileAtomic, Rename, Link) is atomic and durable when
// it
//   returns: readers see the old state or the new one, and a crash afterwards keeps the new one.
//   Calls given Durability::kCache stay atomic but may be lost in a crash (see Durability).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ocireg/export.h"
#include "ocireg/status.h"

namespace ocireg {

// What a write must survive. kDurable: a crash (power loss included) after the call returns
// keeps it. kCache: for what the store can lose in a crash without becoming inconsistent, such as
// an upload session in progress or the deduplication index; a backend may then skip the flushes
// (on a file system, each is an fsync) that otherwise dominate the cost of a small push. A
// directory that kCache calls create may be lost with them, so kCache is for paths under which
// nothing durable is ever written.
enum class Durability { kDurable, kCache };

struct FileInfo {
  uint64_t size = 0;
  bool is_directory = false;
  // Last change of the content, or the last Link to it (see StorageDriver::Link).
  std::chrono::system_clock::time_point modified;
};

// Positional reads of one file. Thread-safe: ReadAt may be called concurrently.
class OCIREG_EXPORT FileReader {
 public:
  FileReader() = default;
  virtual ~FileReader() = default;
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // The file's size when it was opened.
  virtual uint64_t size() const = 0;
  // Reads up to buffer.size() bytes at `offset`; returns the count, 0 at or past the end.
  virtual Result<size_t> ReadAt(uint64_t offset, std::span<char> buffer) = 0;
};

// Appends to one file. Not thread-safe: one writer at a time (the caller serialises).
class OCIREG_EXPORT FileAppender {
 public:
  FileAppender() = default;
  virtual ~FileAppender() = default;
  FileAppender(const FileAppender&) = delete;
  FileAppender& operator=(const FileAppender&) = delete;

  // Bytes in the file, including those appended through this object.
  virtual uint64_t size() const = 0;
  virtual Status Append(std::span<const char> bytes) = 0;
  // Cuts the file back to its first `size` bytes (a chunk that failed part-way is taken back);
  // later appends continue there. kInvalidArgument when `size` exceeds size().
  virtual Status Truncate(uint64_t size) = 0;
  // Makes everything appended so far durable (fsync).
  virtual Status Sync() = 0;
};

class OCIREG_EXPORT StorageDriver {
 public:
  StorageDriver() = default;
  virtual ~StorageDriver() = default;
  StorageDriver(const StorageDriver&) = delete;
  StorageDriver& operator=(const StorageDriver&) = delete;

  virtual Result<FileInfo> Stat(std::string_view path) = 0;
  // The names (not paths) of the entries directly below directory `path`, in no particular order.
  // An empty `path` lists the root. kNotFound when the directory does not exist.
  virtual Result<std::vector<std::string>> List(std::string_view path) = 0;

  // The whole content of a small file (index.json, session metadata).
  virtual Result<std::string> ReadFile(std::string_view path) = 0;
  // Replaces the content of `path` with `data` atomically and durably.
  virtual Status WriteFileAtomic(std::string_view path, std::string_view data,
                                 Durability durability = Durability::kDurable) = 0;

  virtual Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) = 0;
  // Opens `path` for appending, creating it empty when missing; `durability` is that of the
  // creation (the content is durable only after FileAppender::Sync). kAlreadyExists when `path`
  // shares its content with other names (see Link): appending would change them too.
  virtual Result<std::unique_ptr<FileAppender>> OpenAppender(
      std::string_view path, Durability durability = Durability::kDurable) = 0;

  // Moves file `from` to `to`, replacing `to` atomically.
  virtual Status Rename(std::string_view from, std::string_view to,
                        Durability durability = Durability::kDurable) = 0;
  // Makes `to` a file with the content of `from` without copying where the backend can (a hard link
  // on a file system). The content's modification time is now when `to` appears, so the new name
  // is never seen with an older time. kAlreadyExists when `to` exists; its modification time is
  // then refreshed all the same, so that a caller relying on `to` finds it as recently linked.
  // kNotFound when `from` does not exist. A backend that cannot give the content another name
  // (ext4 allows about 65,000) fails with kInternal.
  virtual Status Link(std::string_view from, std::string_view to,
                      Durability durability = Durability::kDurable) = 0;
  // Removes one file. kNotFound when it does not exist.
  virtual Status Remove(std::string_view path) = 0;
  // Removes a directory and everything below it; ok when it does not exist.
  virtual Status RemoveTree(std::string_view path) = 0;
};

// A driver over the directory `root` of a POSIX file system, created when missing. Files are
// written to a temporary name, fsynced and renamed; directories are fsynced after entries change.
// Link is a hard link, so every repository's copy of a blob shares one inode. Errors: kInternal
// when `root` cannot be created or is not a writable directory.
OCIREG_EXPORT Result<std::unique_ptr<StorageDriver>> NewFsDriver(const std::string& root);

// A driver that keeps everything in memory, for tests and for embedding without a disk. Linked
// files share one buffer.
OCIREG_EXPORT std::unique_ptr<StorageDriver> NewMemoryDriver();

}  // namespace ocireg
