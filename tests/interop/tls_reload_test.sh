#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Certificate rotation on a running ocireg-serve: replace the certificate and key files, send
# SIGHUP, and new connections get the new certificate; broken files keep the old one and the log
# names them. Sessions resume with client_ca set (curl, two URLs on two connections).
# Usage: tls_reload_test.sh PATH/TO/ocireg-serve
# Exits 77 (skipped) when curl or openssl are missing.
set -u

SERVE=${1:?usage: tls_reload_test.sh PATH/TO/ocireg-serve}
# shellcheck source=../support/testlib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/testlib.sh"
require_tools curl openssl

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-tls-reload.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
LOG=$WORK/server.err

# --- A CA and three certificates for 127.0.0.1 (serials 2, 3, 4) ---------------------------------
cat >"$WORK/openssl.cnf" <<'CNF'
[req]
distinguished_name = name
prompt = no
[name]
CN = unused
[ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
[server]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1
CNF
ec_key() { echo -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes; }
# shellcheck disable=SC2046
openssl req -x509 -config "$WORK/openssl.cnf" -extensions ca $(ec_key) -keyout "$WORK/ca.key" \
  -out "$WORK/ca.pem" -subj "/CN=ocireg reload test CA" 2>/dev/null || exit 1
make_certificate() {  # make_certificate NAME SERIAL
  # shellcheck disable=SC2046
  openssl req -new -config "$WORK/openssl.cnf" $(ec_key) -keyout "$WORK/$1.key" \
    -out "$WORK/$1.csr" -subj "/CN=127.0.0.1" 2>/dev/null &&
    openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
      -set_serial "$2" -extfile "$WORK/openssl.cnf" -extensions server -out "$WORK/$1.pem" 2>/dev/null
}
make_certificate first 2 && make_certificate second 3 && make_certificate client 4 || exit 1
cp "$WORK/first.pem" "$WORK/live.pem"
cp "$WORK/first.key" "$WORK/live.key"

CONFIG=$WORK/serve.toml
cat >"$CONFIG" <<TOML
[listen]
address = "127.0.0.1"
port = 0
[storage]
root = "$WORK/data"
gc_interval = "0s"
[tls]
certificate = "$WORK/live.pem"
private_key = "$WORK/live.key"
client_ca = "$WORK/ca.pem"
client_auth = "optional"
TOML

# Waits (bounded) until the server log has COUNT lines matching PATTERN.
wait_for_log() {  # wait_for_log PATTERN COUNT
  for _ in $(seq 1 200); do
    [[ $(grep -c -- "$1" "$LOG") -ge $2 ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# The serial of the certificate a new connection is shown, verified against the CA.
served_serial() {
  openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$WORK/ca.pem" -verify_return_error \
    </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}
curl_status() {  # the HTTP status of an anonymous GET /v2/
  curl -s -o /dev/null -w '%{http_code}' --cacert "$WORK/ca.pem" "https://127.0.0.1:$PORT/v2/"
}

start_ocireg_serve "$SERVE" "$CONFIG" "${LOG%.err}" || exit 1
check "the first certificate is served" test "$(served_serial)" = "serial=02"
check "curl connects" test "$(curl_status)" = 200

# Sessions: each URL on a new connection (the server closes after each), the second resuming.
curl -sS -v --cacert "$WORK/ca.pem" --cert "$WORK/client.pem" --key "$WORK/client.key" \
  -H 'Connection: close' -o /dev/null -o /dev/null \
  "https://127.0.0.1:$PORT/v2/" "https://127.0.0.1:$PORT/v2/_catalog" >"$WORK/curl.log" 2>&1
check "curl with a client certificate makes two requests on two connections" test $? = 0
check "and the second connection resumes the session" grep -q "SSL re-using session ID" "$WORK/curl.log"

# --- Rotation ------------------------------------------------------------------------------------
cp "$WORK/second.pem" "$WORK/live.pem"
cp "$WORK/second.key" "$WORK/live.key"
check "the new files alone change nothing" test "$(served_serial)" = "serial=02"
kill -HUP "$SERVER_PID"
check "SIGHUP logs the certificate reload" wait_for_log "reloaded the TLS certificate $WORK/live.pem" 1
check "new connections get the new certificate" test "$(served_serial)" = "serial=03"
check "curl connects after the rotation" test "$(curl_status)" = 200
check "no setting is reported as needing a restart" bash -c "! grep -q 'take effect after a restart' '$LOG'"

# --- Broken files keep the current certificate ---------------------------------------------------
echo "not a certificate" >"$WORK/live.pem"
kill -HUP "$SERVER_PID"
check "a broken certificate fails the reload with its name" \
  wait_for_log "TLS reload failed.*tls.certificate: $WORK/live.pem" 1
check "the old certificate is still served" test "$(served_serial)" = "serial=03"
cp "$WORK/second.pem" "$WORK/live.pem"
cp "$WORK/first.key" "$WORK/live.key"
kill -HUP "$SERVER_PID"
check "a key of another certificate fails the reload with its name" \
  wait_for_log "TLS reload failed.*tls.private_key: $WORK/live.key: does not match" 1
check "the old certificate is still served after that" test "$(served_serial)" = "serial=03"
check "logins and access rules still reload beside a failed certificate" \
  wait_for_log "reloaded logins and access rules from $CONFIG" 3

# --- Client settings need a restart --------------------------------------------------------------
cp "$WORK/second.key" "$WORK/live.key"
sed -i 's/^client_auth = "optional"/client_auth = "required"/' "$CONFIG"
kill -HUP "$SERVER_PID"
check "a client_auth change is named as needing a restart" \
  wait_for_log "reload: tls (on or off, client_ca, client_auth, client_identity) settings changed" 1
check "and anonymous clients still connect" test "$(curl_status)" = 200

kill -TERM "$SERVER_PID"
wait "$SERVER_PID"
check "SIGTERM after the reloads exits 0" test $? = 0
SERVER_PID=

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
