// SPDX-License-Identifier: Apache-2.0
// UploadSession: one blob upload in progress, kept in _uploads/<id>/ so that it survives restarts.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "ocireg/digest.h"
#include "ocireg/storage/driver.h"
#include "ocireg/storage/store.h"
#include "storage/hash_helper.h"

namespace ocireg::internal {

// What a session needs of its store, so that it does not depend on the store's class.
struct UploadHooks {
  // Makes the verified, synced file at `data_path` the blob `digest` of `repo`.
  std::function<Status(std::string_view repo, const Digest& digest, std::string_view data_path)>
      install;
  // Called once when the session ends (commit, cancel, failed verification or expiry).
  std::function<void(const std::string& id)> forget;
  // Hashes appended bytes while they are written; null: hash them after writing.
  std::shared_ptr<HashHelper> hashing;
};

class UploadSession final : public Upload {
 public:
  // Creates the session's files. kInternal on I/O failure.
  static Result<std::shared_ptr<UploadSession>> Create(StorageDriver& driver, UploadHooks hooks,
                                                       std::string repo, DigestAlgorithm algorithm,
                                                       uint64_t max_bytes);
  // Reattaches to a session found on disk; its hash state is rebuilt on first use.
  // kBlobUploadUnknown when there is no such session.
  static Result<std::shared_ptr<UploadSession>> Load(StorageDriver& driver, UploadHooks hooks,
                                                     std::string id, uint64_t max_bytes);
  // The handle the store gives out: when its last copy is dropped (the request that asked for it
  // has ended), the session closes its data file. A session so holds a descriptor only while a
  // request uses it, not for as long as it stays open (up to the upload TTL); the next use
  // reopens the file.
  static std::shared_ptr<Upload> Lease(std::shared_ptr<UploadSession> session);

  const std::string& id() const override { return id_; }
  const std::string& repository() const override { return repo_; }
  DigestAlgorithm algorithm() const override { return algorithm_; }

  Result<uint64_t> Size() override;
  Status Append(std::span<const char> bytes, std::optional<uint64_t> expected_offset) override;
  Status Rewind(uint64_t offset, uint64_t end) override;
  Result<BlobInfo> Commit(const Digest& expected, std::optional<uint64_t> expected_size) override;
  Status Cancel() override;

  // Ends the session and removes its files, for garbage collection of idle sessions.
  Status Expire();
  // Closes the data file until the next use; the hash state stays.
  void Release();

  UploadSession(StorageDriver& driver, UploadHooks hooks, std::string id, std::string repo,
                DigestAlgorithm algorithm, uint64_t max_bytes);

 private:
  // Rebuilds the digest of what the data file holds, when it is not known. Requires mu_.
  Status HashLocked();
  // HashLocked, and opens the data file for appending. Requires mu_.
  Status OpenLocked();
  // The data file's size, from the hash state or else the file. Requires mu_.
  Result<uint64_t> SizeLocked();
  // Hashes the data file from the start with `algorithm` (when it differs from the session's).
  Result<Digest> HashWith(DigestAlgorithm algorithm);
  // Removes the session's files and ends it. Requires mu_.
  Status EndLocked();

  StorageDriver& driver_;
  UploadHooks hooks_;
  const std::string id_;
  const std::string repo_;
  const DigestAlgorithm algorithm_;
  const uint64_t max_bytes_;

  std::mutex mu_;
  bool ended_ = false;
  std::unique_ptr<FileAppender> appender_;  // null while no request uses the session
  // The digest of the data file's first `hashed_` bytes, which are all it holds; null when not
  // known (after a restart or a failed write), then rebuilt from the file.
  std::optional<Digester> digester_;
  uint64_t hashed_ = 0;
};

}  // namespace ocireg::internal
