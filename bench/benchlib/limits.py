# SPDX-License-Identifier: Apache-2.0
"""The machine's own limits, measured in the same run as the registries: what a push can not
beat (the disk's synced write rate, one core's SHA-256), what a pull can not beat (loopback TCP,
one core's AES-GCM for TLS), and what skopeo and podman can not beat (each alone, copying the
image into a local directory, no registry)."""

import json
import os
import platform
import subprocess
import time

from .clients import skopeo_to_dir
from .common import GIB, MIB, run, stop_process


def openssl_speed_MBps(algorithm, block_bytes, seconds):
    """`openssl speed -evp` on one core over blocks of block_bytes, in MB/s."""
    out = run(["openssl", "speed", "-seconds", str(seconds), "-bytes", str(block_bytes),
               "-evp", algorithm])
    line = [l for l in out.splitlines() if l.lower().startswith(algorithm.lower())][-1]
    return float(line.split()[-1].rstrip("k")) * 1000 / 1e6


def sha256_single_core_MBps():
    """SHA-256 over 1 MiB blocks, as a blob push hashes them."""
    return openssl_speed_MBps("sha256", MIB, 2)


def aes_128_gcm_single_core_MBps():
    """AES-128-GCM over 16 KiB blocks, the size of a full TLS record."""
    return openssl_speed_MBps("aes-128-gcm", 16 * 1024, 2)


def dd_fdatasync_MBps(blob, scratch):
    """A copy of the blob written and synced into the scratch directory, as a push stores it."""
    target = os.path.join(scratch, "dd.out")
    start = time.monotonic()
    run(["dd", f"if={blob.path}", f"of={target}", "bs=1M", "conv=fdatasync", "status=none"])
    seconds = time.monotonic() - start
    os.remove(target)
    return blob.size / seconds / 1e6


def loopback_MBps(tool, size):
    """One TCP connection over 127.0.0.1 carrying `size` bytes (bench/loopback_speed)."""
    return json.loads(run([tool, "--bytes", str(size)]).strip().splitlines()[-1])["MBps"]


def curl_pull_MBps(tool, size):
    """curl pulling `size` bytes over 127.0.0.1 into /dev/null from a server that sends them from
    memory (bench/loopback_speed --http-once): the fastest a curl pull can go."""
    server = subprocess.Popen([tool, "--http-once", "--bytes", str(size)], stdout=subprocess.PIPE,
                              text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]
        start = time.monotonic()
        run(["curl", "-fsS", "-o", "/dev/null", f"http://127.0.0.1:{port}/blob"])
        seconds = time.monotonic() - start
        if server.wait(timeout=60) != 0:
            raise RuntimeError("loopback_speed --http-once failed")
        return size / seconds / 1e6
    finally:
        stop_process(server)


LIMITS = {
    "dd_fdatasync_MBps": "dd conv=fdatasync",
    "sha256_MBps": "single-core SHA-256",
    "loopback_MBps": "loopback TCP, one connection",
    "curl_pull_MBps": "curl pulling from memory over loopback",
    "aes_128_gcm_MBps": "single-core AES-128-GCM (16 KiB)",
    "podman_dir_MBps": "podman alone (its push of the image into a dir:)",
    "skopeo_dir_single_MBps": "skopeo alone (1 GiB image into a dir:)",
    "skopeo_dir_many_MBps": "skopeo alone (20-layer image into a dir:)",
    "s3_put_MBps": "S3 gateway alone, one curl client PUTting the pushed blob",
    "s3_get_MBps": "S3 gateway alone, one curl client GETting it",
}


def measure(blob, scratch, loopback_tool, loopback_bytes, podman=None, image=None, layouts=None):
    """One sample of every limit, keyed as LIMITS; podman's own floor when it holds the image
    (an images.Layout), skopeo's for each image layout of `layouts` (by name)."""
    sample = {"dd_fdatasync_MBps": dd_fdatasync_MBps(blob, scratch),
              "sha256_MBps": sha256_single_core_MBps(),
              "loopback_MBps": loopback_MBps(loopback_tool, loopback_bytes),
              "curl_pull_MBps": curl_pull_MBps(loopback_tool, blob.size),
              "aes_128_gcm_MBps": aes_128_gcm_single_core_MBps()}
    if podman is not None:
        sample["podman_dir_MBps"] = image.size / podman.push_to_dir() / 1e6
    for name, layout in (layouts or {}).items():
        seconds = skopeo_to_dir(layout, os.path.join(scratch, "skopeo-dir"))
        sample[f"skopeo_dir_{name}_MBps"] = layout.size / seconds / 1e6
    return sample


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
