# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by start, stop and restart-rgw: the cluster's files, its processes and the S3 check.
# Sourced, not run.

# Nothing from an outer Ceph setup may reach this cluster.
unset CEPH_CONF CEPH_ARGS

# Ceph's own Python (for the rados module), not whatever python3 comes first in PATH.
# shellcheck disable=SC2034 # used by the scripts that source this file
rgw_python=/usr/bin/python3

# Whether `pid` is a daemon of the cluster in `dir`: its command line names dir's ceph.conf. So a
# PID reused by an unrelated process after the daemon ended is never signalled.
rgw_is_ours() {
  local dir=$1 pid=$2
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ -r "/proc/$pid/cmdline" ]] &&
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/ceph.conf"
}

# Ends one daemon of `dir` by its PID: SIGTERM, up to 10 s to exit, then SIGKILL.
rgw_end_pid() {
  local dir=$1 pid=$2 tick
  rgw_is_ours "$dir" "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((tick = 0; tick < 100; tick++)); do
    rgw_is_ours "$dir" "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  for ((tick = 0; tick < 50; tick++)); do
    rgw_is_ours "$dir" "$pid" || return 0
    sleep 0.1
  done
}

# The value of `key` in dir/env.
rgw_env_value() {
  local dir=$1 key=$2
  sed -n "s/^$key=//p" "$dir/env"
}

# Runs `command...` in the background in a session of its own, with its output appended to
# dir/log/NAME.out, and records its PID in dir/pids. Its own session: a signal to the process
# group of whoever started it (Ctrl-C, meson ending a test that timed out) does not reach it; it
# ends by its PID only.
rgw_spawn() {
  local dir=$1 name=$2
  shift 2
  setsid "$@" </dev/null >>"$dir/log/$name.out" 2>&1 &
  echo "$!" >>"$dir/pids"
}

# Runs radosgw for the cluster in `dir`; prints its PID.
rgw_spawn_gateway() {
  local dir=$1
  rgw_spawn "$dir" radosgw radosgw -f -c "$dir/ceph.conf" -n client.rgw
  tail -n 1 "$dir/pids"
}

# Whether a signed S3 request (list my buckets) gets 200 from `endpoint` within 2 s. The
# x-amz-content-sha256 header is required by RGW for curl's SigV4 signature to match.
rgw_s3_answers() {
  local endpoint=$1 access_key=$2 secret_key=$3 region=$4 code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
    --aws-sigv4 "aws:amz:$region:s3" --user "$access_key:$secret_key" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$endpoint/") || true
  [[ "$code" == 200 ]]
}

# Waits up to `seconds` for the gateway of `dir` to answer a signed request; fails with the
# logs' tails when it does not, or when the daemon `pid` ends meanwhile.
rgw_wait_s3() {
  local dir=$1 pid=$2 seconds=$3 endpoint access_key secret_key region
  endpoint=$(rgw_env_value "$dir" OCIREG_TEST_S3_ENDPOINT)
  access_key=$(rgw_env_value "$dir" OCIREG_TEST_S3_ACCESS_KEY)
  secret_key=$(rgw_env_value "$dir" OCIREG_TEST_S3_SECRET_KEY)
  region=$(rgw_env_value "$dir" OCIREG_TEST_S3_REGION)
  local deadline=$((SECONDS + seconds))
  until rgw_s3_answers "$endpoint" "$access_key" "$secret_key" "$region"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      rgw_fail "$dir" "radosgw (PID $pid) exited before it answered on $endpoint"
    fi
    if ((SECONDS >= deadline)); then
      rgw_fail "$dir" "no S3 answer from $endpoint within ${seconds}s"
    fi
    sleep 0.1
  done
}

# Prints `message` and the last lines of every log of `dir` to stderr, and exits with 1.
rgw_fail() {
  local dir=$1 message=$2 log
  echo "rgw: $message" >&2
  for log in "$dir"/log/*; do
    [[ -s "$log" ]] || continue
    echo "--- last lines of $log" >&2
    tail -n 15 "$log" >&2
  done
  exit 1
}
