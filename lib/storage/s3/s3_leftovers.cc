// SPDX-License-Identifier: Apache-2.0
// S3Driver::CollectLeftovers: multipart uploads nobody completed, and the bytes of multipart
// blobs that no reference owns any more (a crash or a failure between two of a commit's or a
// removal's requests leaves them).
#include <set>

#include "storage/s3/s3_driver.h"

namespace ocireg::internal::s3 {

Result<uint64_t> S3Driver::CollectUnowned(std::chrono::system_clock::time_point cutoff) {
  auto objects = ListBelow(kDataDir, true, nullptr);
  OCIREG_RETURN_IF_ERROR(objects);
  std::set<std::string> present;
  for (const ObjectSummary& object : *objects) present.insert(keys_.PathOf(object.key));
  uint64_t removed = 0;
  for (const ObjectSummary& object : *objects) {
    if (object.last_modified >= cutoff) continue;
    const std::string path = keys_.PathOf(object.key);
    const bool is_record = path.ends_with(kOwnerSuffix);
    const std::string data = is_record ? path.substr(0, path.size() - kOwnerSuffix.size()) : path;
    if (is_record && present.contains(data)) continue;  // judged with its data
    if (!is_record) {
      // Owned when the path its record names still refers to it.
      auto owner = client_->Get(keys_.Key(data + std::string(kOwnerSuffix)));
      if (!owner.ok() && !IsNotFound(owner.status())) return owner.status();
      if (owner.ok()) {
        auto ref = client_->Head(keys_.Key(*owner));
        if (!ref.ok() && !IsNotFound(ref.status())) return ref.status();
        if (ref.ok()) {
          auto it = ref->metadata.find(std::string(kRefMeta));
          if (it != ref->metadata.end() && it->second == data) continue;
        }
      }
      OCIREG_RETURN_IF_ERROR(client_->Delete(keys_.Key(data)));
      ++removed;
    }
    OCIREG_RETURN_IF_ERROR(client_->Delete(keys_.Key(data + std::string(kOwnerSuffix))));
  }
  return removed;
}

Result<uint64_t> S3Driver::CollectLeftovers(std::chrono::system_clock::time_point cutoff) {
  auto uploads = client_->ListMultipartUploads(keys_.DirPrefix(kDataDir));
  OCIREG_RETURN_IF_ERROR(uploads);
  uint64_t removed = 0;
  for (const MultipartUpload& upload : *uploads) {
    if (upload.initiated >= cutoff) continue;
    OCIREG_RETURN_IF_ERROR(client_->AbortMultipart(upload.key, upload.upload_id));
    ++removed;
  }
  auto unowned = CollectUnowned(cutoff);
  OCIREG_RETURN_IF_ERROR(unowned);
  return removed + *unowned;
}

}  // namespace ocireg::internal::s3
