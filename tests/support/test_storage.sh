# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# The storage of the ocireg-serve configurations that shell tests write: a directory, or, when
# OCIREG_TEST_STORAGE=s3 (the tests of suite s3), a prefix of a bucket of the S3 test gateway
# whose OCIREG_TEST_S3_* variables tests/support/rgw/with-gateway exports. Sourced by testlib.sh.
#
#   prepare_test_storage          on S3, makes the bucket of this run (with a name no other
#                                 process uses); call it once, before storage_toml. Returns 1 when
#                                 it cannot, saying why on stderr.
#   storage_toml ROOT [LINE...]   prints the [storage] table for the directory ROOT, with each LINE
#                                 as a further key of it; on S3 also the [storage.s3] table of a
#                                 prefix that stands for ROOT (the same for the same ROOT). Print
#                                 it after the keys of the file's top level.
#   test_storage_is_s3            true when the configurations use S3
#   s3_curl ARGS...               curl signed for the gateway
#   s3_object_url ROOT PATH       the URL of the object at driver path PATH under ROOT's prefix

TEST_S3_BUCKET=

test_storage_is_s3() { [[ ${OCIREG_TEST_STORAGE:-} == s3 ]]; }

prepare_test_storage() {
  test_storage_is_s3 || return 0
  local variable
  for variable in OCIREG_TEST_S3_ENDPOINT OCIREG_TEST_S3_ACCESS_KEY OCIREG_TEST_S3_SECRET_KEY; do
    if [[ -z ${!variable:-} ]]; then
      echo "OCIREG_TEST_STORAGE=s3 needs the S3 test gateway, and $variable is not set" \
        "(run under tests/support/rgw/with-gateway)" >&2
      return 1
    fi
  done
  local bucket
  bucket="ocireg-sh-$$-$RANDOM$RANDOM"
  # RGW accepts curl's signature only with an x-amz-content-sha256 header.
  if ! s3_curl -X PUT "$OCIREG_TEST_S3_ENDPOINT/$bucket" >&2; then
    echo "cannot create bucket $bucket at $OCIREG_TEST_S3_ENDPOINT" >&2
    return 1
  fi
  TEST_S3_BUCKET=$bucket
}

# curl signed for the S3 test gateway (RGW accepts curl's signature only with an
# x-amz-content-sha256 header), before the caller's arguments.
s3_curl() {
  curl --silent --show-error --fail-with-body --max-time 60 \
    --aws-sigv4 "aws:amz:${OCIREG_TEST_S3_REGION:-default}:s3" \
    --user "$OCIREG_TEST_S3_ACCESS_KEY:$OCIREG_TEST_S3_SECRET_KEY" \
    -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# The URL of the object at driver path PATH of the storage that stands for ROOT.
s3_object_url() {  # s3_object_url ROOT PATH
  echo "$OCIREG_TEST_S3_ENDPOINT/$TEST_S3_BUCKET/$(s3_prefix "$1")/$2"
}

# The key prefix that stands for ROOT: its path without the leading '/', other characters than
# [A-Za-z0-9._-] as '-'.
s3_prefix() {  # s3_prefix ROOT
  local prefix=${1#/}
  echo "${prefix//[^A-Za-z0-9._-]/-}"
}

storage_toml() {
  local root=$1
  shift
  echo "[storage]"
  echo "root = \"$root\""
  if (($# > 0)); then printf '%s\n' "$@"; fi
  test_storage_is_s3 || return 0
  if [[ -z $TEST_S3_BUCKET ]]; then
    # Made here, in a command substitution, the bucket would be forgotten with the subshell.
    echo "storage_toml: call prepare_test_storage first" >&2
    return 1
  fi
  local prefix
  prefix=$(s3_prefix "$root")
  cat <<TOML
driver = "s3"
[storage.s3]
endpoint = "$OCIREG_TEST_S3_ENDPOINT"
region = "${OCIREG_TEST_S3_REGION:-default}"
bucket = "$TEST_S3_BUCKET"
prefix = "$prefix"
path_style = true
access_key = "$OCIREG_TEST_S3_ACCESS_KEY"
secret_key = "$OCIREG_TEST_S3_SECRET_KEY"
TOML
}
