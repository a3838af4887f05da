#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The example cluster works: examples/cluster/start brings up Redis, three ocireg-serve replicas and
# HAProxy in a temporary directory; skopeo pushes an image through HAProxy and pulls it back; every
# replica serves the tag; /metrics shows the requests spread over the three replicas;
# examples/cluster/stop ends everything, and no process of the example is left.
# Usage: example_test.sh PATH/TO/ocireg-serve
# S3: the run's gateway when tests/support/rgw/with-gateway exported OCIREG_TEST_S3_* (a bucket of
# its own in it), else the example's own throwaway gateway. Ports: HAProxy and the replicas on four
# free consecutive ports (OCIREG_CLUSTER_PORT), Redis on a free port of its choosing.
# Exits 77 (skipped) when a tool is missing.
set -u

SERVE=${1:?usage: example_test.sh PATH/TO/ocireg-serve}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
examples=$(cd "$here/../../examples/cluster" && pwd)
# shellcheck source=../support/testlib.sh
source "$here/../support/testlib.sh"
require_tools skopeo curl jq sha256sum tar gzip redis-server redis-cli haproxy
if [[ -z ${OCIREG_TEST_S3_ENDPOINT:-} ]]; then require_tools radosgw ceph-mon ceph-osd; fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-cluster-example.XXXXXX")
DEMO=$WORK/demo
cleanup() {
  if [[ -f $DEMO/pids || -d $DEMO/rgw ]]; then "$examples/stop" "$DEMO" >/dev/null 2>&1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP

export REGISTRY_AUTH_FILE=$WORK/auth.json
echo '{}' >"$REGISTRY_AUTH_FILE"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$WORK/policy.json"
SKOPEO=(skopeo --policy "$WORK/policy.json")

sha256() { sha256sum "$1" | cut -d' ' -f1; }
same() { [[ -n $1 && $1 == "$2" ]]; }  # equal and not empty
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first of four consecutive ports nothing listens on, at random below the ephemeral range.
free_port_block() {
  local base offset
  while true; do
    base=$((20000 + RANDOM % 12000))
    for offset in 0 1 2 3; do
      if port_in_use $((base + offset)); then continue 2; fi
    done
    echo "$base"
    return
  done
}

# --- A small image, as an OCI layout built by hand ------------------------------------------------
add_blob() {  # add_blob LAYOUT FILE MEDIATYPE -> the descriptor JSON; stores the blob
  local digest size
  digest=$(sha256 "$2")
  size=$(stat -c %s "$2")
  mkdir -p "$1/blobs/sha256"
  cp "$2" "$1/blobs/sha256/$digest"
  jq -cn --arg t "$3" --arg d "sha256:$digest" --argjson s "$size" \
    '{mediaType: $t, digest: $d, size: $s}'
}
make_layout() {  # make_layout LAYOUT TAG -> the manifest's digest
  local layout=$1 tmp=$WORK/build layers=() diff_ids=() i
  mkdir -p "$tmp"
  for i in 1 2; do
    mkdir -p "$tmp/rootfs$i/etc"
    head -c $((30000 * i)) /dev/urandom >"$tmp/rootfs$i/etc/random$i"
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$tmp/rootfs$i" \
      -cf "$tmp/layer$i.tar" .
    diff_ids+=("sha256:$(sha256 "$tmp/layer$i.tar")")
    gzip -n -c "$tmp/layer$i.tar" >"$tmp/layer$i.tar.gz"
    layers+=("$(add_blob "$layout" "$tmp/layer$i.tar.gz" \
      application/vnd.oci.image.layer.v1.tar+gzip)")
  done
  jq -cn --args \
    '{architecture: "amd64", os: "linux", rootfs: {type: "layers", diff_ids: $ARGS.positional}}' \
    "${diff_ids[@]}" >"$tmp/config.json"
  local config manifest
  config=$(add_blob "$layout" "$tmp/config.json" application/vnd.oci.image.config.v1+json)
  printf '%s\n' "${layers[@]}" | jq -cs --argjson c "$config" \
    '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: $c, layers: .}' \
    >"$tmp/manifest.json"
  manifest=$(add_blob "$layout" "$tmp/manifest.json" application/vnd.oci.image.manifest.v1+json)
  echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
  jq -cn --arg tag "$2" --argjson d "$manifest" \
    '{schemaVersion: 2,
      manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": $tag}}]}' \
    >"$layout/index.json"
  jq -r .digest <<<"$manifest"
}
layout_digest() {  # layout_digest LAYOUT TAG
  jq -r --arg tag "$2" '.manifests[]
    | select(.annotations["org.opencontainers.image.ref.name"] == $tag) | .digest' "$1/index.json"
}
same_blobs() { diff <(ls "$1/blobs/sha256" | sort) <(ls "$2/blobs/sha256" | sort) >/dev/null; }

# The requests a replica answered on the registry's API (not health checks or /metrics).
api_requests() {  # api_requests PORT
  curl -sf "http://127.0.0.1:$1/metrics" |
    awk '/^ocireg_http_requests_total\{/ && /route="(base|manifest|blob|upload|tags)"/ { n += $NF }
         END { print n + 0 }'
}

# Whether the replicas' files hold no S3 key: no key setting, and not the secret itself.
no_keys_in_configs() {
  local secret=${AWS_SECRET_ACCESS_KEY:-}
  [[ -n $secret ]] || secret=$(sed -n 's/^AWS_SECRET_ACCESS_KEY=//p' "$DEMO/s3.env")
  [[ -n $secret ]] || return 1
  ! grep -qE '^ *(access_key|secret_key|session_token) *=' "$DEMO"/replica-*.toml &&
    ! grep -qF -- "$secret" "$DEMO"/replica-*.toml
}
names_itself() {  # names_itself PORT NAME: /metrics of PORT has ocireg_node_info{node="NAME"} 1
  curl -sf "http://127.0.0.1:$1/metrics" | grep -qxF "ocireg_node_info{node=\"$2\"} 1"
}
no_process_names() { ! pgrep -f -- "$1" >/dev/null; }
port_free() { ! port_in_use "$1"; }

# Whether no process recorded in PIDS_FILE ("NAME PID START") still runs with its start time.
none_left() {  # none_left PIDS_FILE
  local name pid start stat fields
  while read -r name pid start; do
    stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    stat=${stat##*) }
    read -r -a fields <<<"$stat"
    if [[ ${fields[0]} != Z && ${fields[19]} == "$start" ]]; then
      echo "still running: $name (PID $pid)"
      return 1
    fi
  done <"$1"
}

# --- The run --------------------------------------------------------------------------------------
if [[ -n ${OCIREG_TEST_S3_ENDPOINT:-} ]]; then
  export OCIREG_S3_ENDPOINT=$OCIREG_TEST_S3_ENDPOINT
  export OCIREG_S3_REGION=${OCIREG_TEST_S3_REGION:-default}
  export OCIREG_S3_BUCKET=ocireg-cluster-example-$$-$RANDOM
  export AWS_ACCESS_KEY_ID=$OCIREG_TEST_S3_ACCESS_KEY
  export AWS_SECRET_ACCESS_KEY=$OCIREG_TEST_S3_SECRET_KEY
  unset AWS_SESSION_TOKEN
  echo "# S3: the run's gateway at $OCIREG_S3_ENDPOINT, bucket $OCIREG_S3_BUCKET"
else
  unset OCIREG_S3_ENDPOINT
  echo "# S3: the example's own throwaway gateway"
fi
BASE=$(free_port_block)
export OCIREG_CLUSTER_PORT=$BASE
REG=127.0.0.1:$BASE
REPLICAS=($((BASE + 1)) $((BASE + 2)) $((BASE + 3)))

image_digest=$(make_layout "$WORK/src" v1)

if ! OCIREG_SERVE=$SERVE "$examples/start" "$DEMO" >"$WORK/start.out" 2>&1; then
  cat "$WORK/start.out"
  fail "examples/cluster/start"
  echo "$PASSED passed, $FAILED failed"
  exit 1
fi
pass "examples/cluster/start brings the cluster up"
cp "$DEMO/pids" "$WORK/pids"
check "start wrote one PID line per process" \
  test "$(cut -d' ' -f1 "$WORK/pids" | tr '\n' ' ')" = "redis r1 r2 r3 haproxy "
check "the replicas' files hold no S3 key" no_keys_in_configs
check "GET /v2/ through HAProxy is 200" \
  test "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" = 200
# What each replica had answered before the push (start's checks and the one above).
before=()
for port in "${REPLICAS[@]}"; do before+=("$(api_requests "$port")"); done

check "skopeo pushes through HAProxy" \
  "${SKOPEO[@]}" copy -q --preserve-digests --dest-tls-verify=false "oci:$WORK/src:v1" \
  "docker://$REG/example/app:v1"
check "skopeo pulls it back through HAProxy" \
  "${SKOPEO[@]}" copy -q --preserve-digests --src-tls-verify=false "docker://$REG/example/app:v1" \
  "oci:$WORK/back:v1"
check "the pulled manifest has the pushed digest" \
  same "$(layout_digest "$WORK/back" v1)" "$image_digest"
check "the pulled image has every blob" same_blobs "$WORK/src" "$WORK/back"

# The push and the pull made some 20 API requests; round robin gives each replica a share.
for n in 1 2 3; do
  port=${REPLICAS[n - 1]}
  requests=$(($(api_requests "$port") - before[n - 1]))
  echo "# r$n answered $requests API requests of the push and the pull"
  check "replica r$n answered requests of the push and the pull" test "$requests" -ge 2
  check "replica r$n names itself in /metrics" names_itself "$port" "r$n"
done
for n in 1 2 3; do
  port=${REPLICAS[n - 1]}
  check "replica r$n serves the tag with the pushed digest" \
    same "$(curl -sfI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
              "http://127.0.0.1:$port/v2/example/app/manifests/v1" |
            tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')" "$image_digest"
done


check "examples/cluster/stop ends everything" "$examples/stop" "$DEMO"
check "no recorded process of the example is left" none_left "$WORK/pids"
check "no process names the demo directory" no_process_names "$DEMO"
REDIS_PORT=$(sed -n 's|^redis_url = "redis://127.0.0.1:\([0-9]*\)/0"$|\1|p' "$DEMO/replica-1.toml")
check "the demo's replica-1.toml names its Redis port" test -n "$REDIS_PORT"
for port in "$BASE" "${REPLICAS[@]}" "$REDIS_PORT"; do
  check "nothing listens on port $port any more" port_free "$port"
done
check "the stopped cluster's directory keeps its logs" test -s "$DEMO/log/r1.log"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
