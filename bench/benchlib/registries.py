# SPDX-License-Identifier: Apache-2.0
"""The two registries, each a server process over one storage root, plain HTTP or TLS."""

import contextlib
import json
import os
import shutil
import subprocess
import time

from .common import free_port, run, stop_process


class Tls:
    """A self-signed certificate for 127.0.0.1, made once with openssl in the scratch directory;
    curl trusts it through --cacert, the real clients skip verification."""

    def __init__(self, scratch):
        self.certificate = os.path.join(scratch, "tls.crt")
        self.key = os.path.join(scratch, "tls.key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1",
             "-keyout", self.key, "-out", self.certificate])


class Registry:
    """One registry server process over one storage root, started and stopped by PID."""

    def __init__(self, name, load_tool, work):
        self.name = name
        self.load_tool = load_tool
        self.work = work
        self.process = None
        self.port = None
        self.tls = None
        self.ready_seconds = None

    def start(self, root, tls=None):
        """Starts the server on a free port; returns seconds from exec to the first answer."""
        self.port = free_port()
        self.tls = tls
        args = self.command(root, self.port)
        log = open(os.path.join(self.work, f"{self.name}.log"), "ab")
        since = time.time_ns()
        self.process = subprocess.Popen(args, stdout=log, stderr=log)
        log.close()
        if tls is None:
            ready = self.load("wait-ready", "--since-ns", str(since), "--timeout-s", "60")
            self.ready_seconds = ready["ready_seconds"]
        else:
            self.ready_seconds = self.wait_https(since)
        return self.ready_seconds

    def wait_https(self, since_ns, timeout=60):
        """registry_load speaks plain HTTP only: curl asks /v2/ until the server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}); see "
                                   f"{self.name}.log")
            probe = subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "1",
                                    *self.curl_options(), self.url("/v2/")])
            if probe.returncode == 0:
                return (time.time_ns() - since_ns) / 1e9
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer over TLS in {timeout} s")

    def stop(self):
        stop_process(self.process)
        self.process = None

    @property
    def pid(self):
        return self.process.pid

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def url(self, path):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.address}{path}"

    def curl_options(self):
        return ["--cacert", self.tls.certificate] if self.tls else []

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
        tls = ""
        if self.tls:
            tls = (f'[tls]\ncertificate = "{self.tls.certificate}"\n'
                   f'private_key = "{self.tls.key}"\n')
        with open(config, "w") as f:
            f.write(f'[listen]\naddress = "127.0.0.1"\nport = {port}\n'
                    f'[storage]\nroot = "{root}"\n[log]\naccess_log = false\n{tls}')
        return [self.serve, config]


class Distribution(Registry):
    def __init__(self, load_tool, work):
        super().__init__("distribution", load_tool, work)

    def command(self, root, port):
        config = os.path.join(self.work, "distribution.yml")
        tls = ""
        if self.tls:
            tls = f", tls: {{certificate: {self.tls.certificate}, key: {self.tls.key}}}"
        with open(config, "w") as f:
            f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {root}}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}{tls}}}\n")
        return ["docker-registry", "serve", config]


@contextlib.contextmanager
def serving(registry, scratch, tls=None, keep_root=None):
    """The registry running over a fresh root (or over keep_root, which is left in place);
    stopped and its fresh root removed whatever happens inside."""
    root = keep_root or os.path.join(scratch, registry.name + "-root")
    if keep_root is None:
        shutil.rmtree(root, ignore_errors=True)
    registry.start(root, tls)
    try:
        yield registry
    finally:
        registry.stop()
        if keep_root is None:
            shutil.rmtree(root, ignore_errors=True)
