// SPDX-License-Identifier: Apache-2.0
// UploadSession: one blob upload in progress, kept in _uploads/<id>/ so that it survives restarts
// and can be continued by another process sharing the storage.
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
  // Commits `writer`, verified, as content-store blob `digest` and makes it a blob of `repo`.
  std::function<Status(std::string_view repo, const Digest& digest, BlobWriter& writer)> install;
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
  // Reattaches to a session found in storage; its hash state is restored on first use.
  // kBlobUploadUnknown when there is no such session.
  static Result<std::shared_ptr<UploadSession>> Load(StorageDriver& driver, UploadHooks hooks,
                                                     std::string id, uint64_t max_bytes);
  // The handle the store gives out: when its last copy is dropped (the request that asked for it
  // has ended), the session saves and closes its blob writer. A session so holds a descriptor
  // (or, on an object store, a buffered part) only while a request uses it, not for as long as
  // it stays open (up to the upload TTL); the next use reopens the writer.
  static std::shared_ptr<Upload> Lease(std::shared_ptr<UploadSession> session);

  const std::string& id() const override { return id_; }
  const std::string& repository() const override { return repo_; }
  DigestAlgorithm algorithm() const override { return algorithm_; }

  Result<uint64_t> Size() override;
  Status Append(std::span<const char> bytes, std::optional<uint64_t> expected_offset) override;
  Status Rewind(uint64_t offset, uint64_t end) override;
  Status Persist() override;
  Result<BlobInfo> Commit(const Digest& expected, std::optional<uint64_t> expected_size) override;
  Status Cancel() override;

  // Ends the session and removes its files, for garbage collection of idle sessions.
  Status Expire();
  // Saves what was appended since the last Persist (best effort: a failure only loses what the
  // client was not told is stored) and closes the writer until the next use; the hash state
  // stays.
  void Release();

  UploadSession(StorageDriver& driver, UploadHooks hooks, std::string id, std::string repo,
                DigestAlgorithm algorithm, uint64_t max_bytes);

 private:
  // Where the writer's bytes and the digest over them were last saved (Checkpoint).
  struct Saved {
    uint64_t size = 0;
    std::string state;  // Digester::SaveState
  };

  // Opens the writer when closed, and makes the digest cover its bytes. Requires mu_.
  Status OpenLocked();
  // Makes digester_ cover the writer's bytes: from the saved state, or by reading them back.
  // Requires mu_ and an open writer.
  Status HashLocked();
  // Saves the writer's bytes with the digest state. Requires mu_ and an open writer.
  Status SaveLocked();
  // The bytes received so far. Requires mu_.
  Result<uint64_t> SizeLocked();
  // Hashes the writer's bytes from the start with `algorithm` (when it differs from the
  // session's). kUnsupported when the backend cannot read them back.
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
  std::unique_ptr<BlobWriter> writer_;  // null while no request uses the session
  // The digest of the writer's first `hashed_` bytes, which are all it holds; null when not known
  // (after a restart or a failed write), then restored or rebuilt.
  std::optional<Digester> digester_;
  uint64_t hashed_ = 0;
  std::optional<Saved> saved_;  // null until known (a new writer's or one resumed from storage)
};

}  // namespace ocireg::internal
