// SPDX-License-Identifier: Apache-2.0
// Upload sessions: append through the digester, verify, then hand the file to the store.
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
  auto appender = driver.OpenAppender(UploadDataPath(*id), Durability::kCache);
  OCIREG_RETURN_IF_ERROR(appender);
  session->appender_ = std::move(*appender);
  session->digester_.emplace(algorithm);
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
  // its data was committed (or never received a byte before a crash) and is over.
  auto data = driver.Stat(UploadDataPath(id));
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
  appender_.reset();
}

Status UploadSession::HashLocked() {
  if (digester_) return Status::Ok();
  // After a restart or a failed write the hash state is gone: rebuild it from the bytes received
  // so far.
  auto digester = Digester(algorithm_);
  auto hashed = HashFile(driver_, UploadDataPath(id_), digester);
  if (!hashed.ok()) {
    return IsNotFound(hashed.status()) ? Unknown(id_) : hashed.status();
  }
  digester_.emplace(std::move(digester));
  hashed_ = *hashed;
  return Status::Ok();
}

Status UploadSession::OpenLocked() {
  OCIREG_RETURN_IF_ERROR(HashLocked());
  if (appender_ != nullptr) return Status::Ok();
  auto appender = driver_.OpenAppender(UploadDataPath(id_), Durability::kCache);
  // A data file with other names is a committed blob whose session outlived its commit (a crash
  // lost the move out of the session): appending would corrupt the blob.
  if (!appender.ok() && IsAlreadyExists(appender.status())) return Unknown(id_);
  OCIREG_RETURN_IF_ERROR(appender);
  if ((*appender)->size() != hashed_) {
    // Only this session writes the file, under mu_; should it differ anyway, the file is the truth.
    digester_.reset();
    OCIREG_RETURN_IF_ERROR(HashLocked());
    if ((*appender)->size() != hashed_) {
      return Internal("upload " + id_ + " changed while it was being hashed");
    }
  }
  appender_ = std::move(*appender);
  return Status::Ok();
}

Result<uint64_t> UploadSession::SizeLocked() {
  if (digester_) return hashed_;
  if (appender_ != nullptr) return appender_->size();
  auto info = driver_.Stat(UploadDataPath(id_));
  if (!info.ok()) {
    return IsNotFound(info.status()) ? Unknown(id_) : info.status();
  }
  return info->size;
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
  auto append = [&] { appended = appender_->Append(bytes); };
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
  // The file may hold part of `bytes` and the digest all of them. Cut the file back to where it
  // was, so that a failed append leaves nothing behind; the digest is rebuilt on the next call.
  (void)appender_->Truncate(size);
  appender_.reset();
  digester_.reset();
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
  if (appender_ == nullptr) {
    auto appender = driver_.OpenAppender(UploadDataPath(id_), Durability::kCache);
    OCIREG_RETURN_IF_ERROR(appender);
    appender_ = std::move(*appender);
  }
  // The digest covers the bytes taken back: drop it, so that the next use rebuilds it from the
  // file (a failure path, so the cost of rereading the upload is acceptable).
  digester_.reset();
  Status cut = appender_->Truncate(offset);
  if (!cut.ok()) appender_.reset();
  return cut;
}

Result<Digest> UploadSession::HashWith(DigestAlgorithm algorithm) {
  Digester digester(algorithm);
  OCIREG_RETURN_IF_ERROR(HashFile(driver_, UploadDataPath(id_), digester));
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
  // Finish resets the digester: it no longer covers the file.
  if (expected.algorithm() == algorithm_) digester_.reset();
  OCIREG_RETURN_IF_ERROR(actual);
  if (*actual != expected) {
    (void)EndLocked();
    return DigestInvalid("upload content has digest " + actual->ToString() + ", not " +
                         expected.ToString());
  }
  Status synced = appender_->Sync();
  appender_.reset();
  if (!synced.ok()) {
    // After a failed fsync the kernel may have dropped the unwritten pages, and a later fsync can
    // succeed without them: nothing proves these bytes reach the disk, so the client starts over.
    (void)EndLocked();
    return synced;
  }
  // Out of the session before it becomes a blob: once linked, the file is the blob of every
  // repository that links it, and a session that survived its cleanup (a crash, a failed
  // removal) must find no data to append to. Not flushed: after a crash that loses the move, the
  // data file has other names and the session refuses it (AttachLocked).
  const std::string staged = UploadStagingPath(id_);
  Status installed = driver_.Rename(UploadDataPath(id_), staged, Durability::kCache);
  if (installed.ok()) installed = hooks_.install(repo_, expected, staged);
  // The blob keeps its other names; a staged file left behind is removed by garbage collection.
  (void)driver_.Remove(staged);
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
  appender_.reset();
  hooks_.forget(id_);
  return driver_.RemoveTree(UploadDir(id_));
}

}  // namespace ocireg::internal
