// SPDX-License-Identifier: Apache-2.0
// S3Driver: the StorageDriver over a bucket (ocireg/storage/s3.h), laid out as s3_layout.h says.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ocireg/storage/driver.h"
#include "ocireg/storage/s3.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_counters.h"
#include "storage/s3/s3_layout.h"

namespace ocireg::internal::s3 {

class S3Driver final : public StorageDriver {
 public:
  S3Driver(std::unique_ptr<S3Client> client, const S3Options& options)
      : client_(std::move(client)), keys_(options.prefix), part_size_(options.part_size) {}

  Result<FileInfo> Stat(std::string_view path) override;
  Result<FileInfo> StatFile(std::string_view path) override;
  Result<std::vector<std::string>> List(std::string_view path) override;
  Result<std::string> ReadFile(std::string_view path) override;
  Status WriteFileAtomic(std::string_view path, std::string_view data,
                         Durability durability) override;
  Result<VersionedFile> ReadVersioned(std::string_view path) override;
  Result<std::optional<VersionedFile>> ReadVersionedIfChanged(std::string_view path,
                                                              std::string_view version) override;
  Result<std::string> ReplaceFile(std::string_view path, std::string_view data,
                                  std::string_view version, Durability durability) override;
  Result<std::unique_ptr<FileReader>> OpenReader(std::string_view path) override;
  Result<std::unique_ptr<BlobWriter>> OpenBlobWriter(std::string_view path,
                                                     Durability durability) override;
  Status Link(std::string_view from, std::string_view to, Durability durability) override;
  Status Remove(std::string_view path) override;
  Status RemoveTree(std::string_view path) override;
  Result<uint64_t> CollectLeftovers(std::chrono::system_clock::time_point cutoff) override;
  std::vector<DriverCounter> Counters() const override { return S3Counters(client_->stats()); }

  S3Client& client() { return *client_; }

 private:
  // Where a path's bytes are: the path itself, or the object its reference names.
  struct Located {
    std::string path;
    uint64_t size = 0;
    ObjectHead head;  // of the object at the path asked for
  };
  Result<Located> Locate(std::string_view path);
  // Removes the object at `key` (found as `head`) and what it alone holds: the bytes a reference
  // owns, the multipart upload of a writer's checkpoint.
  Status Discard(const std::string& key, const ObjectHead& head);
  // Discard of whatever is at `key`; ok when nothing is.
  Status DiscardIfPresent(const std::string& key);
  // Writes the object at `key` again as it is (`known`: its head, when at hand), so that its time
  // is now; only while it is still that object (If-Match).
  Status Rewrite(const std::string& key, const ObjectHead* known = nullptr);
  // Every object below directory `path`, all pages.
  Result<std::vector<ObjectSummary>> ListBelow(std::string_view path, bool recursive,
                                               std::vector<std::string>* prefixes);
  // Removes the bytes below ".data/" that no reference owns any more; counts them.
  Result<uint64_t> CollectUnowned(std::chrono::system_clock::time_point cutoff);

  const std::unique_ptr<S3Client> client_;
  const KeyMap keys_;
  const uint64_t part_size_;
};

}  // namespace ocireg::internal::s3
