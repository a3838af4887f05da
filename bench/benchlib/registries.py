# SPDX-License-Identifier: Apache-2.0
"""The two registries, each a server process over one storage root (a directory, or a bucket of
an S3 gateway), plain HTTP or TLS."""

import contextlib
import copy
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


class Endpoint:
    """Where the clients send their requests: one server, or the load balancer in front of
    several (the cluster phase's HAProxy)."""

    def __init__(self, name, load_tool, port=None):
        self.name = name
        self.load_tool = load_tool
        self.port = port
        self.tls = None

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def url(self, path):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{self.address}{path}"

    def curl_options(self):
        return ["--cacert", self.tls.certificate] if self.tls else []

    def load(self, subcommand, *args):
        """Runs one registry_load subcommand against this endpoint; returns its JSON line."""
        out = run([self.load_tool, subcommand, "--host", "127.0.0.1", "--port", str(self.port),
                   *args])
        return json.loads(out.strip().splitlines()[-1])


class ClusterMember:
    """What a replica adds to its configuration in the cluster phase: its name, the Redis all
    replicas share, and the secret distribution signs its upload state with (the same on every
    replica, so that each accepts the state another issued)."""

    def __init__(self, node_name, redis_port, secret):
        self.node_name = node_name
        self.redis_port = redis_port
        self.secret = secret


class Registry(Endpoint):
    """One registry server process over one storage root, started and stopped by PID."""

    # What a load balancer's health check asks.
    health_path = "/v2/"

    def __init__(self, name, load_tool, work):
        super().__init__(name, load_tool)
        self.work = work
        self.process = None
        self.s3 = None
        self.cluster = None
        self.ready_seconds = None

    def replica(self, work, cluster):
        """Another server of the same registry, not started, with its configuration file and
        log in `work`, configured as the cluster member `cluster` (a ClusterMember)."""
        twin = copy.copy(self)
        twin.work = work
        twin.process = None
        twin.port = None
        twin.cluster = cluster
        return twin

    def start(self, root, tls=None, s3=None):
        """Starts the server on a free port, storing in root or (when s3 is an S3Bucket) in that
        bucket; returns seconds from exec to the first answer."""
        self.port = free_port()
        self.tls = tls
        self.s3 = s3
        args = self.command(root, self.port)
        log = open(self.log_path, "ab")
        since = time.time_ns()
        self.process = subprocess.Popen(args, stdout=log, stderr=log, env=self.environment())
        log.close()
        if tls is None:
            self.ready_seconds = self.wait_http(since)
        else:
            self.ready_seconds = self.wait_https(since)
        return self.ready_seconds

    @property
    def log_path(self):
        return os.path.join(self.work, f"{self.name}.log")

    def environment(self):
        return None

    def exited_error(self):
        """The error for a server that exited, with the end of its log."""
        with open(self.log_path, "rb") as f:
            f.seek(max(0, os.path.getsize(self.log_path) - 1500))
            tail = f.read().decode(errors="replace")
        return RuntimeError(f"{self.name} exited ({self.process.returncode}); the end of "
                            f"{self.name}.log:\n{tail}")

    def wait_http(self, since_ns):
        """registry_load wait-ready, given up as soon as the server exits (as one that rejects
        its configuration does) rather than at its timeout."""
        waiter = subprocess.Popen([self.load_tool, "wait-ready", "--host", "127.0.0.1",
                                   "--port", str(self.port), "--since-ns", str(since_ns),
                                   "--timeout-s", "60"], stdout=subprocess.PIPE, text=True)
        while waiter.poll() is None:
            if self.process.poll() is not None:
                stop_process(waiter)
                raise self.exited_error()
            time.sleep(0.02)
        out = waiter.stdout.read()
        if waiter.returncode != 0:
            raise RuntimeError(f"{self.name} did not answer: {out}")
        return json.loads(out.strip().splitlines()[-1])["ready_seconds"]

    def wait_https(self, since_ns, timeout=60):
        """registry_load speaks plain HTTP only: curl asks /v2/ until the server answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.exited_error()
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


class S3Bucket:
    """Where a registry on S3 keeps its bytes: a bucket of the gateway, path-style addressing."""

    def __init__(self, gateway, bucket):
        self.endpoint = gateway.endpoint
        self.region = gateway.region
        self.access_key = gateway.access_key
        self.secret_key = gateway.secret_key
        self.bucket = bucket


class Ocireg(Registry):
    health_path = "/readyz"

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
                    f'{self.storage(root)}[log]\naccess_log = false\n{tls}'
                    f'{self.cluster_section()}')
        return [self.serve, config]

    def cluster_section(self):
        """[cluster]: this replica's name and the shared Redis."""
        if self.cluster is None:
            return ""
        return (f'[cluster]\nnode_name = "{self.cluster.node_name}"\n'
                f'redis_url = "redis://127.0.0.1:{self.cluster.redis_port}/0"\n')

    def storage(self, root):
        if self.s3 is None:
            return f'[storage]\nroot = "{root}"\n'
        s3 = self.s3
        return (f'[storage]\ndriver = "s3"\n[storage.s3]\nendpoint = "{s3.endpoint}"\n'
                f'region = "{s3.region}"\nbucket = "{s3.bucket}"\npath_style = true\n'
                f'access_key = "{s3.access_key}"\nsecret_key = "{s3.secret_key}"\n')


class Distribution(Registry):
    def __init__(self, load_tool, work):
        super().__init__("distribution", load_tool, work)

    def command(self, root, port):
        config = os.path.join(self.work, "distribution.yml")
        tls = ""
        if self.tls:
            tls = f", tls: {{certificate: {self.tls.certificate}, key: {self.tls.key}}}"
        storage, http, redis = self.storage(root), f"addr: 127.0.0.1:{port}{tls}", ""
        if self.cluster is not None:
            # Replicas on one bucket: blob descriptors cached in the shared Redis (a pool of
            # kept connections, as distribution's documentation configures it), and one secret
            # for the upload state tokens.
            storage += ", cache: {blobdescriptor: redis}"
            http += f", secret: '{self.cluster.secret}'"
            redis = (f"redis: {{addr: '127.0.0.1:{self.cluster.redis_port}', db: 0, "
                     "pool: {maxidle: 16, maxactive: 64, idletimeout: 300s}}\n")
        with open(config, "w") as f:
            f.write("version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\n"
                    f"storage: {{{storage}, delete: {{enabled: true}}}}\n"
                    f"http: {{{http}}}\n{redis}")
        return ["docker-registry", "serve", config]

    def storage(self, root):
        """On S3: no redirects, so that blob GETs go through the registry as ocireg's do (by
        default distribution answers them with a presigned URL of the gateway); no purging of
        old uploads, whose listing of the bucket at a random moment would land in a count."""
        if self.s3 is None:
            return f"filesystem: {{rootdirectory: {root}}}"
        s3 = self.s3
        # Quoted: a key of digits alone would otherwise be a YAML number.
        return (f"s3: {{accesskey: '{s3.access_key}', secretkey: '{s3.secret_key}', "
                f"region: '{s3.region}', regionendpoint: '{s3.endpoint}', "
                f"bucket: '{s3.bucket}', secure: false, v4auth: true}}, "
                "redirect: {disable: true}, maintenance: {uploadpurging: {enabled: false}}")

    def environment(self):
        """Without AWS_CA_BUNDLE: with it set, distribution 2.8's S3 driver panics at start
        (LoadCustomCABundleError, its HTTP transport is of a type the SDK cannot give a CA)."""
        env = dict(os.environ)
        env.pop("AWS_CA_BUNDLE", None)
        return env


@contextlib.contextmanager
def serving(registry, scratch, tls=None, keep_root=None, s3=None):
    """The registry running over a fresh root (or over keep_root, which is left in place, or in
    the S3Bucket s3); stopped and its fresh root removed whatever happens inside."""
    root = keep_root or os.path.join(scratch, registry.name + "-root")
    if keep_root is None:
        shutil.rmtree(root, ignore_errors=True)
    registry.start(root, tls, s3)
    try:
        yield registry
    finally:
        registry.stop()
        if keep_root is None:
            shutil.rmtree(root, ignore_errors=True)
