#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Operating ocireg-serve: SIGHUP reloads logins and access rules without dropping a keep-alive
# connection; `ocireg-serve gc` and `ocireg-serve scrub` against a real store; the configuration
# summary in the log never shows secrets; SIGTERM with a drain delay.
# Usage: operations_test.sh PATH/TO/ocireg-serve
# Exits 77 (skipped) when curl, htpasswd or sha256sum are missing.
set -u

SERVE=${1:?usage: operations_test.sh PATH/TO/ocireg-serve}
# shellcheck source=../support/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
require_tools curl htpasswd sha256sum

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-operations.XXXXXX")
SERVER_PID=
cleanup() {
  exec 3>&- 2>/dev/null
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

quietly() { "$@" >/dev/null 2>&1; }

ROOT=$WORK/data
HTPASSWD=$WORK/htpasswd
LOG=$WORK/server.err
mkdir -p "$ROOT"
htpasswd -B -C 4 -b -c "$HTPASSWD" alice alice-pw 2>/dev/null

prepare_test_storage || exit 1
write_config() {  # write_config FILE GRACE [ACCESS_TOML]
  cat >"$1" <<TOML
[listen]
address = "127.0.0.1"
port = 0
$(storage_toml "$ROOT" 'gc_interval = "0s"' "gc_grace_period = \"$2\"")
[limits]
max_connections = 16
keep_alive_timeout = "60s"
[auth.htpasswd]
file = "$HTPASSWD"
${3:-}
TOML
}
CONFIG=$WORK/serve.toml
write_config "$CONFIG" 24h

# Waits (bounded) until the server log has COUNT lines matching PATTERN.
wait_for_log() {  # wait_for_log PATTERN COUNT
  for _ in $(seq 1 200); do
    [[ $(grep -c -- "$1" "$LOG") -ge $2 ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

# Starts ocireg-serve on CONFIG (its stderr in LOG); sets SERVER_PID and PORT.
start_server() {  # start_server CONFIG
  start_ocireg_serve "$SERVE" "$1" "${LOG%.err}" || exit 1
}
stop_server() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID"
  local status=$?
  SERVER_PID=
  return $status
}

# --- The example configurations -------------------------------------------------------------------
# --check-config also reads the htpasswd file and the LDAP CA: point them at files made here.
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
touch "$WORK/ldap-ca.pem"
for example in "$EXAMPLES"/*.toml; do
  sed -e "s|/etc/ocireg/htpasswd|$HTPASSWD|" -e "s|/etc/ocireg/tls/ldap-ca.crt|$WORK/ldap-ca.pem|" \
    "$example" >"$WORK/example.toml"
  check "--check-config accepts examples/$(basename "$example")" \
    quietly "$SERVE" --check-config "$WORK/example.toml"
done

# --- The configuration summary --------------------------------------------------------------------
write_config "$WORK/ldap.toml" 24h '[auth.ldap]
url = "ldap://127.0.0.1:1"
bind_dn = "cn=svc,dc=example,dc=com"
bind_password = "ldap-secret-do-not-log"
user_base_dn = "ou=people,dc=example,dc=com"'
start_server "$WORK/ldap.toml"
check "the start is logged with a configuration summary" \
  grep -q "configuration: listen 127.0.0.1:0; tls off; logins htpasswd $HTPASSWD, ldap ldap://127.0.0.1:1" "$LOG"
if test_storage_is_s3; then
  check "the summary names the bucket" grep -q "storage s3://$TEST_S3_BUCKET/" "$LOG"
else
  check "the summary names the storage root" grep -q "storage $ROOT" "$LOG"
fi
check "the LDAP password never appears in the log" bash -c "! grep -q ldap-secret-do-not-log '$LOG'"
check "SIGTERM stops it" stop_server

start_server "$CONFIG"
REG=127.0.0.1:$PORT
status_as() { curl -s -o /dev/null -w '%{http_code}' -u "$1" "http://$REG/v2/"; }

# --- SIGHUP ---------------------------------------------------------------------------------------
# One HTTP/1.1 request on the connection open on fd 3; prints the status code.
request_on_connection() {  # request_on_connection AUTHORIZATION
  printf 'GET /v2/ HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\n\r\n' "$REG" "$1" >&3
  local line status length=0
  IFS= read -r -t 10 -u 3 line || return 1
  status=$(echo "$line" | cut -d' ' -f2)
  while IFS= read -r -t 10 -u 3 line; do
    line=${line%$'\r'}
    [[ -z $line ]] && break
    if [[ ${line,,} == content-length:* ]]; then length=${line#*: }; fi
  done
  if [[ $length -gt 0 ]]; then IFS= read -r -t 10 -u 3 -N "$length" _ || return 1; fi
  echo "$status"
}
ALICE=$(printf 'alice:alice-pw' | base64)
BOB=$(printf 'bob:bob-pw' | base64)

check "alice logs in" test "$(status_as alice:alice-pw)" = 200
check "bob is unknown before the reload" test "$(status_as bob:bob-pw)" = 401
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
check "a keep-alive connection is open before the reload" test "$(request_on_connection "$ALICE")" = 200

htpasswd -B -C 4 -b "$HTPASSWD" bob bob-pw 2>/dev/null
kill -HUP "$SERVER_PID"
check "SIGHUP is logged as a reload" wait_for_log "reloaded logins and access rules from $CONFIG" 1
check "the server still runs after SIGHUP" kill -0 "$SERVER_PID"
check "bob logs in after the reload" test "$(status_as bob:bob-pw)" = 200
check "alice still logs in after the reload" test "$(status_as alice:alice-pw)" = 200
check "the connection opened before the reload serves bob" test "$(request_on_connection "$BOB")" = 200
check "and alice, on the same connection" test "$(request_on_connection "$ALICE")" = 200

# A changed access policy.
write_config "$WORK/policy.toml" 24h '[access]
admins = ["alice"]
[[access.authenticated]]
repositories = ["**"]
actions = ["read"]'
cp "$WORK/policy.toml" "$CONFIG"
kill -HUP "$SERVER_PID"
check "a second reload is logged" wait_for_log "reloaded logins and access rules from $CONFIG" 2
check "the new access rules apply: bob may read" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -u bob:bob-pw "http://$REG/v2/x/tags/list")" = 404
check "the new access rules apply: bob may not push" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -u bob:bob-pw -X POST "http://$REG/v2/x/blobs/uploads/")" = 403
check "the new access rules apply: alice is an admin" \
  test "$(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -X POST "http://$REG/v2/x/blobs/uploads/")" = 202

printf 'alice:$apr1$abcdefgh$0123456789abcdefghijkl\n' >"$HTPASSWD"
kill -HUP "$SERVER_PID"
check "a broken htpasswd file fails the reload with its name" wait_for_log "reload failed.*$HTPASSWD" 1
check "bob still logs in after the failed reload" test "$(status_as bob:bob-pw)" = 200
check "the connection still serves after the failed reload" test "$(request_on_connection "$BOB")" = 200
sed -i 's/^max_connections = 16/max_connections = 17/' "$CONFIG"
htpasswd -B -C 4 -b -c "$HTPASSWD" alice alice-pw 2>/dev/null
kill -HUP "$SERVER_PID"
check "a setting that needs a restart is named on reload" \
  wait_for_log "reload: limits settings changed; they take effect after a restart" 1
check "bob is gone after the htpasswd file dropped him" test "$(status_as bob:bob-pw)" = 401
exec 3>&-

# --- gc and scrub ---------------------------------------------------------------------------------
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
push_blob() {  # push_blob REPO CONTENT -> status
  curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -H 'Content-Type: application/octet-stream' \
    --data-binary "$2" "http://$REG/v2/$1/blobs/uploads/?digest=sha256:$(sha256 "$2")"
}
CONFIG_BLOB='{"architecture":"amd64","os":"linux"}'
LAYER='layer-bytes-of-the-image'
ORPHAN='a blob that no manifest references'
check "push the config blob" test "$(push_blob team/app "$CONFIG_BLOB")" = 201
check "push the layer" test "$(push_blob team/app "$LAYER")" = 201
check "push an orphan blob" test "$(push_blob team/app "$ORPHAN")" = 201
MANIFEST='{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:'$(sha256 "$CONFIG_BLOB")'","size":'${#CONFIG_BLOB}'},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:'$(sha256 "$LAYER")'","size":'${#LAYER}'}]}'
check "push the manifest" test "$(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw -X PUT \
  -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$MANIFEST" \
  "http://$REG/v2/team/app/manifests/v1")" = 201

"$SERVE" gc "$CONFIG" >"$WORK/gc1.out" 2>"$WORK/gc1.err"
check "gc within the grace period exits 0" test $? = 0
check "gc within the grace period removes nothing" grep -q "blob links removed    0" "$WORK/gc1.out"
check "gc reports the repositories it scanned" grep -q "repositories scanned  [1-9]" "$WORK/gc1.out"
check "gc off a terminal prints no progress line" test ! -s "$WORK/gc1.err"

write_config "$WORK/gc.toml" 0s
"$SERVE" gc "$WORK/gc.toml" >"$WORK/gc2.out" 2>"$WORK/gc2.err"
check "gc past the grace period exits 0" test $? = 0
check "gc removes the orphan blob" grep -q "blob links removed    1" "$WORK/gc2.out"
check "gc reclaims its bytes, also human-readable" \
  grep -q "bytes reclaimed       ${#ORPHAN} (${#ORPHAN} B)" "$WORK/gc2.out"
check "the orphan blob is gone" test "$(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw \
  "http://$REG/v2/team/app/blobs/sha256:$(sha256 "$ORPHAN")")" = 404
check "the image's layer stays" test "$(curl -s -o /dev/null -w '%{http_code}' -u alice:alice-pw \
  "http://$REG/v2/team/app/blobs/sha256:$(sha256 "$LAYER")")" = 200

"$SERVE" scrub "$CONFIG" >"$WORK/scrub1.out" 2>"$WORK/scrub1.err"
check "scrub of an intact store exits 0" test $? = 0
check "scrub reports what it checked" grep -q "0 problems" "$WORK/scrub1.out"

# Other bytes behind the layer's name: in its file, or in its object in the content store.
if test_storage_is_s3; then
  printf 'tampered' >"$WORK/tampered"
  s3_curl -T "$WORK/tampered" "$(s3_object_url "$ROOT" "_blobs/sha256/$(sha256 "$LAYER")")" >/dev/null
else
  LAYER_FILE=$ROOT/team/app/blobs/sha256/$(sha256 "$LAYER")
  chmod u+w "$LAYER_FILE" 2>/dev/null
  printf 'tampered' >"$LAYER_FILE"
fi
"$SERVE" scrub "$CONFIG" >"$WORK/scrub2.out" 2>"$WORK/scrub2.err"
check "scrub of a tampered blob exits 1" test $? = 1
check "scrub names the tampered blob" grep -q "team/app: blob sha256:$(sha256 "$LAYER") has content" "$WORK/scrub2.out"

"$SERVE" scrub >/dev/null 2>&1
check "scrub without a configuration exits 2" test $? = 2
"$SERVE" gc "$WORK/missing.toml" >/dev/null 2>&1
check "gc with an unreadable configuration exits 2" test $? = 2
write_config "$WORK/noroot.toml" 24h
if test_storage_is_s3; then
  sed -i "s|^bucket = .*|bucket = \"ocireg-no-such-bucket\"|" "$WORK/noroot.toml"
  "$SERVE" scrub "$WORK/noroot.toml" >/dev/null 2>"$WORK/noroot.err"
  check "scrub of a missing bucket exits 2" test $? = 2
  check "and says so" grep -q "ocireg-no-such-bucket.*no such bucket" "$WORK/noroot.err"
else
  sed -i "s|^root = .*|root = \"$WORK/no-such-root\"|" "$WORK/noroot.toml"
  "$SERVE" scrub "$WORK/noroot.toml" >/dev/null 2>"$WORK/noroot.err"
  check "scrub of a missing storage root exits 2" test $? = 2
  check "and does not create it" test ! -e "$WORK/no-such-root"
fi

check "SIGTERM after reloads exits 0" stop_server

# --- Draining on SIGTERM --------------------------------------------------------------------------
# With limits.drain_delay, SIGTERM first takes the server out of rotation: /readyz answers 503
# while requests are still served, each response closing its connection; then it exits 0. A
# second SIGTERM ends the delay. Log lines name the replica.
write_drain_config() {  # write_drain_config FILE DELAY
  write_config "$1" 24h '[cluster]
node_name = "drain-replica"'
  sed -i "s/^keep_alive_timeout = .*/&\ndrain_delay = \"$2\"/" "$1"
}
# Waits (bounded: about 30 s) for the server to exit; its exit status, or 124 when it still runs.
wait_for_exit() {
  for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      wait "$SERVER_PID"
      local status=$?
      SERVER_PID=
      return $status
    fi
    sleep 0.05
  done
  return 124
}
readyz() { curl -s -w ' %{http_code}' "http://$REG/readyz"; }

write_drain_config "$WORK/drain.toml" 5s
start_server "$WORK/drain.toml"
REG=127.0.0.1:$PORT
check "ready before SIGTERM" test "$(readyz)" = "$(printf 'ready\n 200')"
kill -TERM "$SERVER_PID"
check "SIGTERM starts the drain" wait_for_log "node=drain-replica draining for 5s: /readyz answers 503" 1
check "/readyz answers 503 while draining" test "$(readyz)" = "$(printf 'draining\n 503')"
curl -s -D "$WORK/drain.head" -o /dev/null -u alice:alice-pw "http://$REG/v2/"
check "requests are still served while draining" grep -q '^HTTP/1.1 200' "$WORK/drain.head"
check "with Connection: close" grep -qi '^Connection: close' "$WORK/drain.head"
wait_for_exit
check "after the delay it exits 0" test $? = 0
check "the listener's closing is logged" grep -q "listener closed" "$LOG"
check "access-log lines name the replica" grep -q '"GET /v2/" 200 .* node=drain-replica$' "${LOG%.err}.out"

write_drain_config "$WORK/drain-long.toml" 300s
start_server "$WORK/drain-long.toml"
REG=127.0.0.1:$PORT
kill -TERM "$SERVER_PID"
check "SIGTERM starts a long drain" wait_for_log "draining for 300s" 1
check "/readyz answers 503 in the long drain" test "$(readyz)" = "$(printf 'draining\n 503')"
kill -TERM "$SERVER_PID"
wait_for_exit
check "a second SIGTERM ends the drain delay: it exits 0 well before it" test $? = 0
check "the second SIGTERM is logged" grep -q "received Terminated again: ending any drain delay" "$LOG"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
