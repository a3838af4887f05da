#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Peak resident memory of ocireg-serve while one large blob is pushed and pulled.
#
# Usage: bench/peak_memory.sh OCIREG_SERVE [SIZE_MIB...]
# For each size (default: 1024 4096) it starts a fresh server on 127.0.0.1 over a temporary
# storage root, pushes a blob of that size monolithically with curl (streamed from disk), pulls it
# back, and reports the server's peak resident set (VmHWM) after start, after the push and after
# the pull, as text and as one JSON line per size. Needs curl, python3 and free disk space of
# twice the largest size.
set -euo pipefail

serve=$(realpath "$1")
shift
sizes=("$@")
[[ ${#sizes[@]} -gt 0 ]] || sizes=(1024 4096)

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

peak_kib() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }

for size in "${sizes[@]}"; do
  port=$(free_port)
  rm -rf "$work/data"
  cat >"$work/config.toml" <<CONFIG
[listen]
address = "127.0.0.1"
port = $port
[storage]
root = "$work/data"
[log]
access_log = false
CONFIG
  "$serve" "$work/config.toml" 2>"$work/server.log" &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && break
    sleep 0.1
  done
  start_kib=$(peak_kib)

  head -c "${size}M" /dev/zero >"$work/blob"
  digest="sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)"
  location=$(curl -fsS -X POST -D - -o /dev/null "http://127.0.0.1:$port/v2/bench/blobs/uploads/" |
    tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
  [[ "$location" == http* ]] || location="http://127.0.0.1:$port$location"
  push_start=$(date +%s.%N)
  curl -fsS -X PUT -T "$work/blob" -H 'Content-Type: application/octet-stream' \
    "$location$([[ "$location" == *\?* ]] && echo '&' || echo '?')digest=$digest" -o /dev/null
  push_end=$(date +%s.%N)
  push_kib=$(peak_kib)
  rm -f "$work/blob"

  pull_start=$(date +%s.%N)
  pulled=$(curl -fsS "http://127.0.0.1:$port/v2/bench/blobs/$digest" | sha256sum | cut -d' ' -f1)
  pull_end=$(date +%s.%N)
  pull_kib=$(peak_kib)
  [[ "sha256:$pulled" == "$digest" ]] || { echo "pulled content differs" >&2; exit 1; }

  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=

  push_s=$(awk -v a="$push_start" -v b="$push_end" 'BEGIN {print b - a}')
  pull_s=$(awk -v a="$pull_start" -v b="$pull_end" 'BEGIN {print b - a}')
  printf '%6d MiB blob: peak RSS after start %d KiB, after push %d KiB, after pull %d KiB (push %.1f s, pull %.1f s)\n' \
    "$size" "$start_kib" "$push_kib" "$pull_kib" "$push_s" "$pull_s"
  printf '{"size_mib":%d,"rss_start_kib":%d,"rss_push_kib":%d,"rss_pull_kib":%d,"push_s":%.2f,"pull_s":%.2f}\n' \
    "$size" "$start_kib" "$push_kib" "$pull_kib" "$push_s" "$pull_s"
done
