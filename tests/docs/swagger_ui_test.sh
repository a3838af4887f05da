#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Swagger UI page of a real ocireg-serve, rendered by headless Chromium: the page loads, reads
# /openapi.json and shows one operation block per operation of the document.
# Usage: swagger_ui_test.sh PATH/TO/ocireg-serve PATH/TO/openapi.json SWAGGER_UI_DIR
# Exits 77 (skipped) without chromium or python3, or when swagger-ui-dist is not installed.
set -u

SERVE=${1:?usage: swagger_ui_test.sh ocireg-serve openapi.json swagger-ui-dir}
DOCUMENT=${2:?}
SWAGGER_UI_DIR=${3:?}
for tool in chromium python3 timeout; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is not installed"
    exit 77
  fi
done
if [[ ! -f $SWAGGER_UI_DIR/swagger-ui-bundle.js ]]; then
  echo "SKIP: swagger-ui-dist is not installed (scripts/setup installs it)"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-swagger-ui.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -TERM "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/ocireg.toml" <<TOML
[listen]
address = "127.0.0.1"
port = 0
[storage]
root = "$WORK/data"
gc_interval = "0s"
[docs]
swagger_ui_dir = "$SWAGGER_UI_DIR"
TOML

"$SERVE" "$WORK/ocireg.toml" >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
PORT=
for _ in $(seq 1 200); do
  PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$WORK/serve.err" | head -n1)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.05
done
if [[ -z $PORT ]]; then
  echo "FAILED - ocireg-serve did not start:"
  cat "$WORK/serve.err"
  exit 1
fi

# Everything Chromium would fetch besides the page is switched off: the test needs no network.
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
  --no-first-run --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$WORK/chromium" --virtual-time-budget=10000 \
  --dump-dom "http://127.0.0.1:$PORT/docs/" >"$WORK/dom.html" 2>"$WORK/chromium.err"
status=$?
if ((status != 0)); then
  echo "FAILED - chromium exited with $status:"
  tail -n 20 "$WORK/chromium.err"
  exit 1
fi

# Swagger UI gives each operation a block with the id "operations-<tag>-<operationId>" and shows
# its path in data-path; the document's title appears in the info section.
python3 - "$DOCUMENT" "$WORK/dom.html" <<'PY'
import json
import sys

document = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8").read()
checked = failed = 0
def check(what, ok):
    global checked, failed
    checked += 1
    if ok:
        print("ok - " + what)
    else:
        failed += 1
        print("FAILED - " + what)

check("the page shows the document's title", document["info"]["title"] in dom and 'class="title"' in dom)
for path, item in document["paths"].items():
    check("path %s is listed" % path, 'data-path="%s"' % path in dom)
    for method, operation in item.items():
        if method not in ("get", "head", "post", "put", "patch", "delete"):
            continue
        block = 'id="operations-%s-%s"' % (operation["tags"][0], operation["operationId"])
        check("%s %s has its operation block" % (method.upper(), path), block in dom)
print("%d checks, %d failed" % (checked, failed))
sys.exit(1 if failed or checked < 2 else 0)
PY
