// SPDX-License-Identifier: Apache-2.0
// The chain of sources of the S3 keys (config/s3_credentials.h).
#include "config/s3_credentials.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "config/aws_credentials_file.h"

namespace ocireg::internal {
namespace {

// The variable's value; "" when it is unset.
std::string Environment(const char* name) {
  const char* value = std::getenv(name);  // LoadConfig's contract: no concurrent setenv
  return value == nullptr ? std::string() : std::string(value);
}

// The keys of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN), when set.
Result<std::optional<S3Credentials>> FromEnvironment() {
  S3Credentials keys{Environment("AWS_ACCESS_KEY_ID"), Environment("AWS_SECRET_ACCESS_KEY"),
                     Environment("AWS_SESSION_TOKEN")};
  if (keys.access_key_id.empty() && keys.secret_access_key.empty()) {
    return std::optional<S3Credentials>();
  }
  if (keys.secret_access_key.empty()) {
    return InvalidArgument(
        "AWS_ACCESS_KEY_ID is set in the environment without AWS_SECRET_ACCESS_KEY");
  }
  if (keys.access_key_id.empty()) {
    return InvalidArgument(
        "AWS_SECRET_ACCESS_KEY is set in the environment without AWS_ACCESS_KEY_ID");
  }
  return std::optional<S3Credentials>(std::move(keys));
}

std::string FirstSet(std::initializer_list<std::string> candidates) {
  for (const std::string& candidate : candidates) {
    if (!candidate.empty()) return candidate;
  }
  return {};
}

// The file `source` names, else $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials (""
// without HOME).
std::string CredentialsFilePath(const S3CredentialsSource& source) {
  const std::string home = Environment("HOME");
  return FirstSet({source.credentials_file, Environment("AWS_SHARED_CREDENTIALS_FILE"),
                   home.empty() ? std::string() : home + "/.aws/credentials"});
}

Result<S3Credentials> FromCredentialsFile(const S3CredentialsSource& source) {
  const std::string path = CredentialsFilePath(source);
  if (path.empty()) {
    return InvalidArgument(
        "credentials file: none named, AWS_SHARED_CREDENTIALS_FILE and HOME are unset");
  }
  const std::string profile = FirstSet({source.profile, Environment("AWS_PROFILE"), "default"});
  Result<S3Credentials> keys = ReadAwsCredentialsFile(path, profile);
  if (!keys.ok()) return InvalidArgument("credentials file " + keys.status().message());
  return keys;
}

}  // namespace

Result<S3Credentials> ResolveS3Credentials(const StorageConfig& storage) {
  if (!storage.s3.credentials.access_key_id.empty()) return storage.s3.credentials;
  // A file or profile named in the configuration is the operator's choice for this server, and
  // wins over keys that happen to be in its environment (as --profile does for the AWS CLI).
  if (storage.s3_credentials != S3CredentialsSource{}) {
    return FromCredentialsFile(storage.s3_credentials);
  }
  Result<std::optional<S3Credentials>> environment = FromEnvironment();
  if (!environment.ok()) return environment.status();
  if (*environment) return std::move(**environment);
  Result<S3Credentials> keys = FromCredentialsFile(storage.s3_credentials);
  if (keys.ok()) return keys;
  return InvalidArgument(
      fmt::format("no S3 keys: none in [storage.s3] (access_key, secret_key) or the environment "
                  "(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), and {}",
                  keys.status().message()));
}

}  // namespace ocireg::internal
