#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark of ocireg-serve and CNCF distribution (Debian's docker-registry).

Both registries run on 127.0.0.1 over fresh filesystem storage roots in a scratch directory, and
the same workload runs against each in turn (ocireg, distribution, ocireg, ...) for --rounds
rounds. The report gives the median of each metric per registry, the ratio ocireg/distribution,
the target and whether it is met, as a table and as one JSON line. The machine's own limits are
measured in the same run: single-core SHA-256 (`openssl speed -evp sha256`) and a
`dd conv=fdatasync` write of the pushed blob's size into the same scratch directory.

Both registries fsync each blob before they acknowledge its push: distribution's filesystem
driver syncs an upload's file when it commits it, ocireg fdatasyncs the blob and fsyncs the
directories it changes.

Usage: bench/compare.py BUILD_DIR [--rounds N] [--quick] [--work DIR] [--json FILE]
BUILD_DIR holds tools/ocireg-serve and bench/registry_load (a release build gives the figures
worth quoting). Needs curl, wrk, ab (apache2-utils), skopeo, openssl, docker-registry.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
GIB = 1 << 30
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


# --- Workload sizes ---------------------------------------------------------------------------

class Workload:
    """What one round does; --quick shrinks it to check the script itself in a minute."""

    def __init__(self, quick):
        self.blob_bytes = 32 * MIB if quick else GIB
        self.big_blob_bytes = 128 * MIB if quick else 4 * GIB
        self.chunk_bytes = 4 * MIB if quick else 64 * MIB
        self.rate_seconds = 1 if quick else 5
        self.small_pushes = 200
        self.small_push_bytes = 16 * 1024
        self.small_push_connections = 16
        self.image_layers = 5
        self.image_layer_bytes = 256 * 1024
        self.repositories = 300 if quick else 10000
        self.tags = 300 if quick else 10000
        self.page_requests = 50 if quick else 200


# --- Processes and measurements from /proc ----------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(args, **kwargs):
    """Runs a command to completion; its failure stops the benchmark with its output."""
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def cpu_seconds(pid):
    """User plus system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mib(pid):
    """The process's high-water mark of resident memory (VmHWM) since it started."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


# --- The two registries -----------------------------------------------------------------------

class Registry:
    """One registry server process over one storage root, started and stopped by PID."""

    def __init__(self, name, load_tool, work):
        self.name = name
        self.load_tool = load_tool
        self.work = work
        self.process = None
        self.port = None

    def start(self, root):
        """Starts the server on a free port; returns seconds from exec to the first answer."""
        self.port = free_port()
        args = self.command(root, self.port)
        log = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        since = time.time_ns()
        self.process = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()
        ready = self.load("wait-ready", "--since-ns", str(since), "--timeout-s", "60")
        return ready["ready_seconds"]

    def stop(self):
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def load(self, subcommand, *args):
        """Runs one registry_load subcommand against this server; returns its JSON line."""
        out = run([self.load_tool, subcommand, "--host", "127.0.0.1", "--port", str(self.port),
                   *args])
        return json.loads(out.strip().splitlines()[-1])


class Ocireg(Registry):
    def __init__(self, serve, load_tool, work):
        super().__init__("ocireg", load_tool, work)
        self.serve = serve

    def command(self, root, port):
        config = os.path.join(self.work, "ocireg.toml")
        with open(config, "w") as f:
            f.write(f'[listen]\naddress = "127.0.0.1"\nport = {port}\n'
                    f'[storage]\nroot = "{root}"\n[log]\naccess_log = false\n')
        return [self.serve, config]


class Distribution(Registry):
    def __init__(self, load_tool, work):
        super().__init__("distribution", load_tool, work)

    def command(self, root, port):
        config = os.path.join(self.work, "distribution.yml")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}}}\n")
        return ["docker-registry", "serve", config]


# --- Blob transfers through curl ---------------------------------------------------------------

def curl(*args):
    return run(["curl", "-fsS", *args])


def location_of(headers, registry):
    for line in headers.splitlines():
        name, _, value = line.partition(":")
        if name.strip().lower() == "location":
            value = value.strip()
            return value if value.startswith("http") else registry.url(value)
    raise RuntimeError("no Location in:\n" + headers)


def with_query(location, query):
    return location + ("&" if "?" in location else "?") + query


def open_upload(registry, repo):
    headers = curl("-X", "POST", "-D", "-", "-o", "/dev/null",
                   registry.url(f"/v2/{repo}/blobs/uploads/"))
    return location_of(headers, registry)


def push_monolithic(registry, repo, blob):
    """POST, then one PUT carrying the whole file; returns seconds for both."""
    start = time.monotonic()
    location = open_upload(registry, repo)
    curl("-X", "PUT", "-T", blob.path, "-H", "Content-Type: application/octet-stream",
         "-o", "/dev/null", with_query(location, "digest=" + blob.digest))
    return time.monotonic() - start


def push_chunked(registry, repo, blob):
    """POST, one PATCH per chunk file with its Content-Range, then an empty closing PUT."""
    start = time.monotonic()
    location = open_upload(registry, repo)
    offset = 0
    for chunk in blob.chunks:
        size = os.path.getsize(chunk)
        headers = curl("-X", "PATCH", "-T", chunk, "-D", "-", "-o", "/dev/null",
                       "-H", "Content-Type: application/octet-stream",
                       "-H", f"Content-Range: {offset}-{offset + size - 1}", location)
        location = location_of(headers, registry)
        offset += size
    curl("-X", "PUT", "-o", "/dev/null", "-H", "Content-Length: 0",
         with_query(location, "digest=" + blob.digest))
    return time.monotonic() - start


def pull(registry, repo, blob):
    """GET of the blob into /dev/null; returns seconds."""
    start = time.monotonic()
    curl("-o", "/dev/null", registry.url(f"/v2/{repo}/blobs/{blob.digest}"))
    return time.monotonic() - start


class Blob:
    """A file of random bytes, its digest, and (optionally) its chunk files."""

    def __init__(self, path, size, chunk_bytes=None, copies_of=None):
        self.path = path
        self.size = size
        if copies_of is not None:
            with open(path, "wb") as out:
                for _ in range(size // copies_of.size):
                    with open(copies_of.path, "rb") as src:
                        shutil.copyfileobj(src, out, 8 * MIB)
        else:
            with open(path, "wb") as out:
                for _ in range(size // MIB):
                    out.write(os.urandom(MIB))
        self.digest = "sha256:" + run(["openssl", "dgst", "-sha256", "-r", path]).split()[0]
        self.chunks = []
        if chunk_bytes:
            run(["split", "-b", str(chunk_bytes), "-d", "-a", "4", path, path + ".chunk."])
            directory = os.path.dirname(path)
            prefix = os.path.basename(path) + ".chunk."
            self.chunks = sorted(os.path.join(directory, n) for n in os.listdir(directory)
                                 if n.startswith(prefix))


# --- Request rates -----------------------------------------------------------------------------

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


# --- One round against one registry -----------------------------------------------------------

def measure_round(registry, blobs, workload, scratch):
    """The transfer and request-rate workload on a fresh root; returns metric -> value."""
    m = {}
    errors = 0
    root = os.path.join(scratch, registry.name + "-root")
    shutil.rmtree(root, ignore_errors=True)
    m["startup_empty_s"] = registry.start(root)
    try:
        cpu = cpu_seconds(registry.pid)
        seconds = push_monolithic(registry, "bench/big", blobs["push"])
        m["cpu_s_per_gib_pushed"] = (cpu_seconds(registry.pid) - cpu) * GIB / blobs["push"].size
        m["push_monolithic_MBps"] = blobs["push"].size / seconds / 1e6
        m["peak_rss_push_MiB"] = peak_rss_mib(registry.pid)
        # Three pulls, the first right after the push: their median is the round's figure.
        pulls = [pull(registry, "bench/big", blobs["push"]) for _ in range(3)]
        m["pull_MBps"] = blobs["push"].size / statistics.median(pulls) / 1e6
        seconds = push_chunked(registry, "bench/big", blobs["chunked"])
        m["push_chunked_MBps"] = blobs["chunked"].size / seconds / 1e6

        image = registry.load("push-image", "--repo", "bench/small", "--tag", "v1",
                              "--layers", str(workload.image_layers),
                              "--layer-size", str(workload.image_layer_bytes))
        layer = image["layer_digests"][0]
        manifest_path = "/v2/bench/small/manifests/v1"
        gets = 0
        cpu = cpu_seconds(registry.pid)
        for connections in (8, 64):
            rate, total, failed = wrk_get(registry, manifest_path, connections,
                                          workload.rate_seconds, [f"Accept: {OCI_MANIFEST}"])
            m[f"manifest_get_rps_c{connections}"] = rate
            gets += total
            errors += failed
        m["cpu_s_per_1000_manifest_gets"] = (cpu_seconds(registry.pid) - cpu) * 1000 / gets
        for connections in (8, 64):
            rate, _, failed = ab_head(registry, f"/v2/bench/small/blobs/{layer}", connections,
                                      workload.rate_seconds)
            m[f"blob_head_rps_c{connections}"] = rate
            errors += failed

        pushes = registry.load("push-blobs", "--repo", "bench/many",
                               "--count", str(workload.small_pushes),
                               "--size", str(workload.small_push_bytes),
                               "--connections", str(workload.small_push_connections))
        m["small_pushes_per_s"] = pushes["pushes_per_second"]
        errors += pushes["errors"]

        target = os.path.join(scratch, "skopeo-pull")
        shutil.rmtree(target, ignore_errors=True)
        start = time.monotonic()
        run(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
             f"docker://127.0.0.1:{registry.port}/bench/small:v1", f"oci:{target}:v1"])
        m["skopeo_pull_s"] = time.monotonic() - start
        shutil.rmtree(target, ignore_errors=True)
    finally:
        registry.stop()
        shutil.rmtree(root, ignore_errors=True)
    m["request_errors"] = errors
    return m


def measure_big_push(registry, blob, scratch):
    """Peak resident memory of a fresh server through one push of the big blob."""
    root = os.path.join(scratch, registry.name + "-root")
    shutil.rmtree(root, ignore_errors=True)
    registry.start(root)
    try:
        seconds = push_monolithic(registry, "bench/huge", blob)
        return {"peak_rss_big_push_MiB": peak_rss_mib(registry.pid),
                "push_big_MBps": blob.size / seconds / 1e6}
    finally:
        registry.stop()
        shutil.rmtree(root, ignore_errors=True)


def populate(registry, root, workload):
    """Fills a root with many repositories and one repository with many tags, once."""
    shutil.rmtree(root, ignore_errors=True)
    registry.start(root)
    try:
        repos = registry.load("populate-repos", "--count", str(workload.repositories),
                              "--prefix", "bench/r")
        tags = registry.load("populate-tags", "--repo", "bench/tags",
                             "--count", str(workload.tags))
        return {"populate_repos_s": repos["seconds"], "populate_tags_s": tags["seconds"],
                "populate_errors": repos["errors"] + tags["errors"]}
    finally:
        registry.stop()


def measure_listing(registry, root, workload):
    """Startup over the populated root, then catalog and tag page latencies."""
    m = {"startup_populated_s": registry.start(root)}
    try:
        count = str(workload.page_requests)
        pages = {
            "catalog_first_page_ms": "/v2/_catalog?n=100",
            "catalog_middle_page_ms": f"/v2/_catalog?n=100&last=bench/r{workload.repositories // 2:05d}",
            "tags_first_page_ms": "/v2/bench/tags/tags/list?n=100",
            "tags_middle_page_ms": f"/v2/bench/tags/tags/list?n=100&last=t{workload.tags // 2:05d}",
        }
        errors = 0
        for metric, path in pages.items():
            result = registry.load("latency", "--path", path, "--count", count)
            m[metric] = result["median_ms"]
            errors += result["errors"]
        m["listing_errors"] = errors
        return m
    finally:
        registry.stop()


# --- Machine limits ----------------------------------------------------------------------------

def sha256_single_core_MBps():
    """OpenSSL's SHA-256 on one core, over 1 MiB blocks as a blob push hashes them."""
    out = run(["openssl", "speed", "-seconds", "2", "-bytes", str(MIB), "-evp", "sha256"])
    line = [l for l in out.splitlines() if l.startswith("sha256")][-1]
    return float(line.split()[-1].rstrip("k")) * 1000 / 1e6


def dd_fdatasync_MBps(blob, scratch):
    target = os.path.join(scratch, "dd.out")
    start = time.monotonic()
    run(["dd", f"if={blob.path}", f"of={target}", "bs=1M", "conv=fdatasync", "status=none"])
    seconds = time.monotonic() - start
    os.remove(target)
    return blob.size / seconds / 1e6


def machine(scratch):
    device = run(["df", "--output=source,fstype", scratch]).splitlines()[-1].split()
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {"cores": os.cpu_count(), "cpu": model, "kernel": platform.release(),
            "memory_GiB": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB),
            "disk": f"{device[0]} ({device[1]})"}


# --- Report ------------------------------------------------------------------------------------

# metric: (description, better, target as a function of (ocireg, distribution, limits) -> text
# and verdict, or None when the issue sets no target).
def ratio_at_least(x):
    return lambda o, d, lim: (f">= {x}x", o / d >= x)


def ratio_at_most(x):
    return lambda o, d, lim: (f"<= {x}x", o / d <= x)


METRICS = {
    "push_monolithic_MBps": ("1 GiB push, monolithic (MB/s)", "higher",
                             lambda o, d, lim: (f">= 1.5x and >= 85% of dd "
                                                f"({0.85 * lim['dd_fdatasync_MBps']:.0f})",
                                                o / d >= 1.5 and
                                                o >= 0.85 * lim["dd_fdatasync_MBps"])),
    "push_chunked_MBps": ("1 GiB push, 64 MiB chunks (MB/s)", "higher",
                          lambda o, d, lim: (f">= 1.5x and >= 85% of dd "
                                             f"({0.85 * lim['dd_fdatasync_MBps']:.0f})",
                                             o / d >= 1.5 and
                                             o >= 0.85 * lim["dd_fdatasync_MBps"])),
    "pull_MBps": ("1 GiB pull (MB/s)", "higher",
                  lambda o, d, lim: (">= 1x and >= 2000", o >= d and o >= 2000)),
    "manifest_get_rps_c8": ("manifest GET by tag, 8 conns (req/s)", "higher", ratio_at_least(5)),
    "manifest_get_rps_c64": ("manifest GET by tag, 64 conns (req/s)", "higher",
                             ratio_at_least(5)),
    "blob_head_rps_c8": ("blob HEAD, 8 conns (req/s)", "higher", ratio_at_least(5)),
    "blob_head_rps_c64": ("blob HEAD, 64 conns (req/s)", "higher", ratio_at_least(5)),
    "request_errors": ("request errors in the rate and push runs", "lower",
                       lambda o, d, lim: ("0", o == 0)),
    "small_pushes_per_s": ("200 pushes of 16 KiB, 16 conns (pushes/s)", "higher",
                           ratio_at_least(2)),
    "skopeo_pull_s": ("skopeo pull, 5 layers of 256 KiB (s)", "lower", None),
    "cpu_s_per_gib_pushed": ("server CPU per GiB pushed (s)", "lower", ratio_at_most(0.5)),
    "cpu_s_per_1000_manifest_gets": ("server CPU per 1000 manifest GETs (s)", "lower", None),
    "peak_rss_push_MiB": ("peak RSS, 1 GiB push (MiB)", "lower", ratio_at_most(0.5)),
    "peak_rss_big_push_MiB": ("peak RSS, 4 GiB push (MiB)", "lower", ratio_at_most(0.5)),
    "push_big_MBps": ("4 GiB push, monolithic (MB/s)", "higher", None),
    "populate_repos_s": ("pushing 10k repositories of one image, 16 conns (s, once)", "lower",
                         None),
    "populate_tags_s": ("pushing 10k tags into one repository, 16 conns (s, once)", "lower", None),
    "startup_empty_s": ("startup, empty root (s)", "lower", None),
    "startup_populated_s": ("startup, 10k repos + 10k tags (s)", "lower",
                            lambda o, d, lim: ("< 1 s", o < 1)),
    "catalog_first_page_ms": ("catalog page of 100, first (ms)", "lower",
                              lambda o, d, lim: ("< 5 ms", o < 5)),
    "catalog_middle_page_ms": ("catalog page of 100, middle (ms)", "lower",
                               lambda o, d, lim: ("< 5 ms", o < 5)),
    "tags_first_page_ms": ("tag page of 100, first (ms)", "lower",
                           lambda o, d, lim: ("< 5 ms", o < 5)),
    "tags_middle_page_ms": ("tag page of 100, middle (ms)", "lower",
                            lambda o, d, lim: ("< 5 ms", o < 5)),
    "listing_errors": ("errors in the page requests", "lower", lambda o, d, lim: ("0", o == 0)),
}


def size_label(size):
    return f"{size // GIB} GiB" if size >= GIB else f"{size // MIB} MiB"


def describe(description, workload):
    """The description with the sizes of this run (--quick shrinks them)."""
    return (description.replace("4 GiB", size_label(workload.big_blob_bytes))
            .replace("1 GiB", size_label(workload.blob_bytes))
            .replace("64 MiB", size_label(workload.chunk_bytes))
            .replace("10k", f"{workload.repositories // 1000}k" if workload.repositories >= 1000
                     else str(workload.repositories)))


def summarize(samples, limits, workload):
    """Medians per registry and metric, the ratio, the target and the verdict."""
    rows = {}
    for metric, (description, better, target) in METRICS.items():
        description = describe(description, workload)
        o = statistics.median(samples["ocireg"][metric])
        d = statistics.median(samples["distribution"][metric])
        row = {"description": description, "better": better, "ocireg": o, "distribution": d,
               "ratio": (o / d) if d else None}
        if target is not None:
            row["target"], row["met"] = target(o, d, limits)
        rows[metric] = row
    # The same peak for a 4 GiB push as for a 1 GiB one: memory does not grow with the blob.
    o1 = rows["peak_rss_push_MiB"]["ocireg"]
    o4 = rows["peak_rss_big_push_MiB"]["ocireg"]
    rows["peak_rss_big_push_MiB"]["target"] += describe(" and <= 1.1x the 1 GiB push's", workload)
    rows["peak_rss_big_push_MiB"]["met"] &= o4 <= o1 * 1.1
    return rows


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def print_table(rows, limits, out=sys.stdout):
    header = ("metric", "ocireg", "distribution", "ocireg/distribution", "target", "met")
    lines = [header]
    for row in rows.values():
        lines.append((row["description"], fmt(row["ocireg"]), fmt(row["distribution"]),
                      fmt(row["ratio"]), row.get("target", "-"),
                      {True: "yes", False: "NO"}.get(row.get("met"), "-")))
    print("| " + " | ".join(lines[0]) + " |", file=out)
    print("|" + "|".join("---" for _ in header) + "|", file=out)
    for line in lines[1:]:
        print("| " + " | ".join(line) + " |", file=out)
    print(f"\nmachine limits: single-core SHA-256 {limits['sha256_MBps']:.0f} MB/s, "
          f"dd conv=fdatasync {limits['dd_fdatasync_MBps']:.0f} MB/s (median)", file=out)


# --- Main --------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 1 s rate runs: checks the script, not the servers")
    parser.add_argument("--work", help="scratch directory (default: a new one under $TMPDIR)")
    parser.add_argument("--json", help="also write the JSON line to this file")
    options = parser.parse_args()

    build = os.path.abspath(options.build_dir)
    serve = os.path.join(build, "tools", "ocireg-serve")
    load_tool = os.path.join(build, "bench", "registry_load")
    for tool in ("curl", "wrk", "ab", "skopeo", "openssl", "docker-registry"):
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is not installed (scripts/setup installs it)")
    workload = Workload(options.quick)
    scratch = options.work or tempfile.mkdtemp(prefix="ocireg-bench-")
    os.makedirs(scratch, exist_ok=True)
    registries = [Ocireg(serve, load_tool, scratch), Distribution(load_tool, scratch)]
    try:
        report = benchmark(registries, workload, scratch, options.rounds)
    finally:
        for registry in registries:
            registry.stop()
        if not options.work:
            shutil.rmtree(scratch, ignore_errors=True)
    print_table(report["rows"], report["limits"])
    line = json.dumps(report, sort_keys=True)
    print(line)
    if options.json:
        with open(options.json, "w") as f:
            f.write(line + "\n")
    if report["quick"]:
        # Sizes too small to judge the targets: a quick run checks that everything ran cleanly.
        errors = [m for m in ("request_errors", "listing_errors")
                  if report["rows"][m]["ocireg"] or report["rows"][m]["distribution"]]
        populate_errors = sum(sum(v["populate_errors"]) for v in report["samples"].values())
        return 1 if errors or populate_errors else 0
    return 0 if all(r.get("met", True) for r in report["rows"].values()) else 1


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def benchmark(registries, workload, scratch, rounds):
    log("writing the test blobs")
    push = Blob(os.path.join(scratch, "push.blob"), workload.blob_bytes)
    chunked = Blob(os.path.join(scratch, "chunked.blob"), workload.blob_bytes,
                   chunk_bytes=workload.chunk_bytes)
    big = Blob(os.path.join(scratch, "big.blob"), workload.big_blob_bytes, copies_of=push)
    blobs = {"push": push, "chunked": chunked}
    samples = {r.name: {} for r in registries}
    limits_samples = {"sha256_MBps": [], "dd_fdatasync_MBps": []}

    def add(registry, metrics):
        for key, value in metrics.items():
            samples[registry.name].setdefault(key, []).append(value)

    populated = {}
    for registry in registries:
        log(f"{registry.name}: {workload.repositories} repositories, {workload.tags} tags")
        root = os.path.join(scratch, registry.name + "-populated")
        add(registry, populate(registry, root, workload))
        populated[registry.name] = root
    for round_number in range(1, rounds + 1):
        limits_samples["sha256_MBps"].append(sha256_single_core_MBps())
        limits_samples["dd_fdatasync_MBps"].append(dd_fdatasync_MBps(push, scratch))
        for registry in registries:
            log(f"round {round_number}/{rounds}: {registry.name}")
            add(registry, measure_round(registry, blobs, workload, scratch))
            add(registry, measure_big_push(registry, big, scratch))
            add(registry, measure_listing(registry, populated[registry.name], workload))
    limits = {k: statistics.median(v) for k, v in limits_samples.items()}
    rows = summarize(samples, limits, workload)
    return {
        "date": datetime.date.today().isoformat(),
        "machine": machine(scratch),
        "rounds": rounds,
        "quick": workload.blob_bytes < GIB,
        "limits": limits,
        "rows": rows,
        "samples": samples,
    }


if __name__ == "__main__":
    sys.exit(main())
