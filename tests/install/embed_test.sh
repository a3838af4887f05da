#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# examples/embed against an installed libocireg: builds it through pkg-config, runs it on an
# ephemeral 127.0.0.1 port, pushes and pulls an image with skopeo using its API tokens, checks its
# own routes, and stops it with SIGTERM.
# Usage: embed_test.sh DESTDIR   (a tree `meson install --destdir DESTDIR` filled)
# Prints "ok - ..." per check and "N passed, N failed" last. Exits 77 (skipped) when a tool is
# missing, 1 when a check failed.
set -u

DESTDIR=$(cd "${1:?usage: embed_test.sh DESTDIR}" && pwd) || exit 1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
for tool in meson ninja pkg-config skopeo curl jq sha256sum tar gzip; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed"
    exit 77
  fi
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-embed.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
FAILED=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then
    PASSED=$((PASSED + 1)); echo "ok - $what"
  else
    FAILED=$((FAILED + 1)); echo "FAILED - $what"; return 1
  fi
}
finish() {
  echo "$PASSED passed, $FAILED failed"
  exit $((FAILED > 0))
}
same() { [[ -n $1 && $1 == "$2" ]]; }  # equal and not empty
logged() {  # logged LOG COMMAND...: runs COMMAND into LOG, shows LOG when it fails
  local log=$1
  shift
  "$@" >"$log" 2>&1 || { cat "$log"; return 1; }
}

# --- Build against the installed library only ---------------------------------------------------
PC=$(find "$DESTDIR" -name ocireg.pc -print -quit)
LIB=$(find "$DESTDIR" -name 'libocireg.so*' -print -quit)
if [[ -z $PC || -z $LIB ]]; then
  echo "no ocireg.pc or libocireg.so under $DESTDIR"
  exit 1
fi
# The sysroot makes pkg-config put DESTDIR in front of the .pc file's prefix.
PKG_CONFIG_PATH=$(dirname "$PC")
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR=$DESTDIR
check "meson setup of examples/embed finds ocireg through pkg-config" logged "$WORK/setup.log" \
  meson setup "$WORK/build" "$ROOT/examples/embed" -Dwerror=true || finish
check "examples/embed builds" logged "$WORK/build.log" ninja -C "$WORK/build" || finish
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

# --- Tokens: "dev-secret" pushes to demo/ (group dev), "read-secret" only pulls -----------------
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
cat >"$WORK/tokens" <<EOF
# sha256 of the token, user, groups
$(hash dev-secret) ci dev
$(hash read-secret) viewer
EOF

# --- A one-layer OCI image layout ---------------------------------------------------------------
add_blob() {  # add_blob LAYOUT FILE MEDIATYPE -> prints the blob's descriptor
  local digest
  digest=$(sha256sum "$2" | cut -d' ' -f1)
  mkdir -p "$1/blobs/sha256"
  cp "$2" "$1/blobs/sha256/$digest"
  jq -cn --arg t "$3" --arg d "sha256:$digest" --argjson s "$(stat -c %s "$2")" \
    '{mediaType: $t, digest: $d, size: $s}'
}
mkdir -p "$WORK/rootfs/etc" "$WORK/image"
echo "embedded" >"$WORK/rootfs/etc/hello"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$WORK/rootfs" -cf "$WORK/layer.tar" .
gzip -n -c "$WORK/layer.tar" >"$WORK/layer.tar.gz"
layer=$(add_blob "$WORK/image" "$WORK/layer.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)
jq -cn --arg id "sha256:$(sha256sum "$WORK/layer.tar" | cut -d' ' -f1)" \
  '{architecture: "amd64", os: "linux", rootfs: {type: "layers", diff_ids: [$id]}}' >"$WORK/config.json"
config=$(add_blob "$WORK/image" "$WORK/config.json" application/vnd.oci.image.config.v1+json)
jq -cn --argjson c "$config" --argjson l "$layer" '{schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json", config: $c, layers: [$l]}' >"$WORK/manifest.json"
manifest=$(add_blob "$WORK/image" "$WORK/manifest.json" application/vnd.oci.image.manifest.v1+json)
echo '{"imageLayoutVersion":"1.0.0"}' >"$WORK/image/oci-layout"
jq -cn --argjson m "$manifest" \
  '{schemaVersion: 2, manifests: [$m + {annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' \
  >"$WORK/image/index.json"
DIGEST=$(jq -r .digest <<<"$manifest")

# --- Run it -------------------------------------------------------------------------------------
: >"$WORK/out"
LD_LIBRARY_PATH=$(dirname "$LIB") "$WORK/build/embedded-registry" "$WORK/data" 0 "$WORK/tokens" \
  >"$WORK/out" 2>"$WORK/err" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 200); do
  PORT=$(head -n1 "$WORK/out")
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
check "embedded-registry prints its port" [ -n "$PORT" ] || { cat "$WORK/err"; finish; }
REG=127.0.0.1:$PORT
echo "# embedded-registry on $REG"

# skopeo must not read the machine's credentials or policies.
export REGISTRY_AUTH_FILE=$WORK/auth.json
echo '{}' >"$REGISTRY_AUTH_FILE"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/policy.json"
SKOPEO=(skopeo --policy "$WORK/policy.json")
push() {  # push TOKEN: the layout to demo/app:v1
  "${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false --dest-creds "token:$1" \
    "oci:$WORK/image:v1" "docker://$REG/demo/app:v1"
}
fails_with() {  # fails_with PATTERN COMMAND...: COMMAND fails and says PATTERN
  local pattern=$1 output
  shift
  if output=$("$@" 2>&1); then return 1; fi
  grep -qiE "$pattern" <<<"$output" || { echo "$output"; return 1; }
}

check "its own route GET /hello answers" \
  same "$(curl -sf "http://$REG/hello")" "hello from the embedding program"
check "its own route GET /status answers" \
  same "$(curl -sf "http://$REG/status" | jq -r 'has("in_flight")')" true
check "anonymous GET /v2/ is challenged for a login" \
  same "$(curl -s -o /dev/null -w '%{http_code} %header{www-authenticate}' "http://$REG/v2/")" \
  '401 Basic realm="embedded-registry"'
check "a push with a wrong token fails (401)" fails_with 'unauthorized|authentication required' \
  push wrong-secret
check "a push with a read-only token fails (403)" fails_with 'denied' push read-secret
check "a push with a dev token succeeds" push dev-secret
check "the pushed manifest has the layout's digest" same "$("${SKOPEO[@]}" inspect \
  --tls-verify=false --creds token:read-secret --format '{{.Digest}}' "docker://$REG/demo/app:v1")" "$DIGEST"
check "a read-only token pulls it back" "${SKOPEO[@]}" copy -q --preserve-digests \
  --src-tls-verify=false --src-creds token:read-secret "docker://$REG/demo/app:v1" "oci:$WORK/back:v1"
check "the pulled image keeps its digest" \
  same "$(jq -r '.manifests[0].digest' "$WORK/back/index.json")" "$DIGEST"
check "the access log names the token's user" grep -q ' ci "PUT /v2/demo/app/manifests/v1" 201' "$WORK/err"
check "the storage directory is an OCI layout of the repository" \
  same "$(jq -r '.manifests[0].digest' "$WORK/data/demo/app/index.json")" "$DIGEST"

# --- Stop it by its PID -------------------------------------------------------------------------
kill -TERM "$SERVER_PID"
for _ in $(seq 1 200); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if kill -0 "$SERVER_PID" 2>/dev/null; then
  check "SIGTERM stops it within 10 s" false
else
  wait "$SERVER_PID"
  status=$?
  SERVER_PID=
  check "SIGTERM stops it with exit status 0" [ "$status" -eq 0 ]
fi
finish
