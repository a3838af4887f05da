#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Compliance: the ocireg-check binary against a real ocireg-serve, which must pass every check,
# and against CNCF distribution (docker-registry), whose failing checks must be exactly those the
# README's compliance section documents. Both registries run on 127.0.0.1 as children of this
# script and are stopped by PID. With OCIREG_TEST_STORAGE=s3 (test compliance-s3) ocireg-serve keeps
# its data in the S3 test gateway, and distribution's part, which is about distribution, is left out.
# Usage: compliance.sh PATH/TO/ocireg-serve PATH/TO/ocireg-check PATH/TO/README.md
# Exits 77 (skipped) when python3 is missing. Without docker-registry, its part is skipped.
set -u

SERVE=${1:?usage: compliance.sh ocireg-serve ocireg-check README.md}
CHECK=${2:?usage: compliance.sh ocireg-serve ocireg-check README.md}
README=${3:?usage: compliance.sh ocireg-serve ocireg-check README.md}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPORT=(python3 "$HERE/report.py")
if ! command -v python3 >/dev/null; then
  echo "SKIP: python3 is not installed"
  exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ocireg-compliance.XXXXXX")
# shellcheck source=registries.sh
source "$HERE/registries.sh"  # also brings tests/support/testlib.sh: check, pass, fail
cleanup() {
  stop_registries
  rm -rf "$WORK"
}
trap cleanup EXIT

# same_lines A B: the two texts hold the same lines, in any order; shows the difference if not.
same_lines() {
  diff <(sort <<<"$1") <(sort <<<"$2") || return 1
}

"$CHECK" --list | cut -f1 >"$WORK/all-ids"

# --- The command line ------------------------------------------------------------------------------
check "--help" bash -c "'$CHECK' --help | grep -q 'usage: ocireg-check -H HOST'"
check "--version" bash -c "'$CHECK' --version | grep -Eq '^ocireg-check [0-9]+\\.[0-9]+'"
check "no host is a usage error" bash -c "'$CHECK' >/dev/null 2>&1; test \$? = 2"
check "an unknown category is a usage error" \
  bash -c "'$CHECK' -H 127.0.0.1 -V pull,nope 2>&1 >/dev/null | grep -q 'unknown category \"nope\"'"
check "--list names every category" \
  bash -c "cut -d/ -f1 '$WORK/all-ids' | sort -u | tr '\n' ' ' | grep -qx 'discovery management pull push '"

# --- ocireg-serve: everything passes ---------------------------------------------------------------
if start_ocireg "$SERVE"; then
  pass "ocireg-serve starts"
  "$CHECK" -H 127.0.0.1 -P "$OCIREG_PORT" --json --junit "$WORK/ocireg.xml" >"$WORK/ocireg.json" \
    2>"$WORK/ocireg.err"
  check "ocireg-check exits 0 against ocireg" test $? = 0
  check "every check is reported" same_lines "$("${REPORT[@]}" ids "$WORK/ocireg.json")" "$(cat "$WORK/all-ids")"
  check "no check fails" same_lines "$("${REPORT[@]}" status "$WORK/ocireg.json" FAIL)" ""
  check "no check is skipped" same_lines "$("${REPORT[@]}" status "$WORK/ocireg.json" SKIP)" ""
  check "the clean-up removed everything" same_lines "$("${REPORT[@]}" cleanup-left "$WORK/ocireg.json")" ""
  check "the JUnit file is XML with every check" python3 - "$WORK/ocireg.xml" "$(wc -l <"$WORK/all-ids")" <<'PY'
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
cases = doc.getElementsByTagName("testcase")
sys.exit(0 if len(cases) == int(sys.argv[2]) and not doc.getElementsByTagName("failure") else 1)
PY
  "$CHECK" -H 127.0.0.1 -P "$OCIREG_PORT" -V pull >"$WORK/table.txt" 2>/dev/null
  check "the table ends in PASS" grep -q '^PASS: no check failed' "$WORK/table.txt"
  check "the table lists the pull checks only" \
    bash -c "grep -c '^pull/' '$WORK/table.txt' | grep -qx \"\$(grep -c '^pull/' '$WORK/all-ids')\" &&
             ! grep -q '^push/' '$WORK/table.txt'"
else
  fail "ocireg-serve starts"
fi
stop_registries

# --- CNCF distribution: the failures are the documented ones -------------------------------------
if test_storage_is_s3; then
  echo "# on S3 ocireg alone is checked: distribution's part is skipped"
elif ! command -v docker-registry >/dev/null; then
  echo "# docker-registry is not installed: distribution's part is skipped"
elif start_distribution; then
  pass "docker-registry starts"
  "$CHECK" -H 127.0.0.1 -P "$DISTRIBUTION_PORT" --json >"$WORK/distribution.json" 2>"$WORK/distribution.err"
  status=$?
  check "ocireg-check completes against distribution (exit 0 or 1)" test "$status" -le 1
  check "every check is reported for distribution" \
    same_lines "$("${REPORT[@]}" ids "$WORK/distribution.json")" "$(cat "$WORK/all-ids")"
  failing=$("${REPORT[@]}" status "$WORK/distribution.json" FAIL)
  echo "# distribution fails:"; sed 's/^/#   /' <<<"$failing"
  check "distribution's failures are those the README documents" \
    same_lines "$failing" "$("${REPORT[@]}" documented "$README" distribution)"
  check "the README's distribution version is the installed one" \
    test "$("${REPORT[@]}" version "$README" distribution)" = "$(docker-registry --version)"
else
  fail "docker-registry starts"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
