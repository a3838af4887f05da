# SPDX-License-Identifier: Apache-2.0
"""Blob pushes and pulls driven by curl, one HTTP exchange per curl process, over plain HTTP or
TLS (the registry says which, and curl trusts its certificate)."""

import concurrent.futures
import os
import shutil
import time

from .common import MIB, run, sha256_file


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
                out.write(os.urandom(size % MIB))
        self.digest = sha256_file(path)
        self.chunks = []
        if chunk_bytes:
            run(["split", "-b", str(chunk_bytes), "-d", "-a", "4", path, path + ".chunk."])
            directory = os.path.dirname(path)
            prefix = os.path.basename(path) + ".chunk."
            self.chunks = sorted(os.path.join(directory, n) for n in os.listdir(directory)
                                 if n.startswith(prefix))


def curl(registry, *args):
    return run(["curl", "-fsS", *registry.curl_options(), *args])


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
    headers = curl(registry, "-X", "POST", "-D", "-", "-o", "/dev/null",
                   registry.url(f"/v2/{repo}/blobs/uploads/"))
    return location_of(headers, registry)


def close_upload(registry, location, blob):
    """The closing PUT with the digest and no body."""
    curl(registry, "-X", "PUT", "-o", "/dev/null", "-H", "Content-Length: 0",
         with_query(location, "digest=" + blob.digest))


def push_monolithic(registry, repo, blob):
    """POST, then one PUT carrying the whole file; returns seconds for both."""
    start = time.monotonic()
    location = open_upload(registry, repo)
    curl(registry, "-X", "PUT", "-T", blob.path, "-H", "Content-Type: application/octet-stream",
         "-o", "/dev/null", with_query(location, "digest=" + blob.digest))
    return time.monotonic() - start


def push_streamed(registry, repo, blob):
    """POST, one PATCH carrying the whole file in chunked transfer encoding with no
    Content-Length and no Expect (as Go clients such as skopeo, podman and buildah send a layer),
    then the closing PUT; returns seconds for all three."""
    start = time.monotonic()
    location = open_upload(registry, repo)
    # curl frames the body in chunks of its 64 KiB upload buffer; "Expect:" drops the
    # 100-continue it would otherwise ask for.
    headers = curl(registry, "-X", "PATCH", "-T", blob.path, "-D", "-", "-o", "/dev/null",
                   "-H", "Transfer-Encoding: chunked", "-H", "Expect:",
                   "-H", "Content-Type: application/octet-stream", location)
    close_upload(registry, location_of(headers, registry), blob)
    return time.monotonic() - start


def push_chunked(registry, repo, blob):
    """POST, one PATCH per chunk file with its Content-Length, its Content-Range and an explicit
    Expect: 100-continue, then an empty closing PUT; returns seconds for all."""
    start = time.monotonic()
    location = open_upload(registry, repo)
    offset = 0
    for chunk in blob.chunks:
        size = os.path.getsize(chunk)
        headers = curl(registry, "-X", "PATCH", "-T", chunk, "-D", "-", "-o", "/dev/null",
                       "-H", "Expect: 100-continue",
                       "-H", "Content-Type: application/octet-stream",
                       "-H", f"Content-Range: {offset}-{offset + size - 1}", location)
        location = location_of(headers, registry)
        offset += size
    close_upload(registry, location, blob)
    return time.monotonic() - start


def push_parallel(registry, repo, blobs):
    """The blobs pushed at once, each by its own POST and monolithic PUT on its own connection
    (as docker and containerd push an image's layers); returns seconds until the last is in."""
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(blobs)) as pool:
        for done in [pool.submit(push_monolithic, registry, repo, b) for b in blobs]:
            done.result()
    return time.monotonic() - start


def pull(registry, repo, blob):
    """GET of the blob into /dev/null; returns seconds."""
    start = time.monotonic()
    curl(registry, "-o", "/dev/null", registry.url(f"/v2/{repo}/blobs/{blob.digest}"))
    return time.monotonic() - start


def pull_range(registry, repo, blob, first, last):
    """One ranged GET into /dev/null; fails unless the answer is 206 with exactly that range."""
    out = curl(registry, "-o", "/dev/null", "-r", f"{first}-{last}",
               "-w", "%{http_code} %{size_download}",
               registry.url(f"/v2/{repo}/blobs/{blob.digest}"))
    status, size = out.split()
    if status != "206" or int(size) != last - first + 1:
        raise RuntimeError(f"range {first}-{last} of {blob.digest}: status {status}, "
                           f"{size} bytes")


def pull_ranged(registry, repo, blob, parts):
    """The blob fetched as `parts` equal Range requests at once, each on its own connection (as
    a parallel downloader does); returns seconds until the last range is in."""
    step = blob.size // parts
    ranges = [(i * step, blob.size - 1 if i == parts - 1 else (i + 1) * step - 1)
              for i in range(parts)]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(parts) as pool:
        for done in [pool.submit(pull_range, registry, repo, blob, first, last)
                     for first, last in ranges]:
            done.result()
    return time.monotonic() - start
