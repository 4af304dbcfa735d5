"""Downloading into the cache through pooch: once, checksummed, retried when a failure may
pass, within a deadline, and never leaving a partial file, even when the process is killed.

Every download is served by a real HTTP server on 127.0.0.1 (``QENC_BENCH_MIRROR``) that can
also drop a connection mid-file, trickle a byte at a time, stall or answer 503. Every test has
its own cache (``QENC_BENCH_CACHE``) and, unless it asks for the mirror, downloads off: no test
touches the network or the user's cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from qenc_bench.datasets import DATA_ENV
from qenc_bench.errors import ConfigError, DataError
from qenc_datasets import MEDMNIST_2D, Cifar10Dataset, MedMnistDataset, RemoteFile, cache_dir, fashion_mnist, mnist
from qenc_datasets import cifar as cifar_module
from qenc_datasets import idx as idx_module
from qenc_datasets.download import (
    CACHE_ENV,
    DEADLINE_ENV,
    MIRROR_ENV,
    OFFLINE_ENV,
    RETRIES,
    SCRATCH_PREFIX,
    Download,
    ensure_cached,
    remove_abandoned_scratch,
)
from qenc_datasets.idx import IDX_FILES, MNIST_GZ_MD5
from qenc_datasets.subset import MANIFEST

SUBSET_DATA = Path(__file__).resolve().parent / "data"
RECORD = 3073
#: a file for the tests of the download mechanics alone
TOY = np.random.default_rng(0).integers(0, 256, 300_000, dtype=np.uint8).tobytes()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _toy(md5: str | None = None) -> Download:
    """One file, ``a.bin``, of dataset ``toy``; from the mirror at ``<mirror>/toy/a.bin``."""
    remote = RemoteFile("a.bin", "https://example.invalid/a.bin", md5=md5 or _md5(TOY))
    return Download(dataset="toy", folder="toy", files=("a.bin",), remote=(remote,))


def _leftovers(folder: Path) -> list[str]:
    """Hidden files and folders (scratch folders, temporary files) anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*")) if folder.exists() else []


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private cache that does not exist yet; downloads off; nothing from the caller."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    for name in (MIRROR_ENV, DATA_ENV, DEADLINE_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return cache


# --- the server ----------------------------------------------------------------------------

#: what the server may do instead of sending a file
DROP, TRICKLE, STALL, UNAVAILABLE = "drop", "trickle", "stall", "503"


@dataclass
class Mirror:
    """A directory served over HTTP, the paths requested from it, and misbehaviours planned
    for the next requests of a path (then it serves the file)."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)
    plans: dict[str, list[str]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def add(self, dataset: str, name: str, data: bytes) -> None:
        folder = self.root / dataset
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    def plan(self, dataset: str, name: str, *behaviours: str) -> None:
        self.plans[f"/{dataset}/{name}"] = list(behaviours)


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:  # a client that went away
        pass


def _handler(mirror: Mirror):
    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, format, *args) -> None:
            pass

        def do_GET(self) -> None:
            mirror.requests.append(self.path)
            plan = mirror.plans.get(self.path)
            behaviour = plan.pop(0) if plan else None
            if behaviour is None:
                return super().do_GET()
            if behaviour == UNAVAILABLE:
                return self.send_error(503)
            data = (mirror.root / self.path.lstrip("/")).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.close_connection = True
            if behaviour == DROP:
                self.wfile.write(data[: len(data) // 3])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
            elif behaviour == TRICKLE:  # a third, then a byte every 0.2 s: no read times out, the file takes hours
                start = len(data) // 3
                self.wfile.write(data[:start])
                for i in range(start, len(data)):
                    if mirror.stop.wait(0.2):
                        return
                    try:
                        self.wfile.write(data[i : i + 1])
                        self.wfile.flush()
                    except OSError:
                        return
            elif behaviour == STALL:
                mirror.stop.wait(60)

    return Handler


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A local HTTP server as ``QENC_BENCH_MIRROR``, with downloads on."""
    root = tmp_path / "mirror"
    root.mkdir()
    mirror = Mirror(root, "")
    server = _Server(("127.0.0.1", 0), partial(_handler(mirror), directory=str(root)))
    mirror.url = f"http://127.0.0.1:{server.server_address[1]}/"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv(MIRROR_ENV, mirror.url)
    monkeypatch.delenv(OFFLINE_ENV)
    try:
        yield mirror
    finally:
        mirror.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


# --- the cache -----------------------------------------------------------------------------


def test_cache_dir_precedence(monkeypatch, tmp_path):
    assert cache_dir() == tmp_path / "cache"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "qenc-bench"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "qenc-bench"


def test_a_remote_file_needs_a_checksum():
    with pytest.raises(ValueError, match="no checksum"):
        RemoteFile("a.gz", "https://example.org/a.gz")


def test_the_cache_serves_as_a_data_directory(isolated):
    folder = isolated / "fashion-mnist"
    shutil.copytree(SUBSET_DATA / "mnist", folder)
    raw = fashion_mnist().load(None)  # offline, but already cached
    assert raw.source == str(folder) and len(raw.splits["test"][1]) == 250


# --- downloads of the datasets -------------------------------------------------------------


@pytest.fixture
def served_mnist(mirror, monkeypatch) -> dict[str, str]:
    """The shipped MNIST subset on the mirror, and ``mnist()`` expecting its checksums (the
    md5s of its .gz files, and of their decompressed bytes from its manifest); the .gz md5s."""
    gz_md5 = {}
    for f in IDX_FILES:
        data = (SUBSET_DATA / "mnist" / f"{f}.gz").read_bytes()
        mirror.add("mnist", f"{f}.gz", data)
        gz_md5[f] = _md5(data)
    manifest = json.loads((SUBSET_DATA / "mnist" / MANIFEST).read_text())
    monkeypatch.setattr(idx_module, "MNIST_GZ_MD5", gz_md5)
    monkeypatch.setattr(idx_module, "MNIST_MD5", {f: e["md5"] for f, e in manifest["files"].items()})
    return gz_md5


def test_download_fills_the_cache_once(served_mnist, mirror, isolated, tmp_path):
    raw = mnist().load(None)
    assert sorted(mirror.requests) == sorted(f"/mnist/{f}.gz" for f in IDX_FILES)
    assert raw.splits["train"][0].shape == (500, 28, 28)  # and the decompressed md5s passed
    assert sorted(p.name for p in (isolated / "mnist").iterdir()) == sorted(f"{f}.gz" for f in IDX_FILES)
    assert _leftovers(isolated) == []
    (tmp_path / "empty").mkdir()
    for data_dir in (None, tmp_path / "empty"):  # a data dir without the files falls back to the cache
        again = mnist().load(data_dir)
        assert again.source == str(isolated / "mnist")
    assert len(mirror.requests) == 4


def test_download_fetches_only_the_missing_files(served_mnist, mirror, isolated):
    (isolated / "mnist").mkdir(parents=True)
    for f in IDX_FILES[:3]:
        shutil.copyfile(SUBSET_DATA / "mnist" / f"{f}.gz", isolated / "mnist" / f"{f}.gz")
    mnist().load(None)
    assert mirror.requests == [f"/mnist/{IDX_FILES[3]}.gz"]


def test_a_downloaded_file_gets_the_umask_permissions(mirror, isolated):
    mirror.add("toy", "a.bin", TOY)
    umask = os.umask(0o022)
    os.umask(umask)
    folder = ensure_cached(_toy())
    assert (folder / "a.bin").read_bytes() == TOY
    assert stat.S_IMODE((folder / "a.bin").stat().st_mode) == 0o666 & ~umask  # not pooch's private 0600


def test_checksum_mismatch_keeps_no_file_and_is_not_retried(mirror, isolated):
    data = (SUBSET_DATA / "mnist" / "train-images-idx3-ubyte.gz").read_bytes()
    for f in IDX_FILES:
        mirror.add("mnist", f"{f}.gz", data)  # not the official files
    expected = MNIST_GZ_MD5["train-images-idx3-ubyte"]
    message = (rf"train-images-idx3-ubyte\.gz downloaded from "
               rf"http://127\.0\.0\.1:\d+/mnist/train-images-idx3-ubyte\.gz: checksum mismatch "
               rf"\(md5 is {_md5(data)}, expected {expected}\); the download was deleted")
    with pytest.raises(DataError, match=message):
        mnist().load(None)
    assert not (isolated / "mnist" / "train-images-idx3-ubyte.gz").exists()
    assert _leftovers(isolated) == [] and mirror.requests == ["/mnist/train-images-idx3-ubyte.gz"]


def test_refused_connection_fails_fast_and_says_where_to_put_the_files(monkeypatch, isolated, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again when the block ends: nobody listens
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{port}")
    monkeypatch.delenv(OFFLINE_ENV)
    start = time.monotonic()
    with pytest.raises(DataError) as caught:
        fashion_mnist().load(tmp_path)
    assert time.monotonic() - start < 5  # no retry: nobody answers
    message = str(caught.value)
    assert "\n" not in message
    assert (f"downloading http://127.0.0.1:{port}/fashion-mnist/train-images-idx3-ubyte.gz failed "
            f"([Errno 111] Connection refused)") in message
    assert f"not in {tmp_path / 'fashion-mnist'}, " in message
    assert "pass --data-dir DIR or set QENC_BENCH_DATA=DIR" in message
    assert "t10k-labels-idx1-ubyte.gz in DIR/fashion-mnist/" in message
    assert f"or put them in {isolated / 'fashion-mnist'}/" in message
    assert not isolated.exists()  # a failed download leaves the cache as it was


def test_offline_means_no_request(served_mnist, mirror, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(DataError, match=r"downloads are off \(QENC_BENCH_OFFLINE=1\)\. To use local files, "
                                        r"pass --data-dir DIR or set QENC_BENCH_DATA=DIR.*DIR/mnist/"):
        mnist().load(None)
    assert mirror.requests == []


def test_missing_file_on_the_server_is_not_retried(mirror):
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz failed \(HTTP 404 File not found\)"):
        MedMnistDataset("pneumoniamnist").load(None)
    assert mirror.requests == ["/pneumoniamnist/pneumoniamnist.npz"]


def test_every_medmnist_set_downloads_with_the_md5_of_its_table(mirror, isolated, monkeypatch):
    data = (SUBSET_DATA / "pneumoniamnist" / "pneumoniamnist.npz").read_bytes()  # not the official file
    mirror.add("pneumoniamnist", "pneumoniamnist.npz", data)
    with pytest.raises(DataError, match=rf"md5 is {_md5(data)}, expected 28209eda62fecd6e6a2d98b1501bb15f"):
        MedMnistDataset("pneumoniamnist").load(None)
    monkeypatch.setitem(MEDMNIST_2D, "pneumoniamnist", replace(MEDMNIST_2D["pneumoniamnist"], md5=_md5(data)))
    raw = MedMnistDataset("pneumoniamnist").load(None)
    assert raw.source == str(isolated / "pneumoniamnist" / "pneumoniamnist.npz")
    assert len(raw.splits["val"][1]) == 60 and len(mirror.requests) == 2
    for flag in MEDMNIST_2D:  # none needs the medmnist package (or torch) for its address and md5
        (remote,) = MedMnistDataset(flag).download.remote
        assert remote.name == f"{flag}.npz" and remote.md5 == MEDMNIST_2D[flag].md5


def test_a_missing_medmnist_set_offline_says_where_to_put_it(tmp_path):
    with pytest.raises(DataError) as caught:
        MedMnistDataset("octmnist").load(tmp_path)
    message = str(caught.value)
    assert "downloads are off" in message and "with octmnist.npz in DIR/octmnist/" in message


def test_a_file_url_mirror(monkeypatch, tmp_path, isolated):
    (tmp_path / "local" / "toy").mkdir(parents=True)
    (tmp_path / "local" / "toy" / "a.bin").write_bytes(TOY)
    monkeypatch.setenv(MIRROR_ENV, (tmp_path / "local").as_uri())
    monkeypatch.delenv(OFFLINE_ENV)
    assert (ensure_cached(_toy()) / "a.bin").read_bytes() == TOY
    with pytest.raises(DataError, match=r"downloading file://.*/toy/b\.bin failed \(No such file or directory"):
        ensure_cached(Download("toy", "toy", ("b.bin",), remote=(RemoteFile("b.bin", "x", md5=_md5(b"")),)))


# --- retries, the deadline, and no partial file ----------------------------------------------


def test_a_connection_dropped_mid_file_is_retried(mirror, isolated, capsys):
    mirror.add("toy", "a.bin", TOY)
    mirror.plan("toy", "a.bin", DROP)
    assert (ensure_cached(_toy()) / "a.bin").read_bytes() == TOY
    assert mirror.requests == ["/toy/a.bin"] * 2
    assert f"downloading a.bin failed (IncompleteRead(100000 bytes read, 200000 more expected)); trying again " \
           f"(attempt 2 of {RETRIES + 1})" in capsys.readouterr().err
    assert _leftovers(isolated) == []


def test_a_server_that_always_drops_the_connection_fails_after_the_retries(mirror, isolated):
    mirror.add("toy", "a.bin", TOY)
    mirror.plan("toy", "a.bin", *[DROP] * (RETRIES + 1))
    start = time.monotonic()
    with pytest.raises(DataError, match=rf"downloading {mirror.url}toy/a\.bin failed part-way "
                                        rf"\(IncompleteRead\(100000 bytes read, 200000 more expected\); "
                                        rf"{RETRIES + 1} attempts\)\. To use local files"):
        ensure_cached(_toy())
    assert time.monotonic() - start >= 1.0 * RETRIES  # pooch waits between attempts
    assert mirror.requests == ["/toy/a.bin"] * (RETRIES + 1)
    assert not isolated.exists()


def test_http_503_is_retried(mirror, isolated):
    mirror.add("toy", "a.bin", TOY)
    mirror.plan("toy", "a.bin", UNAVAILABLE)
    assert (ensure_cached(_toy()) / "a.bin").read_bytes() == TOY
    assert mirror.requests == ["/toy/a.bin"] * 2


@pytest.mark.parametrize("behaviour", [TRICKLE, STALL])
def test_a_trickling_or_stalled_server_is_cut_off_at_the_deadline(mirror, isolated, monkeypatch, behaviour):
    mirror.add("toy", "a.bin", TOY)
    mirror.plan("toy", "a.bin", behaviour)
    monkeypatch.setenv(DEADLINE_ENV, "1.5")
    start = time.monotonic()
    with pytest.raises(DataError) as caught:
        ensure_cached(_toy())
    elapsed = time.monotonic() - start
    assert 1.5 <= elapsed < 5, elapsed  # not the 10 s read timeout, not forever
    message = str(caught.value)
    assert f"downloading {mirror.url}toy/a.bin took longer than the 1.5 s deadline (" in message
    assert f"bytes received); set {DEADLINE_ENV}=SECONDS for a slow connection. To use local files" in message
    assert mirror.requests == ["/toy/a.bin"]  # the deadline is for the file: no retry
    assert not isolated.exists()


def test_the_deadline_must_be_a_positive_number(mirror, monkeypatch):
    monkeypatch.setenv(DEADLINE_ENV, "soon")
    with pytest.raises(ConfigError, match=rf"{DEADLINE_ENV}='soon' is not a positive number of seconds"):
        ensure_cached(_toy())
    assert mirror.requests == []


_DOWNLOAD = ("from qenc_datasets.download import Download, RemoteFile, ensure_cached; "
             "ensure_cached(Download('toy', 'toy', ('a.bin',), remote=(RemoteFile('a.bin', 'x', md5='0' * 32),)))")


def _start_killable_download(mirror: Mirror, cache: Path) -> tuple[subprocess.Popen, Path]:
    """A download in another process from a trickling server; returns once part of the file is
    written, with the process and its partial file."""
    mirror.add("toy", "a.bin", TOY)
    mirror.plan("toy", "a.bin", TRICKLE)
    env = {**os.environ, CACHE_ENV: str(cache), MIRROR_ENV: mirror.url, DEADLINE_ENV: "120"}
    env.pop(OFFLINE_ENV, None)
    process = subprocess.Popen([sys.executable, "-c", _DOWNLOAD], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    ends = time.monotonic() + 30
    while time.monotonic() < ends and process.poll() is None:
        partial_files = [p for p in cache.glob(f"{SCRATCH_PREFIX}*/*") if p.name != ".lock" and p.stat().st_size]
        if partial_files:
            return process, partial_files[0]
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"no partial download appeared: {process.communicate()[1].decode()}")


def test_a_terminated_download_leaves_nothing_behind(mirror, isolated):
    process, part = _start_killable_download(mirror, isolated)
    assert remove_abandoned_scratch(isolated) == [] and part.exists()  # its process is alive: not touched
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == -signal.SIGTERM, stderr.decode()  # it still dies of the signal
    assert not isolated.exists()  # no partial file, no scratch folder, no empty cache


def test_a_killed_download_leaves_no_file_at_its_name_and_the_next_download_clears_its_scratch(mirror, isolated):
    process, part = _start_killable_download(mirror, isolated)
    process.kill()  # SIGKILL: nothing can run in the process
    process.communicate(timeout=30)
    assert part.exists() and part.parent.name.startswith(SCRATCH_PREFIX)  # hidden in its scratch folder
    assert not (isolated / "toy" / "a.bin").exists()
    mirror.plans.clear()
    assert (ensure_cached(_toy()) / "a.bin").read_bytes() == TOY
    assert _leftovers(isolated) == [] and sorted(p.name for p in isolated.iterdir()) == ["toy"]


# --- the CIFAR-10 archive ------------------------------------------------------------------


def _records(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    labels = (np.arange(n) % 10).astype(np.uint8)[:, None]
    return np.concatenate([labels, rng.integers(0, 256, (n, RECORD - 1), dtype=np.uint8)], axis=1).tobytes()


def _tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def _cifar_archive(extra: list[tuple[tarfile.TarInfo, bytes | None]] = ()) -> bytes:
    """An archive shaped like the official one, with 20 records per training batch and 30 in the test batch."""
    members = [(tarfile.TarInfo("cifar-10-batches-bin"), None)]
    members[0][0].type = tarfile.DIRTYPE
    for i in range(1, 6):
        members.append((tarfile.TarInfo(f"cifar-10-batches-bin/data_batch_{i}.bin"), _records(20, i)))
    members.append((tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin"), _records(30, 0)))
    members.append((tarfile.TarInfo("cifar-10-batches-bin/batches.meta.txt"), "\n".join(CIFAR_NAMES).encode()))
    members.append((tarfile.TarInfo("cifar-10-batches-bin/readme.html"), b"<html></html>"))
    return _tar_gz(members + list(extra))


def test_cifar10_archive_is_downloaded_and_unpacked_once(mirror, isolated, monkeypatch):
    archive = _cifar_archive()
    mirror.add("cifar10", "cifar-10-binary.tar.gz", archive)
    monkeypatch.setattr(cifar_module, "ARCHIVE_MD5", _md5(archive))
    raw = Cifar10Dataset().load(None)
    assert len(raw.splits["train"][1]) == 100 and len(raw.splits["test"][1]) == 30
    assert raw.class_names == CIFAR_NAMES and raw.notes == {}
    folder = isolated / "cifar-10-batches-bin"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]
    )
    assert _leftovers(isolated) == []  # no archive, no scratch folder
    Cifar10Dataset().load(None)
    assert mirror.requests == ["/cifar10/cifar-10-binary.tar.gz"]


def _link(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


@pytest.mark.parametrize(
    ("member", "reason"),
    [
        ((tarfile.TarInfo("../escaped.bin"), b"x"), "a path outside the archive"),
        ((tarfile.TarInfo("/tmp/absolute.bin"), b"x"), "a path outside the archive"),
        ((_link("cifar-10-batches-bin/extra", "/etc/passwd"), None), "a link or a device"),
    ],
)
def test_unsafe_cifar10_archive_is_refused(mirror, isolated, monkeypatch, tmp_path, member, reason):
    archive = _cifar_archive([member])
    mirror.add("cifar10", "cifar-10-binary.tar.gz", archive)
    monkeypatch.setattr(cifar_module, "ARCHIVE_MD5", _md5(archive))
    with pytest.raises(DataError, match=rf"cifar-10-binary\.tar\.gz: refused: member .* is {reason}"):
        Cifar10Dataset().load(None)
    assert not (isolated / "cifar-10-batches-bin").exists() and _leftovers(isolated) == []
    assert not (tmp_path / "escaped.bin").exists() and not (isolated / "escaped.bin").exists()


def test_cifar10_archive_lacking_a_batch(mirror, isolated, monkeypatch):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin")
        info.size = RECORD
        tar.addfile(info, io.BytesIO(bytes(RECORD)))
    mirror.add("cifar10", "cifar-10-binary.tar.gz", buffer.getvalue())
    monkeypatch.setattr(cifar_module, "ARCHIVE_MD5", _md5(buffer.getvalue()))
    with pytest.raises(DataError, match=r"cifar-10-batches-bin/.*data_batch_1\.bin.* not in the archive"):
        Cifar10Dataset().load(None)
    assert not isolated.exists()
