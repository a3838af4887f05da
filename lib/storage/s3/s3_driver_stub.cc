// SPDX-License-Identifier: Apache-2.0
// A placeholder for the S3 driver, so that everything naming NewS3Driver and CheckS3Bucket links
// until lib/storage/s3/s3_driver.cc defines them. Delete this file when that one arrives.
#include "ocireg/storage/s3.h"

namespace ocireg {

// NOLINTNEXTLINE(performance-unnecessary-value-param): the signature s3.h gives the real driver
Result<std::unique_ptr<StorageDriver>> NewS3Driver(S3Options /*options*/) {
  return Unsupported("the S3 driver is not built yet");
}

Status CheckS3Bucket(const S3Options& /*options*/) {
  return Unsupported("the S3 driver is not built yet");
}

}  // namespace ocireg
