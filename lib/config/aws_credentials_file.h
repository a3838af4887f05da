// SPDX-License-Identifier: Apache-2.0
// The AWS shared credentials file (~/.aws/credentials): an INI file of [profile] sections whose
// keys aws_access_key_id, aws_secret_access_key and aws_session_token give S3 keys.
#pragma once

#include <string>
#include <string_view>

#include "ocireg/status.h"
#include "ocireg/storage/s3.h"

namespace ocireg::internal {

// The keys of `profile` in `text`, the contents of the file at `path` (named in messages).
// Lines are "[profile]", "key = value", blank, or comments starting with '#' or ';'; key names
// are case-insensitive, other keys are ignored. Errors: kInvalidArgument naming `path` (and the
// line, for a line that is none of those), `profile` when it is missing or lacks either key.
// No message quotes a value or a line of the file, which may hold a key.
Result<S3Credentials> ParseAwsCredentials(std::string_view text, std::string_view path,
                                          std::string_view profile);

// ParseAwsCredentials of the file at `path`. kInvalidArgument also when it cannot be read.
Result<S3Credentials> ReadAwsCredentialsFile(const std::string& path, std::string_view profile);

}  // namespace ocireg::internal
