# SPDX-License-Identifier: Apache-2.0
"""The cluster phase's machinery: replicas of one registry on one bucket and one Redis, behind
one HAProxy. Redis and HAProxy are Debian's redis-server and haproxy, each a child process in a
directory of the scratch directory, on a free 127.0.0.1 port, with every setting given by the
benchmark (nothing from /etc), and stopped by its PID; a system Redis or HAProxy is neither used
nor disturbed.

Redis commands are counted two ways. Executed: from `INFO commandstats` (calls per command since
the server started), read before and after a step, the benchmark's own commands taken off; the
commands a Lua script runs count there too, each EVAL being one call and its script's commands
more. Sent (round trips): where a step ran scripts, from MONITOR, which names the commands that
clients sent apart from those scripts ran ("[0 lua]"); where it ran none, sent is executed.
MONITOR costs Redis a line per command, so it watches only the steps it is asked to (pushes and
pulls, not the rate runs)."""

import collections
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

from .common import free_port, log, run, stop_process
from .registries import ClusterMember, Endpoint


def _die_with_parent():
    """In the child before exec: killed when the benchmark dies, should it die before it stops
    the child (a benchmark that ends normally or by an exception stops it itself)."""
    ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _spawn(args, log_path):
    with open(log_path, "ab") as out:
        return subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)


def _tail(path, size=1500):
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - size))
        return f.read().decode(errors="replace")


# Commands that run a script, whose commands commandstats counts besides.
SCRIPT_COMMANDS = ("eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro")


class CommandCount:
    """The commands a Redis server ran between two points: executed, in all and by command
    (scripts' commands included); and the number clients sent, when known (None when scripts
    ran and no MONITOR watched)."""

    def __init__(self):
        self.by_command = collections.Counter()
        self.sent = None

    @property
    def total(self):
        return sum(self.by_command.values())


class RedisServer:
    """A private redis-server: no RDB snapshots, an append-only file (fsynced every second, its
    default), no protected mode (it listens on 127.0.0.1 only)."""

    def __init__(self, directory):
        self.directory = directory
        self.port = None
        self.process = None

    def start(self, timeout=10):
        os.makedirs(self.directory, exist_ok=True)
        # A port picked free may be taken before redis-server binds it: then another.
        for _ in range(3):
            self.port = free_port()
            self.process = _spawn(["redis-server", "--port", str(self.port),
                                   "--bind", "127.0.0.1", "--dir", self.directory,
                                   "--save", "", "--appendonly", "yes", "--daemonize", "no",
                                   "--protected-mode", "no"],
                                  os.path.join(self.directory, "redis.log"))
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                ping = subprocess.run(["redis-cli", "-p", str(self.port), "PING"],
                                      capture_output=True, text=True)
                if ping.stdout.strip() == "PONG":
                    return
                time.sleep(0.05)
            stop_process(self.process)
        raise RuntimeError("redis-server did not start:\n" +
                           _tail(os.path.join(self.directory, "redis.log")))

    def stop(self):
        stop_process(self.process)
        self.process = None

    def command_calls(self):
        """Calls per command since the server started (the INFO asking for them not yet
        among them)."""
        out = run(["redis-cli", "-p", str(self.port), "INFO", "commandstats"])
        calls = collections.Counter()
        for line in out.splitlines():
            name, _, fields = line.strip().partition(":")
            if name.startswith("cmdstat_"):
                stats = dict(field.split("=", 1) for field in fields.split(","))
                calls[name[len("cmdstat_"):]] = int(stats["calls"])
        return calls

    @contextlib.contextmanager
    def commands(self, monitor=False):
        """Counts the commands run while the block runs into the CommandCount it yields
        (complete once the block has ended); with `monitor`, watches them with MONITOR too."""
        before = self.command_calls()
        count = CommandCount()
        watcher = Monitor(self) if monitor else None
        try:
            yield count
            sent = watcher.sent_until_marker() if watcher else None
        finally:
            if watcher:
                watcher.stop()
        after = self.command_calls()
        after["info"] -= 1  # the INFO that read `before`
        if watcher:
            after["monitor"] -= 1
            after["echo"] -= 1  # the marker
        for name, calls in after.items():
            if calls - before.get(name, 0) > 0:
                count.by_command[name] = calls - before.get(name, 0)
        if sent is not None:
            count.sent = sent
        elif not any(count.by_command.get(name) for name in SCRIPT_COMMANDS):
            count.sent = count.total


class Monitor:
    """redis-cli MONITOR writing into a file from its creation on. sent_until_marker() sends
    an ECHO of a marker of the benchmark's own, waits for it in the file, and returns the number
    of commands clients sent before it (lines with a client's address; a script's commands come
    as "[db lua]")."""

    def __init__(self, redis):
        self.redis = redis
        self.path = os.path.join(redis.directory, "monitor.log")
        if os.path.exists(self.path):
            os.remove(self.path)
        self.process = _spawn(["redis-cli", "-p", str(redis.port), "MONITOR"], self.path)
        self.offset = 0
        deadline = time.monotonic() + 10
        while b"OK" not in self.read_all():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-cli MONITOR did not start:\n" + _tail(self.path))
            time.sleep(0.02)

    def read_all(self):
        with open(self.path, "rb") as f:
            return f.read()

    def sent_until_marker(self, timeout=60):
        marker = f"bench-marker-{uuid.uuid4().hex}"
        run(["redis-cli", "-p", str(self.redis.port), "ECHO", marker])
        deadline = time.monotonic() + timeout
        while True:
            lines = self.read_all().decode(errors="replace").splitlines()
            for i, line in enumerate(lines):
                if marker in line:
                    return sum(1 for l in lines[:i] if " [" in l and " lua]" not in l)
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-cli MONITOR did not show {marker} in {timeout} s")
            time.sleep(0.05)

    def stop(self):
        stop_process(self.process)


class Haproxy:
    """A private HAProxy in front of servers on 127.0.0.1: HTTP mode, keep-alive on both sides,
    round robin per request; a health check GET of `health_path` every 2 s (two failures take a
    server out, one success puts it back); request bodies streamed through as they arrive (no
    `option http-buffer-request`); inactivity timeouts of 10 minutes, far above any pause of a
    big push (distribution copies the blob inside the bucket before it answers the closing
    PUT). It logs health changes only, not requests, so that its log costs nothing in the rate
    runs. An admin socket in the abstract namespace answers `show stat`."""

    BACKEND = "replicas"

    def __init__(self, directory, backend_ports, health_path):
        self.directory = directory
        self.backend_ports = backend_ports
        self.health_path = health_path
        self.port = None
        self.process = None
        self.socket_name = f"ocireg-bench-haproxy-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    @property
    def log_path(self):
        return os.path.join(self.directory, "haproxy.log")

    def config(self):
        servers = "".join(f"  server r{i + 1} 127.0.0.1:{port} check inter 2s fall 2 rise 1\n"
                          for i, port in enumerate(self.backend_ports))
        return f"""global
  stats socket abns@{self.socket_name} level admin
  noreuseport
  maxconn 4096
  log stderr format raw local0 notice

defaults
  mode http
  log global
  timeout connect 2s
  timeout client 600s
  timeout server 600s
  retries 3
  option redispatch

frontend bench
  bind 127.0.0.1:{self.port}
  default_backend {self.BACKEND}

backend {self.BACKEND}
  balance roundrobin
  option httpchk GET {self.health_path}
  http-check expect status 200
{servers}"""

    def start(self, timeout=10):
        os.makedirs(self.directory, exist_ok=True)
        config = os.path.join(self.directory, "haproxy.cfg")
        for _ in range(3):
            self.port = free_port()
            with open(config, "w") as f:
                f.write(self.config())
            self.process = _spawn(["haproxy", "-db", "-f", config], self.log_path)
            deadline = time.monotonic() + timeout
            while self.process.poll() is None and time.monotonic() < deadline:
                try:
                    self.admin("show info")
                    return
                except OSError:
                    time.sleep(0.05)
            stop_process(self.process)
        raise RuntimeError("haproxy did not start:\n" + _tail(self.log_path))

    def stop(self):
        stop_process(self.process)
        self.process = None

    def admin(self, command):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(5)
            # HAProxy binds an abns@ name padded with NUL bytes to the whole address (108).
            s.connect(("\0" + self.socket_name).ljust(108, "\0"))
            s.sendall(command.encode() + b"\n")
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        return answer.decode()

    def server_column(self, column):
        """One column of `show stat` for each backend server, in order ("" if absent). Fields
        are split at every comma: those up to the ones read here never hold one."""
        lines = self.admin("show stat").splitlines()
        header = lines[0].lstrip("# ").split(",")
        index = header.index(column)
        values = {}
        for line in lines[1:]:
            fields = line.split(",")
            if len(fields) > index and fields[0] == self.BACKEND and fields[1].startswith("r"):
                values[fields[1]] = fields[index]
        return [values.get(f"r{i + 1}", "") for i in range(len(self.backend_ports))]

    def server_states(self):
        """The health status of each backend server ("UP", "DOWN", "UP 1/2", ...), in order."""
        return self.server_column("status")

    def server_requests(self):
        """The HTTP requests HAProxy has sent each backend server (health checks not counted),
        in order."""
        return [int(n or 0) for n in self.server_column("req_tot")]

    def wait_up(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            states = self.server_states()
            if all(state == "UP" for state in states):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"haproxy: the servers are not all up after {timeout} s: "
                                   f"{states}\n{_tail(self.log_path)}")
            time.sleep(0.1)


class Cluster:
    """A running cluster: the endpoint the clients use (HAProxy), its Redis, its replicas."""

    def __init__(self, front, redis, replicas, haproxy):
        self.front = front
        self.redis = redis
        self.replicas = replicas
        self.haproxy = haproxy


@contextlib.contextmanager
def running(registry, directory, count, s3):
    """`count` replicas of `registry` on the S3Bucket `s3` and one fresh Redis, behind a fresh
    HAProxy, each with its files (configuration, log, Redis's append-only file) in a directory
    of `directory`, made anew; yields a Cluster, and stops everything (by PID) however the block
    ends. The files stay until the next start or the end of the benchmark, for a look at the
    logs."""
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    redis = RedisServer(os.path.join(directory, "redis"))
    haproxy = None
    replicas = []
    try:
        redis.start()
        secret = uuid.uuid4().hex
        for i in range(count):
            work = os.path.join(directory, f"r{i + 1}")
            os.makedirs(work)
            replica = registry.replica(work, ClusterMember(f"r{i + 1}", redis.port, secret))
            replicas.append(replica)
            replica.start(None, s3=s3)
        haproxy = Haproxy(os.path.join(directory, "haproxy"), [r.port for r in replicas],
                          registry.health_path)
        haproxy.start()
        haproxy.wait_up()
        log(f"{registry.name}: {count} replica{'s' if count > 1 else ''} up behind haproxy "
            f"on port {haproxy.port}")
        yield Cluster(Endpoint(registry.name, registry.load_tool, haproxy.port), redis, replicas,
                      haproxy)
    finally:
        if haproxy is not None:
            haproxy.stop()
        for replica in replicas:
            replica.stop()
        redis.stop()
