# SPDX-License-Identifier: Apache-2.0
"""The rows of the report: what each metric is, which way is better, its target; the medians,
ratios and verdicts of a run, printed as a Markdown table."""

import re
import statistics
import sys

from .common import GIB, MIB
from .limits import LIMITS


# A target is a function of (ocireg, distribution, limits) -> (text, verdict). A ratio to a zero
# figure of distribution's is no verdict either way: it counts as not met.
def ratio_at_least(x):
    return lambda o, d, lim: (f">= {x}x", d > 0 and o / d >= x)


def ratio_at_most(x, note=""):
    return lambda o, d, lim: (f"<= {x}x{note}", d > 0 and o / d <= x)


def push_target(o, d, lim):
    """Every push path: 1.5x distribution's throughput and 85% of what the disk can sync."""
    floor = 0.85 * lim["dd_fdatasync_MBps"]
    return (f">= 1.5x and >= 85% of dd ({floor:.0f})",
            d > 0 and o / d >= 1.5 and o >= floor)


def pull_target(o, d, lim):
    """Every pull: no slower than distribution, and close to what curl takes from a server that
    sends from memory over loopback (the limits), so that only the server's own cost shows."""
    floor = 0.7 * lim["curl_pull_MBps"]
    return (f">= 1x and >= 70% of curl's ceiling ({floor:.0f})", d > 0 and o >= d and o >= floor)


def gateway_ratio(x, limit):
    """A ratio target on S3, with the gateway's own rate for one client beside it."""
    return lambda o, d, lim: (f">= {x}x (gateway alone: {lim.get(limit, 0):.0f})",
                              d > 0 and o / d >= x)


FASTER = " (1.5x faster)"

# metric: (description, better, target or None when the issue sets none). Sizes in descriptions
# are those of a full run; describe() puts in the sizes of a --quick one.
METRICS = {
    "push_monolithic_MBps": ("1 GiB push, monolithic (MB/s)", "higher", push_target),
    "push_streamed_MBps": ("1 GiB push, one streamed PATCH, chunked encoding (MB/s)", "higher",
                           push_target),
    "push_chunked_MBps": ("1 GiB push, 64 MiB PATCHes, Expect: 100-continue (MB/s)", "higher",
                          push_target),
    "push_parallel_MBps": ("4 x 256 MiB pushed in parallel, monolithic (MB/s, total)", "higher",
                           push_target),
    "pull_MBps": ("1 GiB pull (MB/s)", "higher", pull_target),
    "pull_ranged_MBps": ("1 GiB pull as 4 parallel 256 MiB ranges (MB/s)", "higher",
                         pull_target),
    "tls_push_MBps": ("TLS: 1 GiB push, monolithic (MB/s)", "higher", ratio_at_least(1.5)),
    "tls_pull_MBps": ("TLS: 1 GiB pull (MB/s)", "higher", ratio_at_least(1.0)),
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
    "skopeo_push_1g_s": ("skopeo push, 1 layer of 1 GiB (s)", "lower",
                         ratio_at_most(0.67, FASTER)),
    "skopeo_pull_1g_s": ("skopeo pull, 1 layer of 1 GiB (s)", "lower", ratio_at_most(1.0)),
    "skopeo_push_20_s": ("skopeo push, 20 layers of 16 MiB (s)", "lower",
                         ratio_at_most(0.67, FASTER)),
    "skopeo_pull_20_s": ("skopeo pull, 20 layers of 16 MiB (s)", "lower", ratio_at_most(1.0)),
    # podman compresses the layer as it pushes, which takes most of the time (the limits show
    # podman alone): 1.5x faster is out of the registry's reach, no slower is the target.
    "podman_push_s": ("podman push, 1 layer of 1 GiB, gzip (s)", "lower",
                      ratio_at_most(1.0, " (podman compresses)")),
    "ctr_push_s": ("ctr push, 1 layer of 1 GiB (s)", "lower", ratio_at_most(0.67, FASTER)),
    "skopeo_push_1g_cpu_s": ("skopeo's own CPU, push of 1 GiB (s)", "lower", None),
    "skopeo_push_20_cpu_s": ("skopeo's own CPU, push of 20 layers (s)", "lower", None),
    "cpu_s_per_gib_pushed": ("server CPU per GiB pushed (s)", "lower", ratio_at_most(0.5)),
    "cpu_s_per_gib_streamed": ("server CPU per GiB pushed, streamed PATCH (s)", "lower",
                               ratio_at_most(0.5)),
    "cpu_s_per_gib_chunked": ("server CPU per GiB pushed, 64 MiB PATCHes (s)", "lower",
                              ratio_at_most(0.5)),
    "cpu_s_per_gib_parallel": ("server CPU per GiB pushed, 4 in parallel (s)", "lower",
                               ratio_at_most(0.5)),
    "cpu_s_per_gib_pulled": ("server CPU per GiB pulled (s)", "lower", None),
    "tls_cpu_s_per_gib_pushed": ("TLS: server CPU per GiB pushed (s)", "lower", None),
    "tls_cpu_s_per_gib_pulled": ("TLS: server CPU per GiB pulled (s)", "lower",
                                 ratio_at_most(0.7)),
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
    "s3_push_monolithic_MBps": ("S3: 1 GiB push, monolithic (MB/s)", "higher",
                                gateway_ratio(1.5, "s3_put_MBps")),
    "s3_push_streamed_MBps": ("S3: 1 GiB push, one streamed PATCH (MB/s)", "higher",
                              gateway_ratio(1.5, "s3_put_MBps")),
    "s3_pull_MBps": ("S3: 1 GiB pull (MB/s)", "higher", gateway_ratio(1.5, "s3_get_MBps")),
    "s3_manifest_get_rps_c8": ("S3: manifest GET by tag, 8 conns (req/s)", "higher", None),
    "s3_manifest_get_rps_c64": ("S3: manifest GET by tag, 64 conns (req/s)", "higher", None),
    "s3_blob_head_rps_c8": ("S3: blob HEAD, 8 conns (req/s)", "higher", None),
    "s3_blob_head_rps_c64": ("S3: blob HEAD, 64 conns (req/s)", "higher", None),
    "s3_small_pushes_per_s": ("S3: 200 pushes of 16 KiB, 16 conns (pushes/s)", "higher",
                              ratio_at_least(2)),
    "s3_request_errors": ("S3: request errors in the rate and push runs", "lower",
                          lambda o, d, lim: ("0", o == 0)),
    "s3_peak_rss_MiB": ("S3: peak RSS of the registry over the phase (MiB)", "lower",
                        ratio_at_most(0.5)),
    "s3_push_big_MBps": ("S3: 4 GiB push, monolithic (MB/s)", "higher", None),
    "s3_peak_rss_big_MiB": ("S3: peak RSS of the registry after a 4 GiB push and pull (MiB)",
                            "lower", ratio_at_most(0.5)),
    "s3_gateway_peak_rss_MiB": ("S3: peak RSS of radosgw meanwhile (MiB, for information)",
                                "lower", None),
    "s3_cpu_s_per_gib_pushed": ("S3: server CPU per GiB pushed, monolithic (s)", "lower", None),
    "s3_cpu_s_per_gib_pulled": ("S3: server CPU per GiB pulled (s)", "lower", None),
    "s3_requests_push_monolithic": ("S3: gateway requests for the 1 GiB monolithic push",
                                    "lower", None),
    "s3_requests_push_streamed": ("S3: gateway requests for the 1 GiB streamed push", "lower",
                                  None),
    "s3_requests_small_push": ("S3: gateway requests per 16 KiB push", "lower", None),
    "s3_requests_pull": ("S3: gateway requests per 1 GiB pull", "lower", None),
    "s3_requests_per_manifest_get": ("S3: gateway requests per manifest GET", "lower", None),
    "s3_requests_per_blob_head": ("S3: gateway requests per blob HEAD", "lower", None),
}


def cluster_metrics(replicas):
    """The rows of the cluster phase for one number of replicas (metric names clusterN_...)."""
    label = f"{replicas} replica" + ("s" if replicas > 1 else "")
    rows = {
        "push_MBps": ("512 MiB push, monolithic (MB/s)", "higher",
                      gateway_ratio(1.0, "s3_put_MBps")),
        "pull_MBps": ("512 MiB pull (MB/s)", "higher", gateway_ratio(1.0, "s3_get_MBps")),
        "manifest_get_rps": ("manifest GET by tag, 64 conns (req/s)", "higher",
                             ratio_at_least(1.0)),
        "blob_head_rps": ("blob HEAD, 64 conns (req/s)", "higher", ratio_at_least(1.0)),
        "small_pushes_per_s": ("200 images of 16 KiB pushed, 16 conns (images/s)", "higher",
                               ratio_at_least(1.0)),
        "request_errors": ("request errors in the rate and push runs", "lower",
                           lambda o, d, lim: ("0", o == 0)),
    }
    for what, unit in (("s3", "S3 requests"),
                       ("redis", "Redis commands executed (a script's count too)"),
                       ("redis_sent", "Redis commands sent (round trips)")):
        rows.update({
            f"{what}_per_push": (f"{unit} per 512 MiB push", "lower", None),
            f"{what}_per_pull": (f"{unit} per 512 MiB pull", "lower", None),
            f"{what}_per_small_push": (f"{unit} per image of 16 KiB pushed", "lower", None),
            f"{what}_per_manifest_get": (f"{unit} per manifest GET", "lower", None),
            f"{what}_per_blob_head": (f"{unit} per blob HEAD", "lower", None),
        })
    return {f"cluster{replicas}_{name}": (f"cluster, {label}: {description}", better, target)
            for name, (description, better, target) in rows.items()}


for _replicas in (1, 3):
    METRICS.update(cluster_metrics(_replicas))

# Counts of failures that a --quick run checks are zero (its sizes are too small for targets).
ERROR_METRICS = ("request_errors", "listing_errors", "s3_request_errors",
                 "cluster1_request_errors", "cluster3_request_errors")


def size_label(size):
    return f"{size // GIB} GiB" if size >= GIB else f"{size // MIB} MiB"


def describe(description, workload):
    """The description with the sizes of this run, in one pass so no label is replaced twice."""
    count = (f"{workload.repositories // 1000}k" if workload.repositories >= 1000
             else str(workload.repositories))
    sizes = {"4 GiB": size_label(workload.big_blob_bytes),
             "1 GiB": size_label(workload.blob_bytes),
             "256 MiB": size_label(workload.blob_bytes // workload.parallel_parts),
             "64 MiB": size_label(workload.chunk_bytes),
             "16 MiB": size_label(workload.many_layer_bytes),
             "512 MiB": size_label(workload.cluster_blob_bytes),
             "200 images": f"{workload.cluster_images} images",
             "16 KiB": f"{workload.small_push_bytes // 1024} KiB",
             "10k": count}
    return re.sub("|".join(sizes), lambda m: sizes[m.group()], description)


def summarize(samples, limits, workload):
    """Medians per registry and metric, the ratio, the target and the verdict, for every metric
    this run measured (--only leaves some out)."""
    rows = {}
    for metric, (description, better, target) in METRICS.items():
        o = median_of(samples["ocireg"], metric)
        d = median_of(samples["distribution"], metric)
        if o is None and d is None:
            continue
        row = {"description": describe(description, workload), "better": better,
               "ocireg": o, "distribution": d, "ratio": (o / d) if o is not None and d else None}
        if target is not None:
            # A figure only one registry has (the other failed the phase): the target's text,
            # not met.
            if o is None or d is None:
                row["target"], row["met"] = target(0.0, 1.0, limits)[0], False
            else:
                row["target"], row["met"] = target(o, d, limits)
        rows[metric] = row
    # The same peak for a 4 GiB push as for a 1 GiB one: memory does not grow with the blob.
    if "peak_rss_push_MiB" in rows and "target" in rows.get("peak_rss_big_push_MiB", {}):
        o1 = rows["peak_rss_push_MiB"]["ocireg"]
        big = rows["peak_rss_big_push_MiB"]
        big["target"] += describe(" and <= 1.1x the 1 GiB push's", workload)
        big["met"] &= big["ocireg"] <= o1 * 1.1
    return rows


def median_of(registry_samples, metric):
    values = registry_samples.get(metric)
    return statistics.median(values) if values else None


def failures(samples):
    """"registry: message" for each phase a registry could not finish."""
    return [f"{name}: {key[:-len('_failure')]}: {message}"
            for name, metrics in samples.items()
            for key, messages in sorted(metrics.items()) if key.endswith("_failure")
            for message in messages]


def print_s3_details(samples, out=sys.stdout):
    """The gateway's requests of each step of the s3 phase by operation (the last round's), and
    the failures of the phase."""
    steps = sorted({key for metrics in samples.values() for key in metrics
                    if key.startswith("s3_operations_")})
    if steps:
        print("\nS3 requests at the gateway by operation (last round):", file=out)
    for key in steps:
        step = key[len("s3_operations_"):]
        for name, metrics in samples.items():
            if key in metrics:
                ops = ", ".join(f"{op} {n}" for op, n in sorted(metrics[key][-1].items()))
                print(f"  {step}, {name}: {ops or 'none'}", file=out)
    for failure in failures(samples):
        print(f"\nFAILED {failure}", file=out)


def cluster_scaling(rows):
    """ocireg's figures of the cluster phase with 3 replicas over those with 1, for each metric
    both have: {metric: {"replicas1", "replicas3", "ratio"}} (metric without its clusterN_)."""
    scaling = {}
    for metric, row in rows.items():
        if not metric.startswith("cluster1_"):
            continue
        name = metric[len("cluster1_"):]
        three = rows.get(f"cluster3_{name}")
        one = row["ocireg"]
        if three is None or one is None or three["ocireg"] is None:
            continue
        scaling[name] = {"replicas1": one, "replicas3": three["ocireg"],
                         "ratio": three["ocireg"] / one if one else None}
    return scaling


def print_cluster_details(samples, scaling, cores, out=sys.stdout):
    """ocireg's 3-replica figures over its 1-replica ones, and the S3 requests and Redis
    commands of each step of the cluster phase by operation and command (the last round's)."""
    if not any(key.startswith("cluster") for metrics in samples.values() for key in metrics):
        return
    print(f"\nCluster: all processes share this machine's {cores} cores (replicas, HAProxy, "
          "Redis, the gateway, the clients); on a 2-core machine, 3 replicas measure the "
          "overhead of coordination, not a speed-up.", file=out)
    if scaling:
        print("\nCluster, ocireg with 3 replicas over 1 replica:", file=out)
        print("| metric | 1 replica | 3 replicas | 3/1 |\n|---|---|---|---|", file=out)
    for name, figures in scaling.items():
        print(f"| {name} | {fmt(figures['replicas1'])} | {fmt(figures['replicas3'])} | "
              f"{fmt(figures['ratio'])} |", file=out)
    print("\nCluster: requests HAProxy sent each replica (last round):", file=out)
    for name, metrics in samples.items():
        for key in sorted(k for k in metrics if k.endswith("_requests_by_replica")):
            print(f"  {key.split('_')[0]}, {name}: {metrics[key][-1]}", file=out)
    for what, title in (("s3_operations_", "S3 requests at the gateway by operation"),
                        ("redis_commands_", "Redis commands by command")):
        keys = sorted({key for metrics in samples.values() for key in metrics
                       if key.startswith("cluster") and what in key})
        if keys:
            print(f"\nCluster: {title}, in all for the step (last round):", file=out)
        for key in keys:
            shape, step = key.split("_" + what)
            for name, metrics in samples.items():
                if key in metrics:
                    counts = ", ".join(f"{op} {n}" for op, n in sorted(metrics[key][-1].items()))
                    print(f"  {shape} {step}, {name}: {counts or 'none'}", file=out)


def fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def print_table(rows, limits, out=sys.stdout):
    header = ("metric", "ocireg", "distribution", "ocireg/distribution", "target", "met")
    print("| " + " | ".join(header) + " |", file=out)
    print("|" + "|".join("---" for _ in header) + "|", file=out)
    for row in rows.values():
        line = (row["description"], fmt(row["ocireg"]), fmt(row["distribution"]),
                fmt(row["ratio"]), row.get("target", "-"),
                {True: "yes", False: "NO"}.get(row.get("met"), "-"))
        print("| " + " | ".join(line) + " |", file=out)
    figures = ", ".join(f"{text} {limits[key]:.0f} MB/s" for key, text in LIMITS.items()
                        if key in limits)
    print(f"\nmachine limits (medians): {figures}", file=out)
