// SPDX-License-Identifier: Apache-2.0
// StorageDriver: the one seam between the OCI-layout logic and the bytes it keeps.
//
// A driver stores files at '/'-separated relative paths ("team/app/index.json"). It knows nothing
// of digests, manifests or repositories; the Store (store.h) lays out the OCI image layout on top
// of it. Files are of two kinds, each written the way both a file system and an object store do
// naturally:
// - small files (index.json, session metadata), written whole and replaced atomically;
// - blobs, streamed in through a BlobWriter and committed at once under their final path, then
//   given further names by Link (a hard link on a file system, a reference object in a bucket).
// Nothing appends to, renames or copies a committed file. A POSIX file system (NewFsDriver),
// memory (NewMemoryDriver) and S3 (NewS3Driver, s3.h) implement it and pass one driver test suite
// and one store test suite.
//
// Contract for every implementation:
// - Thread-safe: all methods may be called concurrently from any thread.
// - Paths are relative, never empty, and never contain "." or ".." components or a leading '/';
//   a driver refuses such a path with kInvalidArgument.
// - Missing paths are kNotFound. I/O failures are kInternal with the path and the OS message.
// - Parent "directories" are created as needed by every call that creates a file.
// - Every call that makes a file visible (WriteFileAtomic, BlobWriter::Commit, Link) is atomic and
//   durable when it returns: readers see the old state or the new one, and a crash afterwards
//   keeps the new one. Calls given Durability::kCache stay atomic but may be lost in a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

// A small file's content and version (StorageDriver::ReadVersioned).
struct VersionedFile {
  std::string data;
  std::string version;
};

// A counter a driver keeps about its own work (an object store's requests, retries, errors), for
// GET /metrics: one Prometheus metric family of type counter, with a sample per label set.
struct DriverCounter {
  struct Sample {
    std::vector<std::pair<std::string, std::string>> labels;  // (name, value), in this order
    double value = 0;                                         // never decreases
  };
  std::string name;  // ocireg_<driver>_<what>_total, such as "ocireg_s3_requests_total"
  std::string help;  // one line: what is counted, by which labels
  std::vector<Sample> samples;
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
  // An open file descriptor holding exactly the bytes ReadAt returns, valid while the reader
  // lives, that a caller may map or read with pread(2) (a plain pull maps it and sends from the
  // mapping, skipping a copy through user space); -1 (the default) when there is none: memory,
  // an object store, or a reader whose ReadAt adds behaviour. The caller must not close it or
  // change its file offset.
  virtual int file_descriptor() const { return -1; }
};

// The bytes of one blob as they arrive, kept at the path the driver opened it for (a file, or
// objects below that path) until Commit makes them a file of their own. Not thread-safe: one
// writer per path at a time (the caller serialises).
class OCIREG_EXPORT BlobWriter {
 public:
  BlobWriter() = default;
  virtual ~BlobWriter() = default;
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;

  // Bytes written so far, including those appended through this object.
  virtual uint64_t size() const = 0;
  virtual Status Append(std::span<const char> bytes) = 0;
  // Cuts the bytes back to their first `size` (a request that failed part-way is taken back).
  // Always possible back to where the last Checkpoint (or the opening) left them; further back
  // only where the backend can: kInvalidArgument otherwise, and when `size` exceeds size().
  virtual Status Truncate(uint64_t size) = 0;
  // Makes the bytes so far, together with `state` (the caller's own, such as the state of a
  // digest over them), what the next OpenBlobWriter of this path resumes, in this process or in
  // another one sharing the storage. Not durable across a crash with Durability::kCache.
  virtual Status Checkpoint(std::string_view state) = 0;
  // The `state` of the Checkpoint this writer resumed at; empty for a new writer and when the
  // bytes no longer match that checkpoint.
  virtual const std::string& state() const = 0;
  // A reader of the bytes so far, where the backend can read them back before Commit;
  // kUnsupported where it cannot (an object store's multipart upload is not readable).
  virtual Result<std::unique_ptr<FileReader>> OpenReader() = 0;
  // Makes the bytes the file `path`, atomically and durably, and removes what the writer kept.
  // When `path` exists already it stays as it is (blobs are content-addressed: it holds the same
  // bytes), its modification time is refreshed as by Link, the bytes are dropped, and the result
  // is kAlreadyExists. The writer is spent either way; later calls fail with kInvalidArgument.
  virtual Status Commit(std::string_view path) = 0;
};

class OCIREG_EXPORT StorageDriver {
 public:
  StorageDriver() = default;
  virtual ~StorageDriver() = default;
  StorageDriver(const StorageDriver&) = delete;
  StorageDriver& operator=(const StorageDriver&) = delete;

  virtual Result<FileInfo> Stat(std::string_view path) = 0;
  // Stat of a path the caller knows is no directory (a blob, a session's data): kNotFound unless a
  // file is there, so that an object store answers a missing file without looking for objects
  // below its name. By default Stat, with a directory taken for kNotFound.
  virtual Result<FileInfo> StatFile(std::string_view path) {
    auto info = Stat(path);
    if (info.ok() && info->is_directory) return NotFound(std::string(path) + ": a directory");
    return info;
  }
  // The names (not paths) of the entries directly below directory `path`, in no particular order.
  // An empty `path` lists the root. kNotFound when the directory does not exist.
  virtual Result<std::vector<std::string>> List(std::string_view path) = 0;

  // The whole content of a small file (index.json, session metadata).
  virtual Result<std::string> ReadFile(std::string_view path) = 0;
  // Replaces the content of `path` with `data` atomically and durably.
  virtual Status WriteFileAtomic(std::string_view path, std::string_view data,
                                 Durability durability = Durability::kDurable) = 0;

  // The content of a small file with its version, a token that changes whenever the file is
  // replaced, for ReplaceFile. kNotFound when it does not exist.
  virtual Result<VersionedFile> ReadVersioned(std::string_view path) = 0;
  // ReadVersioned, unless the file is still at `version`: then nullopt, and an object store
  // sends no content (a conditional GET). For a copy kept fresh by reading it again now and
  // then. By default ReadVersioned and a comparison.
  virtual Result<std::optional<VersionedFile>> ReadVersionedIfChanged(std::string_view path,
                                                                      std::string_view version) {
    auto file = ReadVersioned(path);
    if (!file.ok()) return file.status();
    if (file->version == version) return std::optional<VersionedFile>();
    return std::optional<VersionedFile>(std::move(*file));
  }
  // Replaces the content of `path` with `data`, atomically and durably, only while it is still
  // at `version` (from ReadVersioned or an earlier ReplaceFile; empty: only while it does not
  // exist): a compare-and-swap. Returns the new version. kAlreadyExists when another write came
  // first; nothing changes then. Atomic between the processes sharing an object store; on a file
  // system, between the callers of one driver.
  virtual Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                          std::string_view version,
                                          Durability durability = Durability::kDurable) = 0;

  virtual Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) = 0;
  // Opens the blob writer kept at `path`: resumes the one found there, or starts an empty one.
  // `durability` is that of its checkpoints (Commit is always durable). Remove or RemoveTree of
  // `path` discards a writer's bytes, also one that a crash left behind.
  virtual Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(
      std::string_view path, Durability durability = Durability::kDurable) = 0;

  // Makes `to` another name of the blob `from` without copying it (a hard link on a file system,
  // an object that refers to `from` in a bucket). Reading `to` reads the blob for as long as
  // `from` exists; a file system keeps it readable after that too, an object store does not, so
  // the store removes a blob only when no other name refers to it. The blob's modification time,
  // as Stat of either name reports it, is now when `to` appears, so the new name is never seen
  // with an older time. kAlreadyExists when `to` exists; its modification time is then refreshed
  // all the same, so that a caller relying on `to` finds it as recently linked. kNotFound when
  // `from` does not exist. A backend that cannot give the blob another name (ext4 allows about
  // 65,000) fails with kInternal.
  virtual Status Link(std::string_view from, std::string_view to,
                      Durability durability = Durability::kDurable) = 0;
  // Removes one file. kNotFound when it does not exist.
  virtual Status Remove(std::string_view path) = 0;
  // Removes a directory and everything below it; ok when it does not exist.
  virtual Status RemoveTree(std::string_view path) = 0;

  // Removes what the driver itself keeps beside the files and left behind before `cutoff`: an
  // object store's abandoned multipart uploads and blob data no name refers to any more. Returns
  // how many such leftovers went. Garbage collection calls it; a file system has none.
  virtual Result<uint64_t> CollectLeftovers(std::chrono::system_clock::time_point cutoff) = 0;

  // The counters the driver keeps about its own work since it was made, for GET /metrics
  // (StoreMonitoring::DriverCounters). Cheap: no I/O. None by default: a file system does no work
  // worth counting beyond what the server counts itself.
  virtual std::vector<DriverCounter> Counters() const { return {}; }
};

// A driver over the directory `root` of a POSIX file system, created when missing. Files are
// written to a temporary name, fsynced and renamed; directories are fsynced after entries change.
// A blob writer's bytes are the file at its path, committed by a rename. Link is a hard link, so
// every repository's copy of a blob shares one inode. Errors: kInternal
// when `root` cannot be created or is not a writable directory.
OCIREG_EXPORT Result<std::unique_ptr<StorageDriver>> NewFsDriver(const std::string& root);

// A driver that keeps everything in memory, for tests and for embedding without a disk. Linked
// files share one buffer.
OCIREG_EXPORT std::unique_ptr<StorageDriver> NewMemoryDriver();

}  // namespace ocireg
