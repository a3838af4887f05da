// SPDX-License-Identifier: Apache-2.0
// The [storage.s3] table: the bucket of the S3 driver, its keys or where to find them, and the
// client's part size, timeouts and retries. The rules of the values themselves are the driver's
// (storage/s3/option_checks.h); this file reports them at their keys.
#include "config/schema.h"
#include "storage/s3/option_checks.h"

namespace ocireg::config_parse {
namespace {

using std::chrono::milliseconds;

// A non-empty string that `check` accepts.
Result<std::string> ReadChecked(const toml::node& node, Status (*check)(std::string_view)) {
  Result<std::string> value = ReadNonEmptyString(node);
  if (!value.ok()) return value;
  OCIREG_RETURN_IF_ERROR(check(*value));
  return value;
}

Result<std::string> ReadPrefix(const toml::node& node) {
  Result<std::string> value = ReadString(node);
  if (!value.ok()) return value;
  OCIREG_RETURN_IF_ERROR(internal::CheckS3Prefix(*value));
  return value;
}

Result<uint64_t> ReadPartSize(const toml::node& node) {
  Result<uint64_t> size = ReadSize(node);
  if (!size.ok()) return size;
  OCIREG_RETURN_IF_ERROR(internal::CheckS3PartSize(*size));
  return size;
}

// A key of the credentials, read into `member` of S3Credentials: the file's names ("access_key")
// are not the members', so OCIREG_FIELD cannot spell them.
template <std::string S3Credentials::*member>
FieldSpec KeyField(std::string_view key) {
  return {key, [](const toml::node& n, Config& c) {
            return Assign(ReadString(n), c.storage.s3.credentials.*member);
          }};
}

// Messages name the keys, never their values.
Status CheckS3(const Config& c) {
  const S3Options& s3 = c.storage.s3;
  if (s3.endpoint.empty()) return InvalidArgument("endpoint is required");
  if (s3.bucket.empty()) return InvalidArgument("bucket is required");
  const S3Credentials& keys = s3.credentials;
  if (!keys.access_key_id.empty() && keys.secret_access_key.empty()) {
    return InvalidArgument("access_key is set without secret_key: set both or neither");
  }
  if (keys.access_key_id.empty() && !keys.secret_access_key.empty()) {
    return InvalidArgument("secret_key is set without access_key: set both or neither");
  }
  if (keys.access_key_id.empty() && !keys.session_token.empty()) {
    return InvalidArgument("session_token needs access_key and secret_key");
  }
  if (!keys.access_key_id.empty() && c.storage.s3_credentials != S3CredentialsSource{}) {
    return InvalidArgument(
        "credentials_file and profile are not read when access_key and secret_key are set: "
        "remove one or the other");
  }
  return Status::Ok();
}

}  // namespace

std::vector<SectionSpec> StorageS3Sections() {
  return {{"storage.s3",
           {OCIREG_FIELD(storage.s3, endpoint, ReadChecked(n, internal::CheckS3Endpoint)),
            OCIREG_FIELD(storage.s3, region, ReadNonEmptyString(n)),
            OCIREG_FIELD(storage.s3, bucket, ReadChecked(n, internal::CheckS3BucketName)),
            OCIREG_FIELD(storage.s3, prefix, ReadPrefix(n)),
            OCIREG_FIELD(storage.s3, path_style, ReadBool(n)),
            KeyField<&S3Credentials::access_key_id>("access_key"),
            KeyField<&S3Credentials::secret_access_key>("secret_key"),
            KeyField<&S3Credentials::session_token>("session_token"),
            OCIREG_FIELD(storage.s3_credentials, credentials_file, ReadString(n)),
            OCIREG_FIELD(storage.s3_credentials, profile, ReadString(n)),
            OCIREG_FIELD(storage.s3, ca_file, ReadString(n)),
            OCIREG_FIELD(storage.s3, part_size, ReadPartSize(n)),
            OCIREG_FIELD(storage.s3, connect_timeout, ReadFineDuration(n, milliseconds(1))),
            OCIREG_FIELD(storage.s3, idle_timeout, ReadFineDuration(n, milliseconds(1))),
            OCIREG_FIELD(storage.s3, max_retries, ReadInteger<uint32_t>(n)),
            OCIREG_FIELD(storage.s3, retry_base_delay, ReadFineDuration(n, milliseconds(1))),
            OCIREG_FIELD(storage.s3, max_retry_time, ReadFineDuration(n)),
            OCIREG_FIELD(storage.s3, max_idle_connections, ReadInteger<uint32_t>(n, 1))},
           nullptr,
           nullptr,
           CheckS3}};
}

}  // namespace ocireg::config_parse
