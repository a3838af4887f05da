#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile HTTP against the ocireg-serve binary, over raw sockets on 127.0.0.1.

Each case sends bytes no well-behaved client would (smuggled requests in an unread body,
misframed bodies, oversized heads) and checks that the server answers once, with the expected
status, and then ends the connection, so that nothing it did not read is taken for a request.
The in-process tests (tests/integration/hostile_http_test.cc) cover each case in depth; this
one proves the shipped program behaves the same.

Usage: hostile_http_test.py PATH/TO/ocireg-serve
Prints "ok - ..." per check and "N passed, N failed" last; exits 1 when a check failed.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

STATUS_LINE = re.compile(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ")
SMUGGLED = b"GET /v2/_catalog HTTP/1.1\r\nHost: smuggled\r\n\r\n"
# A bcrypt-shaped entry, only so that a login method is configured; no check logs in with it.
HTPASSWD = "alice:$2y$04$Dw3rvC0g2m1QW7KeM0YqFuQ6dW6eV9o7qGkV4Y3ZyD6bV6nUO0e9a\n"


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, condition, detail=""):
        if condition:
            self.passed += 1
            print(f"ok - {what}")
        else:
            self.failed += 1
            print(f"FAILED - {what} {detail}")


def exchange(port, data, chunk=65536, read_timeout=10.0):
    """Sends `data` (stopping quietly when the server closes) while reading what comes back.

    Reading runs beside the sending: when the server closes with bytes unread it resets the
    connection, and a reset drops whatever the client had not yet read. Returns (statuses
    answered, whether the server ended the connection)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    result = {"received": b"", "closed": False}

    def read():
        deadline = time.monotonic() + read_timeout
        while time.monotonic() < deadline:
            try:
                piece = sock.recv(65536)
            except socket.timeout:
                return
            except OSError:  # reset, or closed by the sender below
                result["closed"] = True
                return
            if not piece:
                result["closed"] = True
                return
            result["received"] += piece

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for at in range(0, len(data), chunk):
            sock.sendall(data[at:at + chunk])
    except OSError:
        pass
    reader.join()
    sock.close()
    return [int(s) for s in STATUS_LINE.findall(result["received"])], result["closed"]


def start_server(serve, work):
    with open(os.path.join(work, "htpasswd"), "w") as f:
        f.write(HTPASSWD)
    config = os.path.join(work, "ocireg.toml")
    with open(config, "w") as f:
        f.write(f"""[listen]
address = "127.0.0.1"
port = 0
[storage]
root = "{work}/data"
gc_interval = "0s"
# Longer than a check waits: a connection must end because it was refused, not because it idled.
[limits]
keep_alive_timeout = "60s"
[auth.htpasswd]
file = "{work}/htpasswd"
[[access.anonymous]]
repositories = ["public/**"]
actions = ["read"]
""")
    err = open(os.path.join(work, "server.err"), "w+")
    server = subprocess.Popen([serve, config], stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(200):  # about 10 s
        err.seek(0)
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)", err.read())
        if found:
            return server, int(found.group(1))
        if server.poll() is not None:
            break
        time.sleep(0.05)
    err.seek(0)
    print(err.read())
    server.kill()
    raise SystemExit("ocireg-serve did not start")


def run(port, checks):
    def one_answer(what, data, want):
        statuses, closed = exchange(port, data)
        checks.check(f"{what}: one answer {want}, then the connection ends",
                     statuses == [want] and closed, f"(got {statuses}, closed={closed})")

    body = SMUGGLED * (2 * 1024 * 1024 // len(SMUGGLED))
    one_answer("401 to a PATCH whose 2 MiB body holds requests",
               b"PATCH /v2/private/app/blobs/uploads/x HTTP/1.1\r\nHost: r\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body) + body, 401)
    one_answer("401 to a manifest PUT with Expect: 100-continue",
               b"PUT /v2/private/app/manifests/v1 HTTP/1.1\r\nHost: r\r\nExpect: 100-continue\r\n"
               b"Content-Type: application/vnd.oci.image.manifest.v1+json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 401)
    one_answer("a GET with a body", b"GET /v2/public/app/tags/list HTTP/1.1\r\nHost: r\r\n"
               b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 400)
    one_answer("Transfer-Encoding: Chunked with a Content-Length",
               b"POST /v2/public/app/blobs/uploads/ HTTP/1.1\r\nHost: r\r\n"
               b"Transfer-Encoding: Chunked\r\nContent-Length: %d\r\n\r\n" % len(SMUGGLED) +
               SMUGGLED, 400)
    one_answer("Content-Length: +38", b"POST /v2/public/app/blobs/uploads/ HTTP/1.1\r\nHost: r\r\n"
               b"Content-Length: +%d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 400)
    one_answer("two Content-Length headers that disagree",
               b"POST /v2/public/app/blobs/uploads/ HTTP/1.1\r\nHost: r\r\nContent-Length: 0\r\n"
               b"Content-Length: %d\r\n\r\n" % len(SMUGGLED) + SMUGGLED, 400)
    one_answer("PRI with a gzip body, refused before it is read",
               b"PRI /v2/ HTTP/1.1\r\nHost: r\r\nContent-Encoding: gzip\r\n"
               b"Content-Length: 10485760\r\n\r\n" + b"\x1f\x8b" + b"\0" * 1024, 501)
    one_answer("an HTTP/1.1 request without Host", b"GET /v2/ HTTP/1.1\r\n\r\n" + SMUGGLED, 400)
    one_answer("Connection: CLOSE in capitals",
               b"GET /v2/public/app/tags/list HTTP/1.1\r\nHost: r\r\nConnection: CLOSE\r\n\r\n" +
               SMUGGLED, 404)
    one_answer("120 header fields",
               b"GET /v2/ HTTP/1.1\r\nHost: r\r\n" +
               b"".join(b"X-F%d: v\r\n" % i for i in range(120)) + b"\r\n", 431)
    # 16 MiB without a line end, sent until the server gives up on it.
    one_answer("a request line that never ends", b"GET /" + b"a" * (16 * 1024 * 1024), 414)


def main():
    serve = sys.argv[1]
    work = tempfile.mkdtemp(prefix="ocireg-hostile.")
    server = None
    try:
        server, port = start_server(serve, work)
        checks = Checks()
        run(port, checks)
        # The server is still serving after all of it.
        statuses, _ = exchange(port, b"GET /v2/ HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
        checks.check("GET /v2/ still answers afterwards (401 asks for a login)", statuses == [401],
                     f"(got {statuses})")
        print(f"{checks.passed} passed, {checks.failed} failed")
        return 1 if checks.failed else 0
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
