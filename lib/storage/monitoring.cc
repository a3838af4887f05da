// SPDX-License-Identifier: Apache-2.0
// Monitoring of the store (StoreMonitoring): its usage, open uploads and whether it takes writes.
#include <string_view>

#include "storage/layout.h"
#include "storage/layout_store.h"
#include "storage/stored_blobs.h"

namespace ocireg::internal {

Result<StoreUsage> LayoutStore::Usage() {
  auto blobs = ListStoredBlobs(*driver_, ContentAlgorithmDir);
  OCIREG_RETURN_IF_ERROR(blobs);
  StoreUsage usage;
  for (const StoredBlob& blob : *blobs) {
    auto info = driver_->StatFile(blob.path);
    if (!info.ok() && IsNotFound(info.status())) continue;  // collected since it was listed
    OCIREG_RETURN_IF_ERROR(info);
    ++usage.blobs;
    usage.bytes += info->size;
  }
  return usage;
}

Result<uint64_t> LayoutStore::CountUploads() {
  auto ids = ListOrEmpty(*driver_, kUploadsDir);
  OCIREG_RETURN_IF_ERROR(ids);
  return static_cast<uint64_t>(ids->size());
}

Status LayoutStore::CheckWritable() {
  // A name no repository can have ('_'), and no other part of the store uses.
  constexpr std::string_view kProbe = "_probe";
  OCIREG_RETURN_IF_ERROR(driver_->WriteFileAtomic(kProbe, "probe"));
  Status removed = driver_->Remove(kProbe);
  // A concurrent probe may have removed it first.
  if (IsNotFound(removed)) return Status::Ok();
  return removed;
}

}  // namespace ocireg::internal
