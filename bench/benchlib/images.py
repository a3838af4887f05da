# SPDX-License-Identifier: Apache-2.0
"""OCI image layouts on disk for the real clients to push: made once per run, with random layers.

Each layer is a tar holding one file, wrapped in gzip with stored (level 0) deflate blocks. Its
media type says tar+gzip, so skopeo sends it as it is: skopeo 1.9 gzips a layer whose media type
says uncompressed on its way to a registry, and has no option against that (--dest-compress is
for dir: destinations only). ctr pushes content as it is stored, whatever its type. Stored blocks
cost no CPU to make. The config carries the true diff_ids, which podman checks when it imports
the layout."""

import hashlib
import json
import os
import platform
import tarfile
import zlib

from .common import MIB, run

LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_TYPE = "application/vnd.oci.image.config.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
TAG = "v1"


def random_chunks(size):
    for _ in range(size // MIB):
        yield os.urandom(MIB)
    yield os.urandom(size % MIB)


def file_chunks(path):
    with open(path, "rb") as f:
        while chunk := f.read(8 * MIB):
            yield chunk


class Layout:
    """An OCI image layout directory holding one image tagged TAG."""

    def __init__(self, directory):
        self.directory = directory
        self.blobs = os.path.join(directory, "blobs", "sha256")
        os.makedirs(self.blobs, exist_ok=True)
        self.layers = []
        self.diff_ids = []

    @property
    def size(self):
        """Bytes of the layers, which is what a push or pull moves."""
        return sum(layer["size"] for layer in self.layers)

    def add_layer(self, file_name, file_size, chunks):
        """A layer holding one file of file_size bytes read from `chunks`."""
        tar_hash, gz_hash = hashlib.sha256(), hashlib.sha256()
        gzip = zlib.compressobj(0, zlib.DEFLATED, 31)
        temporary = os.path.join(self.blobs, "layer.partial")
        with open(temporary, "wb") as out:
            def emit(data):
                tar_hash.update(data)
                packed = gzip.compress(data)
                gz_hash.update(packed)
                out.write(packed)

            info = tarfile.TarInfo(file_name)
            info.size, info.mode, info.mtime = file_size, 0o644, 0
            emit(info.tobuf(format=tarfile.USTAR_FORMAT))
            for chunk in chunks:
                emit(chunk)
            emit(bytes(-file_size % 512 + 1024))  # padding, then the two end-of-archive blocks
            packed = gzip.flush()
            gz_hash.update(packed)
            out.write(packed)
        size = os.path.getsize(temporary)
        os.rename(temporary, os.path.join(self.blobs, gz_hash.hexdigest()))
        self.layers.append({"mediaType": LAYER_TYPE, "digest": "sha256:" + gz_hash.hexdigest(),
                            "size": size})
        self.diff_ids.append("sha256:" + tar_hash.hexdigest())

    def write_blob(self, data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(self.blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    def finish(self):
        """Writes the config, the manifest, index.json (TAG) and oci-layout."""
        architecture = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(),
                                                                   platform.machine())
        config = {"architecture": architecture, "os": "linux", "config": {},
                  "rootfs": {"type": "layers", "diff_ids": self.diff_ids}}
        manifest = {"schemaVersion": 2, "mediaType": MANIFEST_TYPE,
                    "config": {"mediaType": CONFIG_TYPE,
                               **self.write_blob(json.dumps(config).encode())},
                    "layers": self.layers}
        index = {"schemaVersion": 2, "manifests": [{
            "mediaType": MANIFEST_TYPE, **self.write_blob(json.dumps(manifest).encode()),
            "annotations": {"org.opencontainers.image.ref.name": TAG}}]}
        with open(os.path.join(self.directory, "index.json"), "w") as f:
            json.dump(index, f)
        with open(os.path.join(self.directory, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        return self

    def archive(self, path):
        """The layout as a tar archive (what `ctr images import` reads)."""
        run(["tar", "-cf", path, "-C", self.directory, "oci-layout", "index.json", "blobs"])
        return path


def single_layer(directory, source_blob):
    """One layer holding the bytes of source_blob (a transfers.Blob)."""
    layout = Layout(directory)
    layout.add_layer("data.bin", source_blob.size, file_chunks(source_blob.path))
    return layout.finish()


def many_layers(directory, count, layer_bytes):
    """`count` layers of layer_bytes random bytes each."""
    layout = Layout(directory)
    for i in range(count):
        layout.add_layer(f"layer{i:02d}.bin", layer_bytes, random_chunks(layer_bytes))
    return layout.finish()
