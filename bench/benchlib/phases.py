# SPDX-License-Identifier: Apache-2.0
"""The phases of one round against one registry. Each starts the server over a fresh storage
root (the listing phase over its populated one) and stops it however the phase ends, and returns
metric -> value. `--only` picks phases by the names in PHASES."""

import collections
import contextlib
import os
import statistics

from . import clients, cluster, transfers
from .common import GIB, MIB, CpuMeter, log, peak_rss_mib
from .images import MANIFEST_TYPE
from .rates import ab_head, wrk_get
from .registries import S3Bucket, serving


class Workload:
    """What one round does; --quick shrinks it to check the script itself in a minute or two."""

    def __init__(self, quick):
        self.quick = quick
        self.blob_bytes = 32 * MIB if quick else GIB
        self.big_blob_bytes = 128 * MIB if quick else 4 * GIB
        self.chunk_bytes = 4 * MIB if quick else 64 * MIB
        self.parallel_parts = 4  # parallel pushes of blob_bytes / 4, and ranges of the pull
        self.many_layers = 20
        self.many_layer_bytes = MIB if quick else 16 * MIB
        self.loopback_bytes = 256 * MIB if quick else 2 * GIB
        self.rate_seconds = 1 if quick else 5
        self.small_pushes = 200
        self.small_push_bytes = 16 * 1024
        self.small_push_connections = 16
        self.image_layers = 5
        self.image_layer_bytes = 256 * 1024
        self.repositories = 300 if quick else 10000
        self.tags = 300 if quick else 10000
        self.page_requests = 50 if quick else 200
        # The cluster phase: one blob pushed and pulled, small images pushed, rates at one
        # number of connections; the same workload with each number of replicas.
        self.cluster_replicas = (1, 3)
        self.cluster_blob_bytes = 16 * MIB if quick else 512 * MIB
        self.cluster_images = 40 if quick else 200
        self.cluster_rate_connections = 64


def core(registry, run):
    """Monolithic and 64 MiB-PATCH pushes, pulls, request rates, small pushes, a small skopeo
    pull."""
    m = {}
    errors = 0
    blob, chunked = run.blobs["push"], run.blobs["chunked"]
    with serving(registry, run.scratch):
        m["startup_empty_s"] = registry.ready_seconds
        cpu = CpuMeter(registry.pid)
        seconds = transfers.push_monolithic(registry, "bench/big", blob)
        m["cpu_s_per_gib_pushed"] = cpu.per_gib(blob.size)
        m["push_monolithic_MBps"] = blob.size / seconds / 1e6
        m["peak_rss_push_MiB"] = peak_rss_mib(registry.pid)
        # Three pulls, the first right after the push: their median is the round's figure.
        cpu = CpuMeter(registry.pid)
        pulls = [transfers.pull(registry, "bench/big", blob) for _ in range(3)]
        m["cpu_s_per_gib_pulled"] = cpu.per_gib(3 * blob.size)
        m["pull_MBps"] = blob.size / statistics.median(pulls) / 1e6
        cpu = CpuMeter(registry.pid)
        seconds = transfers.push_chunked(registry, "bench/big", chunked)
        m["cpu_s_per_gib_chunked"] = cpu.per_gib(chunked.size)
        m["push_chunked_MBps"] = chunked.size / seconds / 1e6

        image = registry.load("push-image", "--repo", "bench/small", "--tag", "v1",
                              "--layers", str(run.workload.image_layers),
                              "--layer-size", str(run.workload.image_layer_bytes))
        errors += request_rates(registry, run.workload, image["layer_digests"][0], m)

        pushes = registry.load("push-blobs", "--repo", "bench/many",
                               "--count", str(run.workload.small_pushes),
                               "--size", str(run.workload.small_push_bytes),
                               "--connections", str(run.workload.small_push_connections))
        m["small_pushes_per_s"] = pushes["pushes_per_second"]
        errors += pushes["errors"]
        m["skopeo_pull_s"] = clients.skopeo_pull(registry, "bench/small",
                                                 os.path.join(run.scratch, "skopeo-pull"))
    m["request_errors"] = errors
    return m


def request_rates(registry, workload, layer, m, prefix="", requests=None):
    """Manifest GETs and blob HEADs at 8 and 64 connections into m (each metric's name after
    prefix); returns the errors. On S3, requests(bucket) counts the gateway's requests: their
    number per GET and per HEAD goes into m too."""
    errors = 0
    gets = 0
    cpu = CpuMeter(registry.pid)
    with counting(requests) as ops:
        for connections in (8, 64):
            rate, total, failed = wrk_get(registry, "/v2/bench/small/manifests/v1", connections,
                                          workload.rate_seconds, [f"Accept: {MANIFEST_TYPE}"])
            m[f"{prefix}manifest_get_rps_c{connections}"] = rate
            gets += total
            errors += failed
    m[f"{prefix}cpu_s_per_1000_manifest_gets"] = cpu.seconds() * 1000 / gets
    heads = 0
    with counting(requests) as head_ops:
        for connections in (8, 64):
            rate, total, failed = ab_head(registry, f"/v2/bench/small/blobs/{layer}",
                                          connections, workload.rate_seconds)
            m[f"{prefix}blob_head_rps_c{connections}"] = rate
            heads += total
            errors += failed
    if requests is not None:
        m[f"{prefix}requests_per_manifest_get"] = ops.total / gets
        m[f"{prefix}requests_per_blob_head"] = head_ops.total / heads
    return errors


@contextlib.contextmanager
def counting(requests):
    """requests() when there is one to count with, else nothing."""
    if requests is None:
        yield None
    else:
        with requests() as count:
            yield count


def push_paths(registry, run):
    """The push paths of the real clients: one streamed PATCH, several layers at once; and the
    pull in parallel ranges."""
    m = {}
    blob, parts = run.blobs["push"], run.blobs["parts"]
    with serving(registry, run.scratch):
        cpu = CpuMeter(registry.pid)
        seconds = transfers.push_streamed(registry, "bench/streamed", blob)
        m["cpu_s_per_gib_streamed"] = cpu.per_gib(blob.size)
        m["push_streamed_MBps"] = blob.size / seconds / 1e6
        total = sum(part.size for part in parts)
        cpu = CpuMeter(registry.pid)
        seconds = transfers.push_parallel(registry, "bench/parallel", parts)
        m["cpu_s_per_gib_parallel"] = cpu.per_gib(total)
        m["push_parallel_MBps"] = total / seconds / 1e6
        seconds = transfers.pull_ranged(registry, "bench/streamed", blob,
                                        run.workload.parallel_parts)
        m["pull_ranged_MBps"] = blob.size / seconds / 1e6
    return m


def tls(registry, run):
    """A monolithic push and three pulls over TLS, with the server's CPU for each."""
    m = {}
    blob = run.blobs["push"]
    with serving(registry, run.scratch, tls=run.tls):
        cpu = CpuMeter(registry.pid)
        seconds = transfers.push_monolithic(registry, "bench/tls", blob)
        m["tls_cpu_s_per_gib_pushed"] = cpu.per_gib(blob.size)
        m["tls_push_MBps"] = blob.size / seconds / 1e6
        cpu = CpuMeter(registry.pid)
        pulls = [transfers.pull(registry, "bench/tls", blob) for _ in range(3)]
        m["tls_cpu_s_per_gib_pulled"] = cpu.per_gib(3 * blob.size)
        m["tls_pull_MBps"] = blob.size / statistics.median(pulls) / 1e6
    return m


def skopeo(registry, run):
    """skopeo copy of the one-layer and the 20-layer image, each pushed then pulled back."""
    m = {}
    target = os.path.join(run.scratch, "skopeo-pull")
    with serving(registry, run.scratch):
        for key, layout in (("1g", run.layouts["single"]), ("20", run.layouts["many"])):
            seconds, cpu = clients.skopeo_push(registry, layout, f"bench/skopeo{key}")
            m[f"skopeo_push_{key}_s"] = seconds
            m[f"skopeo_push_{key}_cpu_s"] = cpu
            m[f"skopeo_pull_{key}_s"] = clients.skopeo_pull(registry, f"bench/skopeo{key}",
                                                            target)
    return m


def podman(registry, run):
    with serving(registry, run.scratch):
        return {"podman_push_s": run.podman.push(registry, "bench/podman")}


def ctr(registry, run):
    with serving(registry, run.scratch):
        return {"ctr_push_s": run.containerd.push(registry, "bench/ctr")}


def big_push(registry, run):
    """Peak resident memory of a fresh server through one push of the big blob."""
    blob = run.blobs["big"]
    with serving(registry, run.scratch):
        seconds = transfers.push_monolithic(registry, "bench/huge", blob)
        return {"peak_rss_big_push_MiB": peak_rss_mib(registry.pid),
                "push_big_MBps": blob.size / seconds / 1e6}


def on_s3(registry, run):
    """The core workload with the registry storing in a fresh bucket of the S3 gateway that both
    registries use in turn: 1 GiB pushed monolithically and in one streamed PATCH, pulled three
    times; manifest GET and blob HEAD rates; 200 small pushes; the registry's and the gateway's
    peak memory, and the registry's after a 4 GiB push and pull; and the S3 requests each step
    cost, counted at the gateway. A failure (such as a
    registry that cannot start on S3) ends the phase for this registry only: the figures so far
    and the failure are kept, and the other registry still runs."""
    m = {}
    try:
        s3_steps(registry, run, m)
    except RuntimeError as error:
        log(f"{registry.name}: s3 phase failed: {error}")
        m["s3_failure"] = str(error)
    return m


def s3_steps(registry, run, m):
    gateway, workload = run.gateway, run.workload
    blob, streamed = run.blobs["push"], run.blobs["streamed"]
    with gateway.fresh_bucket(registry.name) as bucket, \
            serving(registry, run.scratch, s3=S3Bucket(gateway, bucket)):
        gateway.reset_peak_rss()

        def requests():
            return gateway.requests(bucket)

        cpu = CpuMeter(registry.pid)
        with requests() as ops:
            seconds = transfers.push_monolithic(registry, "bench/big", blob)
        m["s3_cpu_s_per_gib_pushed"] = cpu.per_gib(blob.size)
        m["s3_push_monolithic_MBps"] = blob.size / seconds / 1e6
        note_requests(m, "push_monolithic", ops)
        cpu = CpuMeter(registry.pid)
        with requests() as ops:
            pulls = [transfers.pull(registry, "bench/big", blob) for _ in range(3)]
        m["s3_cpu_s_per_gib_pulled"] = cpu.per_gib(3 * blob.size)
        m["s3_pull_MBps"] = blob.size / statistics.median(pulls) / 1e6
        note_requests(m, "pull", ops, per=3)
        with requests() as ops:
            seconds = transfers.push_streamed(registry, "bench/big", streamed)
        m["s3_push_streamed_MBps"] = streamed.size / seconds / 1e6
        note_requests(m, "push_streamed", ops)

        image = registry.load("push-image", "--repo", "bench/small", "--tag", "v1",
                              "--layers", str(workload.image_layers),
                              "--layer-size", str(workload.image_layer_bytes))
        errors = request_rates(registry, workload, image["layer_digests"][0], m, prefix="s3_",
                               requests=requests)
        with requests() as ops:
            pushes = registry.load("push-blobs", "--repo", "bench/many",
                                   "--count", str(workload.small_pushes),
                                   "--size", str(workload.small_push_bytes),
                                   "--connections", str(workload.small_push_connections))
        m["s3_small_pushes_per_s"] = pushes["pushes_per_second"]
        note_requests(m, "small_push", ops, per=workload.small_pushes)
        m["s3_request_errors"] = errors + pushes["errors"]
        m["s3_peak_rss_MiB"] = peak_rss_mib(registry.pid)
        m["s3_gateway_peak_rss_MiB"] = gateway.peak_rss_mib()

        # Memory must stay within a few parts however large the blob: a 4 GiB push and pull.
        big = run.blobs["big"]
        seconds = transfers.push_monolithic(registry, "bench/huge", big)
        m["s3_push_big_MBps"] = big.size / seconds / 1e6
        transfers.pull(registry, "bench/huge", big)
        m["s3_peak_rss_big_MiB"] = peak_rss_mib(registry.pid)


def note_requests(m, step, ops, per=1):
    """The gateway's requests for one step into m: their number (per push or pull), and by
    operation for the record."""
    m[f"s3_requests_{step}"] = ops.total / per
    m[f"s3_operations_{step}"] = dict(ops.by_operation)


# The object each ocireg replica writes and removes for a readiness probe (GET /readyz, which
# HAProxy's health checks ask every 2 s; one probe a second at most), whatever the workload:
# left out of the request counts of the cluster phase.
READINESS_PROBE_KEYS = ("_probe",)


def on_cluster(registry, run):
    """Replicas of the registry on one fresh bucket of the S3 gateway and one Redis, behind
    HAProxy, once with each number of replicas of workload.cluster_replicas (1, 3), all requests
    through HAProxy: a blob pushed monolithically and pulled three times, manifest GET and blob
    HEAD rates, small images pushed by several clients; the S3 requests (at the gateway) and the
    Redis commands of each step (executed, from INFO commandstats; sent, from MONITOR where
    scripts ran), per push, pull, image, GET and HEAD. Metrics are named clusterN_...; a failure
    ends that number of replicas only (clusterN_failure), the others still run."""
    m = {}
    for count in run.workload.cluster_replicas:
        try:
            cluster_steps(registry, run, count, m)
        except RuntimeError as error:
            log(f"{registry.name}: cluster phase with {count} replicas failed: {error}")
            m[f"cluster{count}_failure"] = str(error)
    return m


class Cost:
    """What one step of the cluster phase costs at the gateway and in Redis; `per` divides the
    counts (pushes, pulls, requests of the step), set inside the step when only it knows."""

    def __init__(self):
        self.per = 1


def cluster_steps(registry, run, count, m):
    gateway, workload = run.gateway, run.workload
    blob = run.blobs["cluster"]
    prefix = f"cluster{count}_"
    directory = os.path.join(run.scratch, f"cluster-{registry.name}")
    left_out = collections.Counter()
    with gateway.fresh_bucket(f"{registry.name}-cluster{count}") as bucket, \
            cluster.running(registry, directory, count, S3Bucket(gateway, bucket)) as replicas:
        front, redis = replicas.front, replicas.redis

        @contextlib.contextmanager
        def costs(step, monitor=True):
            cost = Cost()
            with gateway.requests(bucket, leave_out=READINESS_PROBE_KEYS) as s3, \
                    redis.commands(monitor) as commands:
                yield cost
            m[f"{prefix}s3_per_{step}"] = s3.total / cost.per
            m[f"{prefix}redis_per_{step}"] = commands.total / cost.per
            if commands.sent is not None:
                m[f"{prefix}redis_sent_per_{step}"] = commands.sent / cost.per
            m[f"{prefix}s3_operations_{step}"] = dict(s3.by_operation)
            m[f"{prefix}redis_commands_{step}"] = dict(commands.by_command)
            left_out.update(s3.left_out)

        with costs("push"):
            seconds = transfers.push_monolithic(front, "bench/big", blob)
        m[f"{prefix}push_MBps"] = blob.size / seconds / 1e6
        with costs("pull") as cost:
            pulls = [transfers.pull(front, "bench/big", blob) for _ in range(3)]
            cost.per = len(pulls)
        m[f"{prefix}pull_MBps"] = blob.size / statistics.median(pulls) / 1e6

        image = front.load("push-image", "--repo", "bench/small", "--tag", "v1",
                           "--layers", str(workload.image_layers),
                           "--layer-size", str(workload.image_layer_bytes))
        connections = workload.cluster_rate_connections
        # No MONITOR in the rate runs: its line per command would slow Redis down.
        with costs("manifest_get", monitor=False) as cost:
            rate, cost.per, errors = wrk_get(front, "/v2/bench/small/manifests/v1", connections,
                                             workload.rate_seconds,
                                             [f"Accept: {MANIFEST_TYPE}"])
        m[f"{prefix}manifest_get_rps"] = rate
        with costs("blob_head", monitor=False) as cost:
            rate, cost.per, failed = ab_head(front,
                                             f"/v2/bench/small/blobs/{image['layer_digests'][0]}",
                                             connections, workload.rate_seconds)
        m[f"{prefix}blob_head_rps"] = rate
        errors += failed
        with costs("small_push") as cost:
            pushes = front.load("push-images", "--repo", "bench/many",
                                "--count", str(workload.cluster_images),
                                "--size", str(workload.small_push_bytes),
                                "--connections", str(workload.small_push_connections))
            cost.per = workload.cluster_images
        m[f"{prefix}small_pushes_per_s"] = pushes["images_per_second"]
        m[f"{prefix}request_errors"] = errors + pushes["errors"]
        m[f"{prefix}s3_left_out"] = dict(left_out)
        # Whether round robin spread the work: each replica's share of the requests.
        m[f"{prefix}requests_by_replica"] = replicas.haproxy.server_requests()


def populate(registry, root, workload):
    """Fills a root with many repositories and one repository with many tags, once."""
    with serving(registry, None, keep_root=root):
        repos = registry.load("populate-repos", "--count", str(workload.repositories),
                              "--prefix", "bench/r")
        tags = registry.load("populate-tags", "--repo", "bench/tags",
                             "--count", str(workload.tags))
        return {"populate_repos_s": repos["seconds"], "populate_tags_s": tags["seconds"],
                "populate_errors": repos["errors"] + tags["errors"]}


def listing(registry, run):
    """Startup over the populated root, then catalog and tag page latencies."""
    workload = run.workload
    with serving(registry, None, keep_root=run.populated[registry.name]):
        m = {"startup_populated_s": registry.ready_seconds}
        pages = {
            "catalog_first_page_ms": "/v2/_catalog?n=100",
            "catalog_middle_page_ms":
                f"/v2/_catalog?n=100&last=bench/r{workload.repositories // 2:05d}",
            "tags_first_page_ms": "/v2/bench/tags/tags/list?n=100",
            "tags_middle_page_ms": f"/v2/bench/tags/tags/list?n=100&last=t{workload.tags // 2:05d}",
        }
        errors = 0
        for metric, path in pages.items():
            result = registry.load("latency", "--path", path, "--count",
                                   str(workload.page_requests))
            m[metric] = result["median_ms"]
            errors += result["errors"]
        m["listing_errors"] = errors
        return m


# In the order a round runs them.
PHASES = {
    "core": core,
    "paths": push_paths,
    "tls": tls,
    "skopeo": skopeo,
    "podman": podman,
    "ctr": ctr,
    "big": big_push,
    "listing": listing,
    "s3": on_s3,
    "cluster": on_cluster,
}
