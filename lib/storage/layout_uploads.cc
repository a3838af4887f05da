// SPDX-License-Identifier: Apache-2.0
// Upload sessions of the store: started, found again (also after a restart), and committed
// through InstallBlob (layout_blobs.cc).
#include <memory>
#include <string>

#include "storage/layout.h"
#include "storage/layout_store.h"

namespace ocireg::internal {

UploadHooks LayoutStore::MakeUploadHooks() {
  return UploadHooks{[this](std::string_view repo, const Digest& digest, BlobWriter& writer) {
                       return InstallBlob(repo, digest, writer);
                     },
                     [this](const std::string& id) {
                       std::lock_guard lock(uploads_mu_);
                       uploads_.erase(id);
                     },
                     hashing_};
}

Result<std::shared_ptr<Upload>> LayoutStore::StartUpload(std::string_view repo,
                                                         DigestAlgorithm algorithm) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  auto session = UploadSession::Create(*driver_, MakeUploadHooks(), std::string(repo), algorithm,
                                       options_.max_blob_bytes);
  OCIREG_RETURN_IF_ERROR(session);
  {
    std::lock_guard lock(uploads_mu_);
    uploads_.emplace((*session)->id(), *session);
  }
  // The session's file stays open only while the caller holds this handle.
  return UploadSession::Lease(std::move(*session));
}

Result<std::shared_ptr<Upload>> LayoutStore::GetUpload(std::string_view repo, std::string_view id) {
  OCIREG_RETURN_IF_ERROR(ValidateStoreRepositoryName(repo));
  Status unknown = BlobUploadUnknown("upload " + std::string(id) + " of " + std::string(repo) +
                                     " is not in progress");
  std::shared_ptr<UploadSession> session = CachedUpload(id);
  if (session != nullptr && SharesStorage()) {
    // Another process may have committed or cancelled it since this one served it: its data is
    // gone from the storage then (as UploadSession::Load judges).
    auto data = driver_->StatFile(UploadDataPath(id));
    if (!data.ok()) {
      if (!IsNotFound(data.status())) return data.status();
      ForgetUpload(session);
      return unknown;
    }
  }
  if (session == nullptr) {
    // Not seen since the process started: a session from before a restart, or another process's.
    auto loaded =
        UploadSession::Load(*driver_, MakeUploadHooks(), std::string(id), options_.max_blob_bytes);
    if (!loaded.ok()) {
      return loaded.status().Is(ErrorCode::kBlobUploadUnknown) ? unknown : loaded.status();
    }
    std::lock_guard lock(uploads_mu_);
    // Another request may have loaded it meanwhile: one object per session in this process.
    session = uploads_.try_emplace((*loaded)->id(), *loaded).first->second;
  }
  if (session->repository() != repo) return unknown;
  return UploadSession::Lease(std::move(session));
}

std::shared_ptr<UploadSession> LayoutStore::CachedUpload(std::string_view id) {
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(std::string(id));
  return it == uploads_.end() ? nullptr : it->second;
}

void LayoutStore::ForgetUpload(const std::shared_ptr<UploadSession>& session) {
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(session->id());
  if (it != uploads_.end() && it->second == session) uploads_.erase(it);
}

}  // namespace ocireg::internal
