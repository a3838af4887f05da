// SPDX-License-Identifier: Apache-2.0
// S3BlobWriter: a blob streamed into a bucket as the parts of one multipart upload.
//
// Bytes gather in memory until a part is full (S3Options::part_size), which is then uploaded, so a
// writer holds at most one part. A checkpoint writes the writer's state (the upload, the ETags of
// its parts, the caller's state) and the bytes of the part not yet full to one object at the
// writer's path, in one PUT, so that a writer opened later, in any process, resumes exactly there.
// Commit sends the last part and completes the upload under the driver's own ".data/" (a blob
// that never filled a part is one PUT at the target instead), then makes the target a reference
// that owns those bytes: nothing is copied.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ocireg/storage/driver.h"
#include "storage/s3/s3_client.h"
#include "storage/s3/s3_layout.h"

namespace ocireg::internal::s3 {

class S3BlobWriter final : public BlobWriter {
 public:
  // Resumes the writer checkpointed at `path`, or starts an empty one. kInternal when the object
  // there is not a checkpoint.
  static Result<std::unique_ptr<BlobWriter>> Open(S3Client& client, const KeyMap& keys,
                                                  std::string path, uint64_t part_size);

  uint64_t size() const override { return parts_.size() * part_size_ + tail_.size(); }
  Status Append(std::span<const char> bytes) override;
  Status Truncate(uint64_t size) override;
  Status Checkpoint(std::string_view state) override;
  const std::string& state() const override { return resumed_state_; }
  Result<std::unique_ptr<FileReader>> OpenReader() override;
  Status Commit(std::string_view path) override;

  S3BlobWriter(S3Client& client, const KeyMap& keys, std::string path, uint64_t part_size)
      : client_(client), keys_(keys), path_(std::move(path)), part_size_(part_size) {}

 private:
  // What a checkpoint saved: enough to take back everything appended after it.
  struct Saved {
    size_t parts = 0;
    std::string tail;
  };

  // Parses a checkpoint object's content. kInternal when it is none.
  Status Restore(std::string_view content);
  // The checkpoint object's content: a JSON line, then the tail.
  std::string Serialize(std::string_view state) const;
  // Uploads `bytes` as the next part, starting the multipart upload first when needed.
  Status UploadPart(std::span<const char> bytes);
  // Completes the multipart upload and makes `path` a reference owning its bytes.
  Status CommitParts(std::string_view path);
  Status CheckOpen() const;

  S3Client& client_;
  const KeyMap& keys_;
  const std::string path_;
  uint64_t part_size_;

  std::string upload_id_;       // empty until the first part
  std::string data_;            // driver path of the upload's object (".data/<id>")
  std::vector<std::string> parts_;  // ETags of the full parts sent, in order
  std::string tail_;            // bytes after the last full part
  Saved saved_;
  std::string resumed_state_;
  bool spent_ = false;
};

}  // namespace ocireg::internal::s3
