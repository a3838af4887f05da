// SPDX-License-Identifier: Apache-2.0
// Upload sessions: append through the digester, verify, commit into the content store, then hand
// the blob to the repository.
#include "storage/upload_session.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "storage/file_digest.h"
#include "storage/layout.h"

namespace ocireg::internal {
namespace {

Status Unknown(const std::string& id) {
  return BlobUploadUnknown("upload " + id + " is not in progress");
}

std::string InfoJson(std::string_view repo, DigestAlgorithm algorithm) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("repository");
  w.String(repo.data(), static_cast<rapidjson::SizeType>(repo.size()));
  w.Key("algorithm");
  std::string_view name = AlgorithmName(algorithm);
  w.String(name.data(), static_cast<rapidjson::SizeType>(name.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace

UploadSession::UploadSession(StorageDriver& driver, UploadHooks hooks, std::string id,
                             std::string repo, DigestAlgorithm algorithm, uint64_t max_bytes)
    : driver_(driver),
      hooks_(std::move(hooks)),
      id_(std::move(id)),
      repo_(std::move(repo)),
      algorithm_(algorithm),
      max_bytes_(max_bytes) {}

Result<std::shared_ptr<UploadSession>> UploadSession::Create(StorageDriver& driver,
                                                             UploadHooks hooks, std::string repo,
                                                             DigestAlgorithm algorithm,
                                                             uint64_t max_bytes) {
  auto id = NewUploadId();
  OCIREG_RETURN_IF_ERROR(id);
  // A session need not survive a crash (its client starts over), so none of its files is
  // flushed until the blob itself is committed.
  OCIREG_RETURN_IF_ERROR(
      driver.WriteFileAtomic(UploadInfoPath(*id), InfoJson(repo, algorithm), Durability::kCache));
  auto session = std::make_shared<UploadSession>(driver, std::move(hooks), *id, std::move(repo),
                                                 algorithm, max_bytes);
  std::lock_guard lock(session->mu_);
  auto writer = driver.OpenBlobWriter(UploadDataPath(*id), Durability::kCache);
  OCIREG_RETURN_IF_ERROR(writer);
  session->writer_ = std::move(*writer);
  session->digester_.emplace(algorithm);
  // Saved at once, so that every process sharing the storage finds the session before its first
  // chunk: an object store keeps nothing of a writer until its first checkpoint.
  OCIREG_RETURN_IF_ERROR(session->SaveLocked());
  return session;
}

Result<std::shared_ptr<UploadSession>> UploadSession::Load(StorageDriver& driver, UploadHooks hooks,
                                                           std::string id, uint64_t max_bytes) {
  if (!IsValidUploadId(id)) return Unknown(id);
  auto info = driver.ReadFile(UploadInfoPath(id));
  if (!info.ok()) {
    if (IsNotFound(info.status())) return Unknown(id);
    return info.status();
  }
  rapidjson::Document doc;
  doc.Parse(info->data(), info->size());
  // The metadata is not flushed (see Create): after a crash it may be empty or cut short, which
  // only means the session is gone. Garbage collection removes what is left of it.
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("repository") ||
      !doc["repository"].IsString() || !doc.HasMember("algorithm") ||
      !doc["algorithm"].IsString()) {
    return Unknown(id);
  }
  auto algorithm = ParseAlgorithm(doc["algorithm"].GetString());
  if (!algorithm.ok()) return Unknown(id);
  // A commit moves the data out before the session's files are removed: a session left without
  // its data was committed (or was never saved before a crash) and is over.
  auto data = driver.StatFile(UploadDataPath(id));
  if (!data.ok()) {
    if (IsNotFound(data.status())) return Unknown(id);
    return data.status();
  }
  return std::make_shared<UploadSession>(driver, std::move(hooks), std::move(id),
                                         doc["repository"].GetString(), *algorithm, max_bytes);
}

std::shared_ptr<Upload> UploadSession::Lease(std::shared_ptr<UploadSession> session) {
  UploadSession* raw = session.get();
  return std::shared_ptr<Upload>(raw, [owner = std::move(session)](Upload*) { owner->Release(); });
}

void UploadSession::Release() {
  std::lock_guard lock(mu_);
  if (writer_ != nullptr && !ended_ && digester_ && (!saved_ || saved_->size != hashed_)) {
    (void)SaveLocked();
  }
  writer_.reset();
}

Status UploadSession::SaveLocked() {
  Saved saved{hashed_, digester_->SaveState()};
  OCIREG_RETURN_IF_ERROR(writer_->Checkpoint(saved.state));
  saved_ = std::move(saved);
  return Status::Ok();
}

Status UploadSession::HashLocked() {
  const uint64_t size = writer_->size();
  if (digester_ && hashed_ == size) return Status::Ok();
  digester_.reset();
  // After a restart, in another process or after a failed write the hash state is gone: restore
  // it from the last save, or rebuild it from the bytes received so far.
  if (saved_ && saved_->size == size) {
    auto restored = Digester::RestoreState(saved_->state);
    if (restored.ok() && restored->algorithm() == algorithm_) {
      digester_.emplace(std::move(*restored));
      hashed_ = size;
      return Status::Ok();
    }
  }
  auto reader = writer_->OpenReader();
  if (!reader.ok()) {
    if (reader.status().Is(ErrorCode::kUnsupported)) {
      return BlobUploadUnknown("upload " + id_ + " cannot go on: the digest of its " +
                               std::to_string(size) + " bytes was not saved");
    }
    return reader.status();
  }
  Digester digester(algorithm_);
  auto hashed = HashReader(**reader, digester);
  OCIREG_RETURN_IF_ERROR(hashed);
  if (*hashed != size) return Internal("upload " + id_ + " changed while it was being hashed");
  digester_.emplace(std::move(digester));
  hashed_ = size;
  return Status::Ok();
}

Status UploadSession::OpenLocked() {
  if (writer_ == nullptr) {
    auto writer = driver_.OpenBlobWriter(UploadDataPath(id_), Durability::kCache);
    OCIREG_RETURN_IF_ERROR(writer);
    writer_ = std::move(*writer);
    // What storage holds now is the truth: another process may have continued the session.
    if (!writer_->state().empty()) {
      saved_ = Saved{writer_->size(), writer_->state()};
    } else if (saved_ && saved_->size != writer_->size()) {
      saved_.reset();
    }
  }
  return HashLocked();
}

Result<uint64_t> UploadSession::SizeLocked() {
  OCIREG_RETURN_IF_ERROR(OpenLocked());
  return hashed_;
}

Result<uint64_t> UploadSession::Size() {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  return SizeLocked();
}

Status UploadSession::Append(std::span<const char> bytes, std::optional<uint64_t> expected_offset) {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  OCIREG_RETURN_IF_ERROR(OpenLocked());
  uint64_t size = hashed_;
  if (expected_offset && *expected_offset != size) {
    return RangeInvalid("chunk starts at " + std::to_string(*expected_offset) +
                        " but the upload has " + std::to_string(size) + " bytes");
  }
  if (max_bytes_ != 0 && size + bytes.size() > max_bytes_) {
    return SizeInvalid("blob exceeds the limit of " + std::to_string(max_bytes_) + " bytes");
  }
  Status appended;
  auto append = [&] { appended = writer_->Append(bytes); };
  if (hooks_.hashing) {
    Status hashed = hooks_.hashing->UpdateAlongside(*digester_, bytes, append);
    if (appended.ok()) appended = hashed;
  } else {
    append();
    if (appended.ok()) digester_->Update(bytes);
  }
  if (appended.ok()) {
    hashed_ += bytes.size();
    return appended;
  }
  // The writer may hold part of `bytes` and the digest all of them. Cut the writer back to where
  // it was, so that a failed append leaves nothing behind; the digest is rebuilt on the next call.
  digester_.reset();
  if (!writer_->Truncate(size).ok()) writer_.reset();
  return appended;
}

Status UploadSession::Rewind(uint64_t offset, uint64_t end) {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  auto size = SizeLocked();
  OCIREG_RETURN_IF_ERROR(size);
  if (offset > end || *size != end) {
    return RangeInvalid("upload has " + std::to_string(*size) + " bytes, not the " +
                        std::to_string(end) + " to take back to " + std::to_string(offset));
  }
  if (offset == end) return Status::Ok();
  // The digest covers the bytes taken back: drop it, so that the next use restores it from the
  // last save or rebuilds it from the bytes (a failure path, so the cost is acceptable).
  digester_.reset();
  Status cut = writer_->Truncate(offset);
  if (!cut.ok()) writer_.reset();
  return cut;
}

Status UploadSession::Persist() {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  OCIREG_RETURN_IF_ERROR(OpenLocked());
  if (saved_ && saved_->size == hashed_) return Status::Ok();
  return SaveLocked();
}

Result<Digest> UploadSession::HashWith(DigestAlgorithm algorithm) {
  auto reader = writer_->OpenReader();
  if (!reader.ok() && reader.status().Is(ErrorCode::kUnsupported)) {
    return DigestInvalid("upload " + id_ + " was hashed with " +
                         std::string(AlgorithmName(algorithm_)) +
                         ", and this storage cannot read it back to hash it with " +
                         std::string(AlgorithmName(algorithm)));
  }
  OCIREG_RETURN_IF_ERROR(reader);
  Digester digester(algorithm);
  OCIREG_RETURN_IF_ERROR(HashReader(**reader, digester));
  return digester.Finish();
}

Result<BlobInfo> UploadSession::Commit(const Digest& expected,
                                       std::optional<uint64_t> expected_size) {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  OCIREG_RETURN_IF_ERROR(OpenLocked());
  uint64_t size = hashed_;
  if (expected_size && *expected_size != size) {
    (void)EndLocked();
    return SizeInvalid("upload has " + std::to_string(size) + " bytes, expected " +
                       std::to_string(*expected_size));
  }
  Result<Digest> actual = expected.algorithm() == algorithm_ ? Result<Digest>(digester_->Finish())
                                                             : HashWith(expected.algorithm());
  // Finish resets the digester: it no longer covers the bytes.
  if (expected.algorithm() == algorithm_) digester_.reset();
  if (!actual.ok()) {
    (void)EndLocked();
    return actual.status();
  }
  if (*actual != expected) {
    (void)EndLocked();
    return DigestInvalid("upload content has digest " + actual->ToString() + ", not " +
                         expected.ToString());
  }
  // A failed commit ends the session: after a failed fsync nothing proves these bytes reach the
  // disk, so the client starts over.
  Status installed = hooks_.install(repo_, expected, *writer_);
  writer_.reset();
  (void)EndLocked();
  OCIREG_RETURN_IF_ERROR(installed);
  return BlobInfo{expected, size};
}

Status UploadSession::Cancel() {
  std::lock_guard lock(mu_);
  if (ended_) return Unknown(id_);
  return EndLocked();
}

Status UploadSession::Expire() {
  std::lock_guard lock(mu_);
  if (ended_) return Status::Ok();
  return EndLocked();
}

Status UploadSession::EndLocked() {
  ended_ = true;
  writer_.reset();
  hooks_.forget(id_);
  return driver_.RemoveTree(UploadDir(id_));
}

}  // namespace ocireg::internal
