# SPDX-License-Identifier: Apache-2.0
# Shell functions that start registries on 127.0.0.1 as child processes, for the compliance test
# and scripts/compliance-report. Source it, set WORK to a scratch directory, and call
# stop_registries on exit (e.g. from a trap).
#
#   start_ocireg PATH/TO/ocireg-serve     sets OCIREG_PORT (and OCIREG_PID); its storage is a
#                                         directory, or a prefix in the S3 test gateway with
#                                         OCIREG_TEST_STORAGE=s3 (../support/test_storage.sh)
#   start_distribution                    sets DISTRIBUTION_PORT (and DISTRIBUTION_PID); needs
#                                         docker-registry (CNCF distribution) on PATH
#   stop_registries                       stops both, by PID

# shellcheck source=../support/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"

OCIREG_PID=
DISTRIBUTION_PID=

# A TCP port that was free a moment ago (docker-registry cannot pick its own).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits (bounded: about 10 s) until GET URL answers at all; fails if PID exits first.
wait_for_http() {
  local url=$1 pid=$2
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || return 1
    python3 - "$url" <<'PY' 2>/dev/null && return 0
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2)
except urllib.error.HTTPError:
    pass  # any HTTP answer means the server is up
PY
    sleep 0.05
  done
  return 1
}

start_ocireg() {
  local serve=$1 dir=$WORK/ocireg
  mkdir -p "$dir"
  prepare_test_storage || return 1
  cat >"$dir/ocireg.toml" <<TOML
[listen]
address = "127.0.0.1"
port = 0
[log]
access_log = false
$(storage_toml "$dir/data" 'gc_interval = "0s"')
TOML
  "$serve" "$dir/ocireg.toml" >"$dir/out.log" 2>"$dir/err.log" &
  OCIREG_PID=$!
  if ! OCIREG_PORT=$(wait_for_listening "$OCIREG_PID" "$dir/err.log"); then
    echo "ocireg-serve did not start:" >&2
    cat "$dir/err.log" >&2
    return 1
  fi
}

start_distribution() {
  local dir=$WORK/distribution attempt
  mkdir -p "$dir/data"
  # The port is chosen before the registry binds it; another process may win it, so retry.
  for attempt in 1 2 3; do
    DISTRIBUTION_PORT=$(free_port)
    cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$DISTRIBUTION_PORT
YAML
    docker-registry serve "$dir/config.yml" >"$dir/out.log" 2>"$dir/err.log" &
    DISTRIBUTION_PID=$!
    if wait_for_http "http://127.0.0.1:$DISTRIBUTION_PORT/v2/" "$DISTRIBUTION_PID"; then
      return 0
    fi
    kill -TERM "$DISTRIBUTION_PID" 2>/dev/null || true
    wait "$DISTRIBUTION_PID" 2>/dev/null || true
    DISTRIBUTION_PID=
    echo "docker-registry did not start (attempt $attempt):" >&2
    tail -n 5 "$dir/err.log" >&2
  done
  return 1
}

stop_registries() {
  local pid
  for pid in $OCIREG_PID $DISTRIBUTION_PID; do
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  OCIREG_PID=
  DISTRIBUTION_PID=
  return 0
}
