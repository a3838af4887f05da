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
  std::lock_guard lock(uploads_mu_);
  auto it = uploads_.find(std::string(id));
  std::shared_ptr<UploadSession> session;
  if (it != uploads_.end()) {
    session = it->second;
  } else {
    // Not seen since the process started: a session from before a restart, if anything.
    auto loaded =
        UploadSession::Load(*driver_, MakeUploadHooks(), std::string(id), options_.max_blob_bytes);
    if (!loaded.ok()) {
      return loaded.status().Is(ErrorCode::kBlobUploadUnknown) ? unknown : loaded.status();
    }
    session = *loaded;
    uploads_.emplace(session->id(), session);
  }
  if (session->repository() != repo) return unknown;
  return UploadSession::Lease(std::move(session));
}

}  // namespace ocireg::internal
