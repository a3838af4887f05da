// SPDX-License-Identifier: Apache-2.0
// ResolveS3Credentials: the S3 keys a configuration leads to, from the file, the environment or
// an AWS shared credentials file, in the order LoadConfig documents.
#pragma once

#include "ocireg/config.h"
#include "ocireg/status.h"
#include "ocireg/storage/s3.h"

namespace ocireg::internal {

// The keys for `storage` (driver "s3", as ParseConfig left it): its own keys when it has them;
// else the credentials file and profile it names; else AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN; else the profile $AWS_PROFILE (else "default") of
// $AWS_SHARED_CREDENTIALS_FILE (else $HOME/.aws/credentials).
// Errors: kInvalidArgument without the config's file and line (the caller adds them): half a key
// pair in the environment, or a credentials file that cannot be read, lacks the profile or the
// profile's keys (naming the file and the profile). Never quotes a key. Reads the environment.
Result<S3Credentials> ResolveS3Credentials(const StorageConfig& storage);

}  // namespace ocireg::internal
