#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Swagger UI from an installed tree: ocireg-serve as `meson install --destdir DESTDIR` placed it,
# started in an unrelated working directory with no docs.swagger_ui_dir, serves /docs/ and the
# package's files from the copy installed beside it.
# Usage: docs_test.sh DESTDIR
# Prints "ok - ..." per check and "N passed, N failed" last. Exits 77 (skipped) when a tool is
# missing, 1 when a check failed.
set -u

DESTDIR=$(cd "${1:?usage: docs_test.sh DESTDIR}" && pwd) || exit 1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=../support/testlib.sh
source "$ROOT/tests/support/testlib.sh"
require_tools curl cmp

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-docs-install.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill -KILL "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
finish() {
  echo "$PASSED passed, $FAILED failed"
  exit $((FAILED > 0))
}

SERVE=$(find "$DESTDIR" -path '*/bin/ocireg-serve' -print -quit)
BUNDLE=$(find "$DESTDIR" -path '*/ocireg/swagger-ui/swagger-ui-bundle.js' -print -quit)
LIB=$(find "$DESTDIR" -name 'libocireg.so*' -print -quit)
check "ocireg-serve is installed" [ -n "$SERVE" ] || finish
check "Swagger UI's bundle is installed under <datadir>/ocireg/swagger-ui" [ -n "$BUNDLE" ] || finish
check "its license is installed beside it" [ -f "$(dirname "$BUNDLE")/LICENSE" ]

# Nothing in this directory but the configuration: no checkout to fall back on.
mkdir -p "$WORK/run"
cat >"$WORK/run/ocireg.toml" <<CONF
[listen]
address = "127.0.0.1"
port = 0
[storage]
root = "./data"
CONF
cd "$WORK/run" || exit 1
export LD_LIBRARY_PATH
LD_LIBRARY_PATH=$(dirname "$LIB")
start_ocireg_serve "$SERVE" ocireg.toml "$WORK/serve" || { fail "the installed ocireg-serve starts"; finish; }

BASE=http://127.0.0.1:$PORT
status=$(curl -s -o "$WORK/page" -w '%{http_code}' "$BASE/docs/")
check "GET /docs/ answers 200 (was $status)" [ "$status" = 200 ]
check "the page loads swagger-ui-bundle.js" grep -q 'swagger-ui-bundle.js' "$WORK/page"
status=$(curl -s -o "$WORK/bundle" -w '%{http_code}' "$BASE/docs/swagger-ui-bundle.js")
check "GET /docs/swagger-ui-bundle.js answers 200 (was $status)" [ "$status" = 200 ]
check "it is the installed file, byte for byte" cmp -s "$WORK/bundle" "$BUNDLE"
status=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/docs/swagger-ui.css")
check "GET /docs/swagger-ui.css answers 200 (was $status)" [ "$status" = 200 ]
finish
