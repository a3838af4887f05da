#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Side-by-side benchmark of ocireg-serve and CNCF distribution (Debian's docker-registry).

Both registries run on 127.0.0.1 over fresh filesystem storage roots in a scratch directory, and
the same workload runs against each in turn (ocireg, distribution, ocireg, ...) for --rounds
rounds. The report gives the median of each metric per registry, the ratio ocireg/distribution,
the target and whether it is met, as a table and as one JSON line. The machine's own limits are
measured in the same run: a `dd conv=fdatasync` write of the pushed blob's size into the scratch
directory, single-core SHA-256 and AES-128-GCM (`openssl speed -evp`), and TCP over loopback
(bench/loopback_speed).

A round runs these phases (bench/benchlib/phases.py), each on a fresh server:
  core     1 GiB pushed monolithically and in 64 MiB PATCHes (Expect: 100-continue), pulled three
           times; manifest GET and blob HEAD rates; 200 small pushes; a small skopeo pull
  paths    1 GiB in one streamed PATCH (chunked encoding, as Go clients push); 4 x 256 MiB pushed
           at once; the 1 GiB blob pulled as 4 parallel 256 MiB ranges
  tls      the same server over HTTPS: 1 GiB pushed monolithically, pulled three times
  skopeo   skopeo copy of a 1-layer 1 GiB image and of a 20 x 16 MiB image, pushed and pulled
  podman   podman push of the 1 GiB image (private vfs storage)
  ctr      ctr push of the 1 GiB image (a private containerd)
  big      a 4 GiB push on a fresh process, for its peak memory
  listing  startup over 10k repositories and 10k tags, catalog and tag page latencies
  s3       both registries storing in an S3 bucket of one Ceph RGW (tests/support/rgw, bluestore
           on a sparse file in the scratch directory), a fresh bucket each: 1 GiB pushed
           monolithically and in one streamed PATCH, pulled three times; manifest GET and blob
           HEAD rates; 200 small pushes; peak memory of the registry and of radosgw, and of the
           registry again after a 4 GiB push and pull; the S3
           requests per push and pull, counted in radosgw's ops log. Distribution is set not to
           redirect blob GETs to the gateway, so both serve the bytes themselves. The limit is
           the gateway's own: curl PUTting the 1 GiB blob as one object and GETting it back.
  cluster  replicas on one bucket of the same gateway and one Redis, behind HAProxy (both
           started by the benchmark on free ports in the scratch directory, stopped by PID):
           1 replica, then 3, a fresh bucket and Redis each; ocireg's replicas coordinate
           through Redis ([cluster] redis_url), distribution's share its blob descriptor cache
           there (and one http.secret). Through HAProxy: a 512 MiB blob pushed monolithically
           and pulled three times, manifest GET and blob HEAD rates at 64 connections, 200
           small images pushed by 16 clients; per push, pull, image, GET and HEAD the S3
           requests (ops log, as in s3) and the Redis commands, executed (INFO commandstats,
           scripts' commands included) and sent (MONITOR, in the push and pull steps). Rows
           clusterN_...; ocireg's 3-replica figures over its 1-replica ones besides. The
           replicas share the machine's cores with everything else: on 2 cores, 3 replicas
           measure coordination overhead, not a speed-up.
--only PHASE,... runs some of them (the table then has only their rows).

--drop-caches empties the kernel's page cache (`sync`, then `echo 1 > /proc/sys/vm/drop_caches`;
root only) before each phase of each registry. Without it a phase meets whatever the earlier
ones left: with memory full of cached files, every page a push writes must first be reclaimed,
which raises both servers' system time (by about 1 s per GiB here) and varies from phase to
phase. scripts/bench passes it when run as root.

Both registries fsync each blob before they acknowledge its push: distribution's filesystem
driver syncs an upload's file when it commits it, ocireg fdatasyncs the blob and fsyncs the
directories it changes.

Usage: bench/compare.py BUILD_DIR [--rounds N] [--quick] [--only PHASES] [--drop-caches]
                        [--work DIR] [--json FILE]
BUILD_DIR holds tools/ocireg-serve, bench/registry_load and bench/loopback_speed (a release build
gives the figures worth quoting). Needs curl, wrk, ab (apache2-utils), skopeo, podman, containerd,
openssl, docker-registry; the s3 and cluster phases also need ceph-mon, ceph-osd, radosgw and
ceph-common, and the cluster phase redis-server (with redis-cli) and haproxy.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile

from benchlib import clients, images, limits, phases, report
from benchlib.common import GIB, log
from benchlib.gateway import Gateway
from benchlib.registries import Distribution, Ocireg, Tls
from benchlib.transfers import Blob

TOOLS = ("curl", "wrk", "ab", "skopeo", "podman", "containerd", "ctr", "openssl",
         "docker-registry")
S3_TOOLS = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin")
CLUSTER_TOOLS = ("redis-server", "redis-cli", "haproxy")
# The phases that store in a bucket of the S3 gateway.
GATEWAY_PHASES = {"s3", "cluster"}
# The gateway's sparse block file: room for a round's blobs of both registries (distribution
# copies each blob once more as it commits it), freed bucket by bucket.
GATEWAY_GIB = {False: 24, True: 4}


class Run:
    """What the phases share: the workload, the scratch directory, and the blobs, image layouts
    and client stores made once, only for the phases that use them."""

    def __init__(self, workload, scratch, chosen, loopback_tool):
        self.workload = workload
        self.scratch = scratch
        self.loopback_tool = loopback_tool
        self.populated = {}
        self.podman = None
        self.containerd = None
        self.gateway = None

        def path(name):
            return os.path.join(scratch, name)

        size = workload.blob_bytes
        log("writing the test blobs")
        push = Blob(path("push.blob"), size)
        self.blobs = {"push": push}
        if "core" in chosen:
            self.blobs["chunked"] = Blob(path("chunked.blob"), size,
                                         chunk_bytes=workload.chunk_bytes)
        if "s3" in chosen:
            self.blobs["streamed"] = Blob(path("streamed.blob"), size)
        if "paths" in chosen:
            part = size // workload.parallel_parts
            self.blobs["parts"] = [Blob(path(f"part{i}.blob"), part)
                                   for i in range(workload.parallel_parts)]
        if "cluster" in chosen:
            self.blobs["cluster"] = Blob(path("cluster.blob"), workload.cluster_blob_bytes)
        if chosen & {"big", "s3"}:
            self.blobs["big"] = Blob(path("big.blob"), workload.big_blob_bytes, copies_of=push)
        self.tls = Tls(scratch) if "tls" in chosen else None
        self.layouts = {}
        if chosen & {"skopeo", "podman", "ctr"}:
            log("writing the image layouts")
            self.layouts["single"] = images.single_layer(path("image-single"), push)
        if "skopeo" in chosen:
            self.layouts["many"] = images.many_layers(path("image-many"), workload.many_layers,
                                                      workload.many_layer_bytes)

    def start_clients(self, chosen):
        """The podman store and the containerd daemon, each loaded with the 1-layer image."""
        if "podman" in chosen:
            log("podman: importing the image")
            self.podman = clients.Podman(self.scratch)
            self.podman.load(self.layouts["single"])
        if "ctr" in chosen:
            log("containerd: starting, importing the image")
            archive = self.layouts["single"].archive(os.path.join(self.scratch, "image.tar"))
            self.containerd = clients.Containerd(self.scratch)
            self.containerd.start()
            self.containerd.load(archive)
            os.remove(archive)

    def start_gateway(self, chosen):
        if chosen & GATEWAY_PHASES:
            log("starting the S3 gateway (Ceph RGW)")
            scripts = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   "tests", "support", "rgw")
            self.gateway = Gateway(scripts, os.path.join(self.scratch, "gateway"),
                                   GATEWAY_GIB[self.workload.quick])
            self.gateway.start()

    def stop_clients(self):
        if self.gateway is not None:
            self.gateway.stop()
        if self.containerd is not None:
            self.containerd.stop()
        if self.podman is not None:
            self.podman.remove()


def drop_page_cache():
    """Writes dirty pages back, then drops the clean ones from the page cache."""
    os.sync()
    with open("/proc/sys/vm/drop_caches", "w") as f:
        f.write("1\n")


def benchmark(registries, run, chosen, rounds, drop_caches=False):
    samples = {r.name: {} for r in registries}
    limit_samples = {}

    def add(to, metrics):
        for key, value in metrics.items():
            to.setdefault(key, []).append(value)

    if "listing" in chosen:
        for registry in registries:
            log(f"{registry.name}: {run.workload.repositories} repositories, "
                f"{run.workload.tags} tags")
            root = os.path.join(run.scratch, registry.name + "-populated")
            shutil.rmtree(root, ignore_errors=True)
            add(samples[registry.name], phases.populate(registry, root, run.workload))
            run.populated[registry.name] = root
    for round_number in range(1, rounds + 1):
        log(f"round {round_number}/{rounds}: machine limits")
        add(limit_samples, limits.measure(run.blobs["push"], run.scratch, run.loopback_tool,
                                          run.workload.loopback_bytes, run.podman,
                                          run.layouts.get("single"),
                                          run.layouts if "skopeo" in chosen else None))
        if run.gateway is not None:
            add(limit_samples, run.gateway.put_get_MBps(run.blobs["push"]))
        for registry in registries:
            for name, phase in phases.PHASES.items():
                if name in chosen:
                    log(f"round {round_number}/{rounds}: {registry.name}: {name}")
                    if drop_caches:
                        drop_page_cache()
                    add(samples[registry.name], phase(registry, run))
    medians = {k: statistics.median(v) for k, v in limit_samples.items()}
    rows = report.summarize(samples, medians, run.workload)
    return {
        "date": datetime.date.today().isoformat(),
        "machine": limits.machine(run.scratch),
        "rounds": rounds,
        "quick": run.workload.quick,
        "drop_caches": drop_caches,
        "phases": [name for name in phases.PHASES if name in chosen],
        "limits": medians,
        "rows": rows,
        "cluster_scaling": report.cluster_scaling(rows),
        "samples": samples,
    }


def parse_options():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="small sizes and 1 s rate runs: checks the script, not the servers")
    parser.add_argument("--only", help="comma-separated phases to run (default: all): " +
                        ", ".join(phases.PHASES))
    parser.add_argument("--drop-caches", action="store_true",
                        help="empty the page cache before each phase (root only)")
    parser.add_argument("--work", help="scratch directory (default: a new one under $TMPDIR)")
    parser.add_argument("--json", help="also write the JSON line to this file")
    options = parser.parse_args()
    options.chosen = set(options.only.split(",")) if options.only else set(phases.PHASES)
    unknown = options.chosen - set(phases.PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return options


def verdict(report_data):
    """The exit status: a quick run checks that everything ran cleanly (its sizes are too small
    to judge the targets); a full run, that every target is met."""
    rows = report_data["rows"]
    if report_data["quick"]:
        errors = [m for m in report.ERROR_METRICS
                  if m in rows and (rows[m]["ocireg"] or rows[m]["distribution"])]
        errors += report.failures(report_data["samples"])
        populate_errors = sum(sum(v.get("populate_errors", [])) for v in
                              report_data["samples"].values())
        return 1 if errors or populate_errors else 0
    return 0 if all(r.get("met", True) for r in rows.values()) else 1


def main():
    options = parse_options()
    if options.drop_caches and not os.access("/proc/sys/vm/drop_caches", os.W_OK):
        sys.exit("bench: --drop-caches needs root (it writes /proc/sys/vm/drop_caches)")
    build = os.path.abspath(options.build_dir)
    serve = os.path.join(build, "tools", "ocireg-serve")
    load_tool = os.path.join(build, "bench", "registry_load")
    needed = TOOLS + (S3_TOOLS if options.chosen & GATEWAY_PHASES else ())
    needed += CLUSTER_TOOLS if "cluster" in options.chosen else ()
    for tool in needed:
        if shutil.which(tool) is None:
            sys.exit(f"bench: {tool} is not installed (scripts/setup installs it)")
    workload = phases.Workload(options.quick)
    scratch = options.work or tempfile.mkdtemp(prefix="ocireg-bench-")
    os.makedirs(scratch, exist_ok=True)
    registries = [Ocireg(serve, load_tool, scratch), Distribution(load_tool, scratch)]
    run = None
    try:
        run = Run(workload, scratch, options.chosen,
                  os.path.join(build, "bench", "loopback_speed"))
        run.start_clients(options.chosen)
        run.start_gateway(options.chosen)
        result = benchmark(registries, run, options.chosen, options.rounds, options.drop_caches)
    finally:
        for registry in registries:
            registry.stop()
        if run is not None:
            run.stop_clients()
        if not options.work:
            shutil.rmtree(scratch, ignore_errors=True)
    report.print_table(result["rows"], result["limits"])
    report.print_s3_details(result["samples"])
    report.print_cluster_details(result["samples"], result["cluster_scaling"],
                                 result["machine"]["cores"])
    line = json.dumps(result, sort_keys=True)
    print(line)
    if options.json:
        with open(options.json, "w") as f:
            f.write(line + "\n")
    return verdict(result)


if __name__ == "__main__":
    sys.exit(main())
