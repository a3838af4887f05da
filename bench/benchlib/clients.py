# SPDX-License-Identifier: Apache-2.0
"""The real clients, each timed pushing to (or pulling from) a running registry: skopeo, podman
and containerd's ctr. podman and containerd keep their state under the scratch directory (their
own storage roots, a private containerd started and stopped by PID), so the machine's own
container storage and daemons are left alone; they only read its configuration (podman's
policy.json and registries.conf)."""

import os
import shutil
import subprocess
import time

from .common import run, stop_process, timed, timed_with_cpu
from .images import TAG


def skopeo_push(registry, layout, repo):
    """skopeo copy of the layout's image to the registry; returns seconds, and skopeo's CPU
    seconds."""
    return timed_with_cpu(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                  f"oci:{layout.directory}:{TAG}", f"docker://{registry.address}/{repo}:{TAG}"])


def skopeo_pull(registry, repo, target):
    """skopeo copy of the image from the registry into a fresh layout; returns seconds."""
    shutil.rmtree(target, ignore_errors=True)
    try:
        return timed(["skopeo", "copy", "--quiet", "--src-tls-verify=false",
                      f"docker://{registry.address}/{repo}:{TAG}", f"oci:{target}:{TAG}"])
    finally:
        shutil.rmtree(target, ignore_errors=True)


def skopeo_to_dir(layout, target):
    """skopeo copy of the layout's image into a dir: directory, with no registry: what skopeo
    itself takes to read, check and write the layers; returns seconds."""
    shutil.rmtree(target, ignore_errors=True)
    try:
        return timed(["skopeo", "copy", "--quiet", f"oci:{layout.directory}:{TAG}",
                      f"dir:{target}"])
    finally:
        shutil.rmtree(target, ignore_errors=True)


class Podman:
    """podman over a private root with the vfs driver, holding one image imported from a layout.

    podman keeps layers uncompressed in its storage and compresses each one again as it pushes,
    whatever the layer was before: there is no option to push it uncompressed. gzip is its
    default, and over random data no slower than zstd (pushing the 1 GiB image into a dir: took
    7.0 s with gzip and 8.2 s with zstd on a 2-core machine). push_to_dir() measures that floor,
    the time podman takes with no registry at all."""

    COMPRESSION = "gzip"

    def __init__(self, scratch):
        self.home = os.path.join(scratch, "podman")
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(os.path.join(self.home, "tmp"))
        self.image = None

    def podman(self, *args):
        return ["podman", "--root", os.path.join(self.home, "root"),
                "--runroot", os.path.join(self.home, "runroot"),
                "--tmpdir", os.path.join(self.home, "libpod"),
                "--storage-driver", "vfs", "--events-backend", "none",
                "--cgroup-manager", "cgroupfs", *args]

    def env(self):
        return {**os.environ, "TMPDIR": os.path.join(self.home, "tmp")}

    def load(self, layout):
        # podman names the image after the layout's path as given, and a scratch directory's
        # name need not make a valid reference ("ocireg-bench-x_" does not): a relative path.
        parent, name = os.path.split(layout.directory)
        out = run(self.podman("pull", "--quiet", f"oci:{name}:{TAG}"), env=self.env(), cwd=parent)
        self.image = out.split()[-1]

    def push(self, registry, repo):
        """podman push of the image to the registry; returns seconds."""
        return timed(self.podman("push", "--quiet", "--tls-verify=false",
                                 "--compression-format", self.COMPRESSION, self.image,
                                 f"docker://{registry.address}/{repo}:{TAG}"), env=self.env())

    def push_to_dir(self):
        """podman push of the image into a dir: layout, compressed as for a registry; returns
        seconds."""
        target = os.path.join(self.home, "dir")
        shutil.rmtree(target, ignore_errors=True)
        try:
            return timed(self.podman("push", "--quiet", "--compress", "--compression-format",
                                     self.COMPRESSION, self.image, f"dir:{target}"),
                         env=self.env())
        finally:
            shutil.rmtree(target, ignore_errors=True)

    def remove(self):
        shutil.rmtree(self.home, ignore_errors=True)


class Containerd:
    """A private containerd (its own root, state, socket and config), started and stopped by
    PID, holding one image imported, without unpacking it, from a layout archive."""

    NAME = "bench.local/image:" + TAG

    def __init__(self, scratch):
        self.home = os.path.join(scratch, "containerd")
        shutil.rmtree(self.home, ignore_errors=True)
        os.makedirs(self.home)
        self.socket = os.path.join(self.home, "containerd.sock")
        self.process = None

    def write_config(self):
        config = os.path.join(self.home, "config.toml")
        root = os.path.join(self.home, "root")
        # The plugins that would reach outside the scratch directory or need more than pushing
        # content (the CRI server, snapshotters for other filesystems) are off.
        disabled = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
                    "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
                    "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp",
                    "io.containerd.internal.v1.tracing"]
        with open(config, "w") as f:
            f.write(f'version = 2\nroot = "{root}"\nstate = "{os.path.join(self.home, "state")}"\n'
                    f"disabled_plugins = {disabled!r}\n".replace("'", '"') +
                    f'[grpc]\naddress = "{self.socket}"\n'
                    f'[ttrpc]\naddress = "{self.socket}.ttrpc"\n'
                    f'[plugins."io.containerd.internal.v1.opt"]\npath = "{root}/opt"\n')
        return config

    def start(self, timeout=60):
        log = open(os.path.join(self.home, "containerd.log"), "ab")
        self.process = subprocess.Popen(["containerd", "--config", self.write_config()],
                                        stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"containerd exited ({self.process.returncode}); see "
                                   f"{self.home}/containerd.log")
            if subprocess.run(self.ctr("version"), capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(f"containerd did not answer on {self.socket} in {timeout} s")

    def ctr(self, *args):
        return ["ctr", "--address", self.socket, "--namespace", "bench", *args]

    def load(self, archive):
        run(self.ctr("images", "import", "--no-unpack", "--base-name", self.NAME.split(":")[0],
                     archive))

    def push(self, registry, repo):
        """ctr images push of the image to the registry over plain HTTP; returns seconds."""
        return timed(self.ctr("images", "push", "--plain-http",
                              f"{registry.address}/{repo}:{TAG}", self.NAME))

    def stop(self):
        stop_process(self.process)
        self.process = None
        shutil.rmtree(self.home, ignore_errors=True)
