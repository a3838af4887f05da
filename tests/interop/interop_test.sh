#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Interoperability: a real ocireg-serve on an ephemeral 127.0.0.1 port, driven by skopeo and curl.
# Usage: interop_test.sh PATH/TO/ocireg-serve
# With OCIREG_TEST_STORAGE=s3 (test interop-s3) the server keeps its data in the S3 test gateway
# (tests/support/test_storage.sh).
# Exits 77 (skipped) when skopeo, curl or jq are missing.
set -u

SERVE=${1:?usage: interop_test.sh PATH/TO/ocireg-serve}
# shellcheck source=../support/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
require_tools skopeo curl jq sha256sum tar gzip

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-interop.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# skopeo must not read the machine's credentials or policies.
export REGISTRY_AUTH_FILE=$WORK/auth.json
echo '{}' >"$REGISTRY_AUTH_FILE"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/policy.json"
SKOPEO=(skopeo --policy "$WORK/policy.json")
TLS=(--src-tls-verify=false --dest-tls-verify=false)

sha256() { sha256sum "$1" | cut -d' ' -f1; }
same() { [[ -n $1 && $1 == "$2" ]]; }  # equal and not empty

# --- Server ---------------------------------------------------------------------------------------
# Starts ocireg-serve on CONFIG; sets SERVER_PID and PORT.
start_server() { start_ocireg_serve "$SERVE" "$1" "$2"; }

write_config() {  # write_config FILE ROOT [FORMAT] [PORT]
  cat >"$1" <<TOML
[listen]
address = "127.0.0.1"
port = ${4:-0}
[limits]
max_connections = 32
[log]
format = "${3:-text}"
$(storage_toml "$2" 'gc_interval = "0s"')
TOML
}

# --- An OCI image layout built by hand --------------------------------------------------------------
# add_blob LAYOUT FILE MEDIATYPE -> prints a descriptor JSON and stores the blob.
add_blob() {
  local layout=$1 file=$2 type=$3 digest size
  digest=$(sha256 "$file")
  size=$(stat -c %s "$file")
  mkdir -p "$layout/blobs/sha256"
  cp "$file" "$layout/blobs/sha256/$digest"
  jq -cn --arg t "$type" --arg d "sha256:$digest" --argjson s "$size" \
    '{mediaType: $t, digest: $d, size: $s}'
}

# make_image LAYOUT ARCH LAYERS -> prints the image manifest's descriptor (with platform).
make_image() {
  local layout=$1 arch=$2 layers=$3
  local tmp=$WORK/build-$arch-$RANDOM
  mkdir -p "$tmp"
  local layer_descs=() diff_ids=()
  for i in $(seq 1 "$layers"); do
    mkdir -p "$tmp/rootfs$i/etc"
    echo "layer $i of $arch" >"$tmp/rootfs$i/etc/file$i"
    head -c $((20000 * i)) /dev/urandom >"$tmp/rootfs$i/etc/random$i"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/rootfs$i" -cf "$tmp/layer$i.tar" .
    diff_ids+=("sha256:$(sha256 "$tmp/layer$i.tar")")
    gzip -n -c "$tmp/layer$i.tar" >"$tmp/layer$i.tar.gz"
    layer_descs+=("$(add_blob "$layout" "$tmp/layer$i.tar.gz" application/vnd.oci.image.layer.v1.tar+gzip)")
  done
  jq -cn --arg arch "$arch" --args '{architecture: $arch, os: "linux",
      rootfs: {type: "layers", diff_ids: $ARGS.positional},
      config: {Cmd: ["/bin/true"]}}' "${diff_ids[@]}" >"$tmp/config.json"
  local config_desc
  config_desc=$(add_blob "$layout" "$tmp/config.json" application/vnd.oci.image.config.v1+json)
  printf '%s\n' "${layer_descs[@]}" | jq -cs --argjson c "$config_desc" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: $c, layers: .}' >"$tmp/manifest.json"
  add_blob "$layout" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json |
    jq -c --arg arch "$arch" '. + {platform: {architecture: $arch, os: "linux"}}'
}

# write_index LAYOUT TAG DESCRIPTOR: the layout's index.json names DESCRIPTOR as TAG.
write_index() {
  echo '{"imageLayoutVersion":"1.0.0"}' >"$1/oci-layout"
  jq -cn --arg tag "$2" --argjson d "$3" \
    '{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": $tag}}]}' \
    >"$1/index.json"
}

# The digest index.json of LAYOUT gives for TAG.
layout_digest() {
  jq -r --arg tag "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | .digest' "$1/index.json"
}
same_blobs() { diff <(ls "$1/blobs/sha256" | sort) <(ls "$2/blobs/sha256" | sort) >/dev/null; }

# --- The run ---------------------------------------------------------------------------------------
mkdir -p "$WORK/src"
image_desc=$(make_image "$WORK/src" amd64 3)
write_index "$WORK/src" v1 "$image_desc"
image_digest=$(jq -r .digest <<<"$image_desc")

prepare_test_storage || exit 1
write_config "$WORK/serve.toml" "$WORK/data" json
start_server "$WORK/serve.toml" "$WORK/serve" || exit 1
REG=127.0.0.1:$PORT
echo "# ocireg-serve on $REG"

# skopeo copy of a three-layer image in, and back out, digests unchanged.
check "skopeo copy oci -> registry" \
  "${SKOPEO[@]}" copy -q --preserve-digests "${TLS[@]}" "oci:$WORK/src:v1" "docker://$REG/interop/app:v1"
check "registry manifest digest equals the layout's" \
  same "$("${SKOPEO[@]}" inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/interop/app:v1")" "$image_digest"
check "skopeo copy registry -> oci" \
  "${SKOPEO[@]}" copy -q --preserve-digests "${TLS[@]}" "docker://$REG/interop/app:v1" "oci:$WORK/back:v1"
check "round trip keeps the manifest digest" same "$(layout_digest "$WORK/back" v1)" "$image_digest"
check "round trip keeps every blob" same_blobs "$WORK/src" "$WORK/back"
check "raw manifest bytes are identical" \
  cmp -s <("${SKOPEO[@]}" inspect --raw --tls-verify=false "docker://$REG/interop/app:v1") \
         "$WORK/src/blobs/sha256/${image_digest#sha256:}"

# Between two repositories of the registry.
check "skopeo copy between repositories" \
  "${SKOPEO[@]}" copy -q --preserve-digests "${TLS[@]}" "docker://$REG/interop/app:v1" "docker://$REG/other/copy:v1"
check "the copy has the same digest" \
  same "$("${SKOPEO[@]}" inspect --tls-verify=false --format '{{.Digest}}' "docker://$REG/other/copy:v1")" "$image_digest"

# A multi-architecture index.
mkdir -p "$WORK/multi"
amd=$(make_image "$WORK/multi" amd64 2)
arm=$(make_image "$WORK/multi" arm64 1)
jq -cn --argjson a "$amd" --argjson b "$arm" \
  '{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [$a, $b]}' >"$WORK/index.json"
index_desc=$(add_blob "$WORK/multi" "$WORK/index.json" application/vnd.oci.image.index.v1+json)
write_index "$WORK/multi" multi "$index_desc"
index_digest=$(jq -r .digest <<<"$index_desc")
check "skopeo copy --all of an index" \
  "${SKOPEO[@]}" copy -q --all --preserve-digests "${TLS[@]}" "oci:$WORK/multi:multi" "docker://$REG/interop/multi:latest"
check "the index keeps its digest" \
  same "$(curl -sfI -H 'Accept: application/vnd.oci.image.index.v1+json' "http://$REG/v2/interop/multi/manifests/latest" |
          tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')" "$index_digest"
check "the index is served with its media type" \
  test "$(curl -s -o /dev/null -w '%{content_type}' "http://$REG/v2/interop/multi/manifests/latest")" = "application/vnd.oci.image.index.v1+json"
check "skopeo inspect picks the arm64 image" \
  test "$("${SKOPEO[@]}" inspect --tls-verify=false --override-arch arm64 --format '{{.Architecture}}' "docker://$REG/interop/multi:latest")" = arm64
check "skopeo copy --all back out" \
  "${SKOPEO[@]}" copy -q --all --preserve-digests "${TLS[@]}" "docker://$REG/interop/multi:latest" "oci:$WORK/multi-back:multi"
check "the index round trip keeps every blob" same_blobs "$WORK/multi" "$WORK/multi-back"

# list-tags, inspect, delete.
check "skopeo copy a second tag" \
  "${SKOPEO[@]}" copy -q --preserve-digests "${TLS[@]}" "oci:$WORK/src:v1" "docker://$REG/interop/app:v2"
check "skopeo list-tags" \
  test "$("${SKOPEO[@]}" list-tags --tls-verify=false "docker://$REG/interop/app" | jq -c .Tags)" = '["v1","v2"]'
check "skopeo inspect reports the layers" \
  test "$("${SKOPEO[@]}" inspect --tls-verify=false "docker://$REG/interop/app:v1" | jq '.Layers | length')" = 3
check "skopeo delete" "${SKOPEO[@]}" delete --tls-verify=false "docker://$REG/other/copy:v1"
check "a deleted image is gone" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/other/copy/manifests/$image_digest")" = 404

# Uploads with curl: monolithic, chunked, streamed, large (curl sends Expect: 100-continue).
head -c 300000 /dev/urandom >"$WORK/blob"
blob_digest=sha256:$(sha256 "$WORK/blob")
check "curl monolithic POST is 201" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
          --data-binary @"$WORK/blob" "http://$REG/v2/curl/mono/blobs/uploads/?digest=$blob_digest")" = 201
check "curl reads the blob back intact" \
  cmp -s <(curl -sf "http://$REG/v2/curl/mono/blobs/$blob_digest") "$WORK/blob"

location=$(curl -s -D - -o /dev/null -X POST "http://$REG/v2/curl/chunks/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
head -c 100000 "$WORK/blob" >"$WORK/part1"
tail -c +100001 "$WORK/blob" >"$WORK/part2"
patch_status=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/octet-stream' \
  -H 'Content-Range: 0-99999' --data-binary @"$WORK/part1" "http://$REG$location")
check "curl PATCH chunk is 202" test "$patch_status" = 202
check "curl out-of-order chunk is 416" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Range: 5-9' --data-binary 01234 "http://$REG$location")" = 416
check "curl closing PUT with the last chunk is 201" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/octet-stream' \
          -H 'Content-Range: 100000-299999' --data-binary @"$WORK/part2" "http://$REG$location?digest=$blob_digest")" = 201
check "the chunked blob is intact" cmp -s <(curl -sf "http://$REG/v2/curl/chunks/blobs/$blob_digest") "$WORK/blob"

location=$(curl -s -D - -o /dev/null -X POST "http://$REG/v2/curl/stream/blobs/uploads/" | tr -d '\r' | sed -n 's/^Location: //Ip')
check "curl PATCH with chunked transfer encoding is 202" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H 'Transfer-Encoding: chunked' \
          --data-binary @"$WORK/blob" "http://$REG$location")" = 202
check "curl empty closing PUT is 201" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "http://$REG$location?digest=$blob_digest")" = 201

head -c 3000000 /dev/urandom >"$WORK/large"
large_digest=sha256:$(sha256 "$WORK/large")
check "curl large PUT through Expect: 100-continue is 201" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @"$WORK/large" \
          -H 'Content-Type: application/octet-stream' "http://$REG/v2/curl/large/blobs/uploads/?digest=$large_digest")" = 201
check "curl ranged GET" test "$(curl -s -r 10-19 "http://$REG/v2/curl/large/blobs/$large_digest" | wc -c)" = 10

# The access log is JSON lines with the documented fields.
check "access log lines are JSON with every field" \
  jq -e -s 'length > 10 and all(.[]; has("time") and has("remote_addr") and .user == "-" and
             has("method") and has("path") and (.status | type) == "number" and has("bytes") and
             has("duration_ms"))' "$WORK/serve.out" >/dev/null

# SIGTERM stops it cleanly.
kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
status=$?
SERVER_PID=
check "SIGTERM exits 0" test "$status" = 0
check "the log says stopped" grep -q '"message":"stopped"' "$WORK/serve.err"

# --- The command line ------------------------------------------------------------------------------
check "--help" bash -c "'$SERVE' --help | grep -q 'usage: ocireg-serve'"
check "--version" bash -c "'$SERVE' --version | grep -Eq '^ocireg-serve [0-9]+\\.[0-9]+'"
check "--check-config accepts a good file" "$SERVE" --check-config "$WORK/serve.toml"
printf '[limits]\nmax_connections = "many"\n' >"$WORK/bad.toml"
check "--check-config refuses a bad file" bash -c "! '$SERVE' --check-config '$WORK/bad.toml' >/dev/null 2>&1"
check "--check-config error output names the key" bash -c "'$SERVE' --check-config '$WORK/bad.toml' 2>&1 | grep -q max_connections"
check "an unknown option is a usage error" bash -c "'$SERVE' --bogus >/dev/null 2>&1; test \$? = 2"

# A port in use and an unusable storage root are clear errors.
write_config "$WORK/a.toml" "$WORK/data-a"
start_server "$WORK/a.toml" "$WORK/a" || exit 1
write_config "$WORK/b.toml" "$WORK/data-b" text "$PORT"
"$SERVE" "$WORK/b.toml" >/dev/null 2>"$WORK/b.err"
check "a port in use exits 1" test $? = 1
check "a port in use is named" grep -q "cannot listen on 127.0.0.1:$PORT" "$WORK/b.err"
kill -INT "$SERVER_PID"
wait "$SERVER_PID"
check "SIGINT exits 0" test $? = 0
SERVER_PID=
# A storage root is a directory on the file system only: on S3 the root is not used.
if ! test_storage_is_s3; then
  touch "$WORK/not-a-dir"
  write_config "$WORK/c.toml" "$WORK/not-a-dir"
  "$SERVE" "$WORK/c.toml" >/dev/null 2>"$WORK/c.err"
  check "an unusable storage root exits 1" test $? = 1
  check "an unusable storage root is named" grep -q "not-a-dir" "$WORK/c.err"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
