// SPDX-License-Identifier: Apache-2.0
// The rules S3Options must follow (endpoint URL, bucket name, key prefix, part size), in one
// place for the configuration file, which reports each at its key, and for NewS3Driver.
#pragma once

#include <cstdint>
#include <string_view>

#include "ocireg/status.h"
#include "ocireg/storage/s3.h"

namespace ocireg::internal {

// S3's bounds on the size of one part of a multipart upload (the last part may be smaller).
inline constexpr uint64_t kS3MinPartSize = uint64_t{5} << 20;  // 5 MiB
inline constexpr uint64_t kS3MaxPartSize = uint64_t{5} << 30;  // 5 GiB

// Each returns kInvalidArgument saying what is wrong with the value, without naming the field.

// An http:// or https:// URL of a host and an optional port: no user, path, query or fragment.
// A URL carrying a user or password is refused without being quoted back, since it may hold a
// secret.
Status CheckS3Endpoint(std::string_view endpoint);

// S3's bucket naming rules: 3 to 63 characters of lowercase letters, digits, '.' and '-',
// starting and ending with a letter or a digit, with no two '.' in a row.
Status CheckS3BucketName(std::string_view bucket);

// Empty, or '/'-separated components with no leading or trailing '/', no empty component, no "."
// or "..", and no control characters.
Status CheckS3Prefix(std::string_view prefix);

Status CheckS3PartSize(uint64_t part_size);

// Every rule above and the others of S3Options (a region, both keys or neither, a session token
// only with keys, timeouts and retry delays above zero, at least one idle connection), each
// problem prefixed by its field: "bucket: ...".
Status CheckS3Options(const S3Options& options);

}  // namespace ocireg::internal
