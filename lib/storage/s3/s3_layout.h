// SPDX-License-Identifier: Apache-2.0
// How the S3 driver lays driver paths and its own objects out in the bucket.
//
// Under the configured prefix, a driver path is the key of one object, of one of three kinds:
// - a plain object: the file's content (WriteFileAtomic; a blob committed in one PUT);
// - a reference: no content, and user metadata naming the object that holds it (Link; a blob
//   committed from a multipart upload, which then owns that object);
// - a writer's checkpoint: a JSON line and then the bytes not yet sent as a part (BlobWriter).
// The driver's own objects live below ".data/", a first component no driver path may use: the
// bytes of blobs committed from multipart uploads (".data/<id>"), each with a record of the path
// that owns it (".data/<id>.owner"), so that what nobody owns any more can be found and removed.
#pragma once

#include <string>
#include <string_view>

#include "ocireg/status.h"

namespace ocireg::internal::s3 {

// User metadata names (x-amz-meta-*).
inline constexpr std::string_view kRefMeta = "ocireg-ref";        // the path holding the bytes
inline constexpr std::string_view kSizeMeta = "ocireg-size";      // a reference's blob size
inline constexpr std::string_view kOwnerMeta = "ocireg-owner";    // "1": removing it removes them
inline constexpr std::string_view kWriterMeta = "ocireg-writer";  // "1": a writer's checkpoint
inline constexpr std::string_view kUploadMeta = "ocireg-upload";  // its multipart upload id
inline constexpr std::string_view kDataMeta = "ocireg-data";      // its multipart upload's path

inline constexpr std::string_view kDataDir = ".data";
inline constexpr std::string_view kOwnerSuffix = ".owner";

// Maps driver paths to keys under one prefix.
class KeyMap {
 public:
  explicit KeyMap(std::string prefix) : prefix_(std::move(prefix)) {}

  // The key of driver path `path` ("" is the prefix itself, for listings of the root).
  std::string Key(std::string_view path) const {
    if (prefix_.empty()) return std::string(path);
    if (path.empty()) return prefix_;
    return prefix_ + "/" + std::string(path);
  }
  // The key prefix of everything below directory `path` ("" for the root).
  std::string DirPrefix(std::string_view path) const {
    std::string key = Key(path);
    return key.empty() ? key : key + "/";
  }
  // The driver path of `key`, which starts with DirPrefix("").
  std::string PathOf(std::string_view key) const {
    return std::string(key.substr(prefix_.empty() ? 0 : prefix_.size() + 1));
  }

 private:
  const std::string prefix_;
};

// A driver path: ValidateDriverPath, and not below the driver's own ".data".
Status CheckS3Path(std::string_view path);

}  // namespace ocireg::internal::s3
