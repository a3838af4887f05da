// SPDX-License-Identifier: Apache-2.0
// NewS3Driver and CheckS3Bucket (ocireg/storage/s3.h).
#include "ocireg/storage/s3.h"
#include "storage/layout.h"
#include "storage/s3/option_checks.h"
#include "storage/s3/s3_driver.h"
#include "storage/s3/s3_layout.h"

namespace ocireg {

namespace {

Status Step(std::string_view what, const Status& status) {
  return status.ok() ? status : Status(status.code(), std::string(what) + ": " + status.message());
}

// HeadBucket's answer, which has no body to explain it, with what it usually means.
Status HeadBucket(internal::s3::S3Client& client) {
  const Status head = client.HeadBucket();
  if (head.Is(ErrorCode::kDenied)) {
    return Step(
        "the bucket: access denied (a wrong access key or secret, or no permission on "
        "the bucket)",
        head);
  }
  if (head.Is(ErrorCode::kNotFound)) return Step("the bucket: no such bucket", head);
  return Step("the bucket", head);
}

Result<std::unique_ptr<internal::s3::S3Client>> ClientFor(const S3Options& options) {
  OCIREG_RETURN_IF_ERROR(internal::CheckS3Options(options));
  return internal::s3::S3Client::Create(options);
}

}  // namespace

Result<std::unique_ptr<StorageDriver>> NewS3Driver(const S3Options& options) {
  auto client = ClientFor(options);
  OCIREG_RETURN_IF_ERROR(client);
  return std::unique_ptr<StorageDriver>(
      std::make_unique<internal::s3::S3Driver>(std::move(*client), options));
}

Status CheckS3BucketReachable(const S3Options& options) {
  auto client = ClientFor(options);
  OCIREG_RETURN_IF_ERROR(client);
  return HeadBucket(**client);
}

Status CheckS3Bucket(const S3Options& options) {
  auto client = ClientFor(options);
  OCIREG_RETURN_IF_ERROR(client);
  OCIREG_RETURN_IF_ERROR(HeadBucket(**client));
  auto id = internal::NewUploadId();
  OCIREG_RETURN_IF_ERROR(id);
  internal::s3::KeyMap keys(options.prefix);
  const std::string probe = keys.Key(std::string(internal::s3::kDataDir) + "/probe-" + *id);
  OCIREG_RETURN_IF_ERROR(Step("writing a test object", (*client)->Put(probe, "probe").status()));
  auto read = (*client)->Get(probe);
  Status removed = (*client)->Delete(probe);
  OCIREG_RETURN_IF_ERROR(Step("reading the test object back", read.status()));
  if (*read != "probe") return Internal("reading the test object back: other content");
  return Step("removing the test object", removed);
}

}  // namespace ocireg
