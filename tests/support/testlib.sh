# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared pieces of the shell tests: tool checks, check counting, and starting ocireg-serve.
# Source it; the sourcing script keeps its own cleanup trap.
#
#   require_tools skopeo curl          exits 77 (skipped) when one is missing
#   check "what" command args...       runs the command; counts and prints ok/FAILED
#   start_ocireg_serve SERVE CONFIG LOG_STEM
#                                      starts SERVE CONFIG in the background, stderr to
#                                      LOG_STEM.err; sets SERVER_PID and PORT (from its
#                                      "listening on" line); returns 1 if it never listens
# and, from test_storage.sh, prepare_test_storage and storage_toml: the [storage] of a
# configuration, a directory or (OCIREG_TEST_STORAGE=s3) a prefix in the S3 test gateway.

# shellcheck source=test_storage.sh
source "$(dirname "${BASH_SOURCE[0]}")/test_storage.sh"

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); echo "ok - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAILED - $1"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

require_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "SKIP: $tool is not installed"
      exit 77
    fi
  done
}

# Waits (bounded: about 10 s) for the "listening on 127.0.0.1:PORT" line of a server started as
# PID with its stderr in LOG; prints the port.
wait_for_listening() {  # wait_for_listening PID LOG
  local port
  for _ in $(seq 1 200); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$2" | head -n1)
    if [[ -n $port ]]; then
      echo "$port"
      return 0
    fi
    kill -0 "$1" 2>/dev/null || break
    sleep 0.05
  done
  return 1
}

start_ocireg_serve() {  # start_ocireg_serve SERVE CONFIG LOG_STEM
  # Emptied here, not only by the child's redirection: the child may run it after the wait below
  # has read an earlier server's "listening on" line from the same log, with that server's port.
  : >"$3.out"
  : >"$3.err"
  "$1" "$2" >"$3.out" 2>"$3.err" &
  SERVER_PID=$!
  if ! PORT=$(wait_for_listening "$SERVER_PID" "$3.err"); then
    echo "server did not start:"
    cat "$3.err"
    return 1
  fi
}
