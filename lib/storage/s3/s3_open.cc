// SPDX-License-Identifier: Apache-2.0
// NewS3Driver and CheckS3Bucket (ocireg/storage/s3.h).
#include "ocireg/storage/s3.h"
#include "storage/layout.h"
#include "storage/s3/option_checks.h"
#include "storage/s3/s3_driver.h"
#include "storage/s3/s3_layout.h"

namespace ocireg {

Result<std::unique_ptr<StorageDriver>> NewS3Driver(const S3Options& options) {
  OCIREG_RETURN_IF_ERROR(internal::CheckS3Options(options));
  auto client = internal::s3::S3Client::Create(options);
  OCIREG_RETURN_IF_ERROR(client);
  return std::unique_ptr<StorageDriver>(
      std::make_unique<internal::s3::S3Driver>(std::move(*client), options));
}

Status CheckS3Bucket(const S3Options& options) {
  OCIREG_RETURN_IF_ERROR(internal::CheckS3Options(options));
  auto client = internal::s3::S3Client::Create(options);
  OCIREG_RETURN_IF_ERROR(client);
  auto step = [](std::string_view what, const Status& status) {
    return status.ok() ? status
                       : Status(status.code(), std::string(what) + ": " + status.message());
  };
  OCIREG_RETURN_IF_ERROR(step("the bucket", (*client)->HeadBucket()));
  auto id = internal::NewUploadId();
  OCIREG_RETURN_IF_ERROR(id);
  internal::s3::KeyMap keys(options.prefix);
  const std::string probe = keys.Key(std::string(internal::s3::kDataDir) + "/probe-" + *id);
  OCIREG_RETURN_IF_ERROR(step("writing a test object", (*client)->Put(probe, "probe").status()));
  auto read = (*client)->Get(probe);
  Status removed = (*client)->Delete(probe);
  OCIREG_RETURN_IF_ERROR(step("reading the test object back", read.status()));
  if (*read != "probe") return Internal("reading the test object back: other content");
  return step("removing the test object", removed);
}

}  // namespace ocireg
