# SPDX-License-Identifier: Apache-2.0
"""Request rates: keep-alive GETs with wrk, keep-alive HEADs with ab."""

import re

from .common import run


def wrk_get(registry, path, connections, seconds, headers=()):
    """Keep-alive GETs with wrk; returns (requests per second, requests, errors)."""
    args = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = run(args + [registry.url(path)])
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = 0
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match:
        errors += int(match.group(1))
    match = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if match:
        errors += sum(int(g) for g in match.groups())
    return rate, total, errors


def ab_head(registry, path, connections, seconds):
    """Keep-alive HEADs with ab (wrk can not do HEAD); returns (rate, requests, errors)."""
    # -n after -t: -t alone caps the run at 50,000 requests.
    out = run(["ab", "-k", "-i", "-q", "-c", str(connections), "-t", str(seconds),
               "-n", "10000000", registry.url(path)])
    rate = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"Complete requests:\s+(\d+)", out).group(1))
    errors = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    match = re.search(r"Non-2xx responses:\s+(\d+)", out)
    if match:
        errors += int(match.group(1))
    return rate, total, errors
