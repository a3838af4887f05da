# SPDX-License-Identifier: Apache-2.0
"""The S3 gateway of the s3 phase: a throwaway Ceph RGW on 127.0.0.1 (tests/support/rgw/start,
bluestore on a sparse file), stopped by its PIDs (tests/support/rgw/stop); its buckets, its own
PUT and GET rates for one client, its memory, and the S3 requests it served.

Requests are counted from radosgw's ops log (start --ops-log): radosgw writes one JSON line per
request it answers, with the bucket, the operation (put_obj, copy_obj, init_multipart, ...), the
status and the bytes. Each registry has buckets of its own, so its lines are those naming them.
The log is written behind the answers; a count ends with a request of the benchmark's own (a HEAD
of a marker key) and reads until that request's line is in, so every request answered before it
is counted."""

import collections
import contextlib
import json
import os
import time
import uuid

from .common import peak_rss_mib, run


class RequestCount:
    """The requests a gateway answered for one bucket between two points: in all and by
    operation (with the method when one operation name covers several, as get_obj covers GET and
    HEAD)."""

    def __init__(self):
        self.by_operation = collections.Counter()
        # Requests on keys the count was told to leave out (see Gateway.requests), by operation.
        self.left_out = collections.Counter()

    @property
    def total(self):
        return sum(self.by_operation.values())

    def add(self, entry, left_out=False):
        method = entry.get("uri", "").split(" ", 1)[0]
        counter = self.left_out if left_out else self.by_operation
        counter[f"{entry['operation']} {method}"] += 1


class Gateway:
    def __init__(self, scripts, directory, size_gib):
        self.scripts = scripts
        self.directory = directory
        self.size_gib = size_gib
        self.env = None
        self.buckets_made = 0

    def start(self):
        """Starts the cluster (about 5-20 s); it also ends with this process should the
        benchmark be killed."""
        run([os.path.join(self.scripts, "start"), "--bluestore", "--size", str(self.size_gib),
             "--ops-log", "--owner", str(os.getpid()), self.directory])
        self.env = {}
        with open(os.path.join(self.directory, "env")) as f:
            for line in f:
                key, _, value = line.strip().partition("=")
                self.env[key] = value

    def stop(self):
        if self.env is not None:
            run([os.path.join(self.scripts, "stop"), self.directory])
            self.env = None

    @property
    def endpoint(self):
        return self.env["OCIREG_TEST_S3_ENDPOINT"]

    @property
    def region(self):
        return self.env["OCIREG_TEST_S3_REGION"]

    @property
    def access_key(self):
        return self.env["OCIREG_TEST_S3_ACCESS_KEY"]

    @property
    def secret_key(self):
        return self.env["OCIREG_TEST_S3_SECRET_KEY"]

    @property
    def pid(self):
        return int(self.env["OCIREG_TEST_S3_RGW_PID"])

    def curl(self, *args):
        """One signed request by curl (SigV4; RGW needs the x-amz-content-sha256 header);
        returns curl's output."""
        return run(["curl", "-fsS", "--aws-sigv4", f"aws:amz:{self.region}:s3",
                    "--user", f"{self.access_key}:{self.secret_key}",
                    "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", *args])

    def url(self, bucket, key=""):
        return f"{self.endpoint}/{bucket}/{key}"

    @contextlib.contextmanager
    def fresh_bucket(self, prefix):
        """A new empty bucket, removed with all it holds afterwards (its space freed at once,
        not by the gateway's garbage collection a minute later)."""
        self.buckets_made += 1
        bucket = f"{prefix}-{self.buckets_made}"
        self.curl("-X", "PUT", "-o", "/dev/null", self.url(bucket))
        try:
            yield bucket
        finally:
            run(["radosgw-admin", "-c", os.path.join(self.directory, "ceph.conf"), "bucket",
                 "rm", f"--bucket={bucket}", "--purge-objects", "--bypass-gc"])

    def put_get_MBps(self, blob):
        """The gateway's own rates for one client: curl PUTs the blob as one object and GETs it
        back into /dev/null; returns {"s3_put_MBps", "s3_get_MBps"}."""
        with self.fresh_bucket("limits") as bucket:
            url = self.url(bucket, "blob")
            start = time.monotonic()
            self.curl("-T", blob.path, "-o", "/dev/null", url)
            put_seconds = time.monotonic() - start
            start = time.monotonic()
            self.curl("-o", "/dev/null", url)
            get_seconds = time.monotonic() - start
        return {"s3_put_MBps": blob.size / put_seconds / 1e6,
                "s3_get_MBps": blob.size / get_seconds / 1e6}

    def reset_peak_rss(self):
        """Restarts radosgw's high-water mark of resident memory (VmHWM) from its current RSS."""
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5\n")

    def peak_rss_mib(self):
        return peak_rss_mib(self.pid)

    @contextlib.contextmanager
    def requests(self, bucket, leave_out=()):
        """Counts the requests on `bucket` answered while the block runs, into the RequestCount
        it yields (complete once the block has ended). Requests on the keys in `leave_out` (such
        as the object a readiness probe writes, which a load balancer's health checks cause
        whatever the workload) go into its left_out counter instead."""
        ignored = {f"/{bucket}/{key}" for key in leave_out}
        log = os.path.join(self.directory, "log", "ops.log")
        offset = os.path.getsize(log) if os.path.exists(log) else 0
        count = RequestCount()
        yield count
        marker = f"bench-marker-{uuid.uuid4().hex}"
        # A HEAD of a key that is not there: 404, which curl -f takes for a failure.
        run(["curl", "-sS", "-o", "/dev/null", "-I", "--aws-sigv4", f"aws:amz:{self.region}:s3",
             "--user", f"{self.access_key}:{self.secret_key}",
             "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", self.url(bucket, marker)])
        for entry in self.log_entries(log, offset, marker):
            if entry.get("bucket") == bucket:
                uri = entry.get("uri", "").split(" ")
                path = uri[1].split("?", 1)[0] if len(uri) > 1 else ""
                count.add(entry, left_out=path in ignored)

    @staticmethod
    def log_entries(log, offset, marker, timeout=60):
        """The ops log's entries from `offset` up to (not including) the one whose URI names
        `marker`, waiting for it to be written. The entries are JSON objects one after the
        other, not always a line each (radosgw flushes its buffer without separators at times),
        so they are decoded one by one from a growing buffer."""
        decoder = json.JSONDecoder()
        deadline = time.monotonic() + timeout
        pending = ""
        with open(log, "rb") as f:
            f.seek(offset)
            while True:
                data = f.read()
                if not data:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the gateway's ops log has no entry for {marker} "
                                           f"after {timeout} s")
                    time.sleep(0.05)
                    continue
                pending += data.decode()
                position = 0
                while True:
                    while position < len(pending) and pending[position] in " \r\n\t,":
                        position += 1
                    try:
                        entry, position = decoder.raw_decode(pending, position)
                    except json.JSONDecodeError:
                        break  # the rest is not written yet
                    if marker in entry.get("uri", ""):
                        return
                    yield entry
                pending = pending[position:]
