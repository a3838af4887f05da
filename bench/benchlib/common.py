# SPDX-License-Identifier: Apache-2.0
"""Sizes, running commands, and what the benchmark reads about a process from /proc."""

import os
import resource
import signal
import socket
import subprocess
import sys
import time

MIB = 1 << 20
GIB = 1 << 30


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def run(args, **kwargs):
    """Runs a command to completion; its failure stops the benchmark with its output."""
    result = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
                           f"{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def timed_with_cpu(args, **kwargs):
    """Runs a command to completion; returns its wall-clock seconds and the CPU seconds (user and
    system) it and the children it waited for used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = timed(args, **kwargs)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed(args, **kwargs):
    """Runs a command to completion; returns its wall-clock seconds."""
    start = time.monotonic()
    run(args, **kwargs)
    return time.monotonic() - start


def stop_process(process, timeout=60):
    """SIGTERM to this one process (by its PID), SIGKILL if it has not exited in time."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sha256_file(path):
    return "sha256:" + run(["openssl", "dgst", "-sha256", "-r", path]).split()[0]


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


class CpuMeter:
    """The CPU seconds a server spends from the meter's creation on, in all or per GiB moved."""

    def __init__(self, pid):
        self.pid = pid
        self.start = cpu_seconds(pid)

    def seconds(self):
        return cpu_seconds(self.pid) - self.start

    def per_gib(self, size):
        return self.seconds() * GIB / size
