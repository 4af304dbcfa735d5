"""The datasets beyond digits and MNIST, on real files, and downloading into the cache.

Downloads are served by a local HTTP server on 127.0.0.1 (``QENC_BENCH_MIRROR``); every test
runs with its own cache (``QENC_BENCH_CACHE``) and, unless it asks for the mirror,
with ``QENC_BENCH_OFFLINE=1``: no test touches the network or the user's cache.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import shutil
import socket
import tarfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import qenc_datasets
from qenc_bench.prepare import prepare
from qenc_bench.datasets import DATA_ENV
from qenc_bench.errors import DataError
from qenc_bench.plugins import Registry
from qenc_datasets import (
    MEDMNIST_2D,
    BreastCancerDataset,
    Cifar10Dataset,
    MedMnistDataset,
    RemoteFile,
    cache_dir,
    fashion_mnist,
    mnist,
    read_cifar_batch,
)
from qenc_datasets import cifar as cifar_module
from qenc_datasets import idx as idx_module
from qenc_datasets import medmnist as medmnist_module
from qenc_datasets.download import CACHE_ENV, MIRROR_ENV, OFFLINE_ENV
from qenc_datasets.idx import FASHION_NAMES, IDX_FILES, MNIST_GZ_MD5

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MNIST_DIR = SHARED_DATA / "mnist"
CIFAR_DIR = SHARED_DATA / "cifar-10-batches-bin"
PNEUMONIA_NPZ = SHARED_DATA / "pneumoniamnist" / "pneumoniamnist.npz"
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORD = 3073

_needed = [MNIST_DIR / f"{f}.gz" for f in IDX_FILES] + [CIFAR_DIR / "test_batch.bin", CIFAR_DIR / "batches.meta.txt",
                                                        PNEUMONIA_NPZ]
if not all(p.is_file() for p in _needed):
    raise RuntimeError(f"the real test data is missing: expected {', '.join(map(str, _needed))}")


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private, empty cache; downloads off; no data directory or mirror from the caller."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    for name in (MIRROR_ENV, DATA_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return cache


@dataclass
class Mirror:
    """A directory served over HTTP, and the paths requested from it."""

    root: Path
    requests: list[str]

    def add(self, dataset: str, name: str, data: bytes) -> None:
        folder = self.root / dataset
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def mirror(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Mirror]:
    """A local HTTP server as ``QENC_BENCH_MIRROR``, with downloads on."""
    root = tmp_path / "mirror"
    root.mkdir()
    requests: list[str] = []

    class Handler(_QuietHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            super().do_GET()

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.delenv(OFFLINE_ENV)
    try:
        yield Mirror(root, requests)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _link_mnist(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for f in IDX_FILES:
        (folder / f"{f}.gz").symlink_to(MNIST_DIR / f"{f}.gz")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*")) if folder.exists() else []


# --- Fashion-MNIST (same IDX format; the MNIST files stand in for it) --------------------


@pytest.mark.parametrize("folder", ["fashion-mnist", "fashion_mnist", "FashionMNIST/raw"])
def test_fashion_mnist_reads_the_idx_files_of_its_folder(tmp_path, folder):
    _link_mnist(tmp_path / folder)
    raw = fashion_mnist().load(tmp_path)
    assert raw.name == "fashion-mnist" and raw.class_names == FASHION_NAMES
    assert raw.class_names[0] == "T-shirt/top" and raw.class_names[9] == "Ankle boot"
    assert raw.splits["train"][0].shape == (60000, 28, 28) and raw.splits["test"][0].shape == (10000, 28, 28)
    assert raw.source == str(tmp_path / folder)


def test_fashion_mnist_does_not_take_idx_files_lying_directly_in_the_data_dir(tmp_path):
    _link_mnist(tmp_path)  # MNIST's file names: they must not pass for Fashion-MNIST
    with pytest.raises(DataError, match=r"downloads are off.*t10k-labels-idx1-ubyte\.gz in DIR/fashion-mnist/"):
        fashion_mnist().load(tmp_path)


# --- CIFAR-10 binary batches -------------------------------------------------------------


def test_cifar10_on_the_real_test_batch_alone():
    raw = Cifar10Dataset().load(SHARED_DATA)
    x, y = raw.splits["train"]
    assert set(raw.splits) == {"train"}  # the only pool: prepare carves train/val/test from it
    assert x.shape == (1000, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100] * 10
    assert raw.class_names == CIFAR_NAMES and raw.max_value == 255.0 and raw.modality == "image"
    assert "no training batches" in raw.notes["pool"] and "not the official" in raw.notes["pool"]
    assert raw.source == str(CIFAR_DIR)


def test_cifar10_record_layout_is_label_then_red_green_blue_planes():
    data = (CIFAR_DIR / "test_batch.bin").read_bytes()
    images, labels = read_cifar_batch(CIFAR_DIR / "test_batch.bin")
    record = np.frombuffer(data[RECORD : 2 * RECORD], dtype=np.uint8)
    assert labels[1] == record[0]
    for channel in range(3):
        plane = record[1 + 1024 * channel : 1 + 1024 * (channel + 1)].reshape(32, 32)
        assert np.array_equal(images[1, :, :, channel], plane)


def test_cifar10_training_batches_and_test_batch(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    data = (CIFAR_DIR / "test_batch.bin").read_bytes()
    (folder / "data_batch_1.bin").write_bytes(data[: 600 * RECORD])
    (folder / "data_batch_2.bin").write_bytes(data[600 * RECORD : 800 * RECORD])
    (folder / "test_batch.bin").write_bytes(data[800 * RECORD :])
    raw = Cifar10Dataset().load(tmp_path)
    assert len(raw.splits["train"][1]) == 800 and len(raw.splits["test"][1]) == 200
    assert raw.class_names == CIFAR_NAMES  # no batches.meta.txt: the official names
    assert raw.notes == {"train_batches": "data_batch_1.bin, data_batch_2.bin"}
    whole, _ = read_cifar_batch(CIFAR_DIR / "test_batch.bin")
    assert np.array_equal(raw.splits["train"][0][600:], whole[600:800])


def test_cifar10_class_names_come_from_batches_meta(tmp_path):
    shutil.copyfile(CIFAR_DIR / "test_batch.bin", tmp_path / "test_batch.bin")
    (tmp_path / "batches.meta.txt").write_text("\n".join(f"class {i}" for i in range(10)) + "\n\n")
    assert Cifar10Dataset().load(tmp_path).class_names == tuple(f"class {i}" for i in range(10))
    (tmp_path / "batches.meta.txt").write_text("only\nthree\nnames\n")
    with pytest.raises(DataError, match=r"batches\.meta\.txt: 3 class names, CIFAR-10 has 10"):
        Cifar10Dataset().load(tmp_path)


@pytest.mark.parametrize("cut", [1, RECORD - 1, RECORD + 7])
def test_cifar10_batch_of_the_wrong_size(tmp_path, cut):
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.parent.mkdir()
    path.write_bytes((CIFAR_DIR / "test_batch.bin").read_bytes()[:-cut])
    with pytest.raises(DataError, match=r"test_batch\.bin: \d+ bytes is not a whole number of CIFAR-10 records \(3073"):
        Cifar10Dataset().load(tmp_path)


def test_cifar10_label_out_of_range(tmp_path):
    data = bytearray((CIFAR_DIR / "test_batch.bin").read_bytes()[: 3 * RECORD])
    data[2 * RECORD] = 17
    (tmp_path / "test_batch.bin").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"test_batch\.bin: record 2 has label 17, outside 0\.\.9"):
        Cifar10Dataset().load(tmp_path)


def test_cifar10_prepared_by_luminance_on_a_3x3_grid():
    data = prepare(Cifar10Dataset().load(SHARED_DATA), (3, 5), grid=3, train_size=40, test_size=20, seed=1)
    assert data.class_names == ("cat", "dog") and data.n_features == 9
    assert data.sizes() == {"train": 40, "validation": 10, "test": 20}
    assert 0.0 <= data.train.x.min() and data.train.x.max() <= 1.0


# --- MedMNIST npz ------------------------------------------------------------------------


def test_pneumoniamnist_keeps_the_official_splits():
    raw = MedMnistDataset("pneumoniamnist").load(SHARED_DATA)
    assert set(raw.splits) == {"train", "val", "test"}
    counts = {split: np.bincount(y).tolist() for split, (_, y) in raw.splits.items()}
    assert counts == {"train": [388, 3494], "val": [135, 389], "test": [234, 390]}
    for x, y in raw.splits.values():
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and y.dtype == np.int64 and y.ndim == 1
    assert raw.class_names == ("normal", "pneumonia") and raw.max_value == 255.0
    assert raw.notes == {"splits": "train has 3882 samples, the official release 4708: not the official split"}
    assert raw.source == str(PNEUMONIA_NPZ)


def test_pneumoniamnist_validation_comes_from_the_official_val_split():
    raw = MedMnistDataset("pneumoniamnist").load(SHARED_DATA)
    data = prepare(raw, (0, 1), grid=4, train_size=40, test_size=20, validation_size=12, seed=0)
    val_x = raw.splits["val"][0].astype(np.float64) / 255.0
    from qenc_bench.prepare import area_resize

    candidates = area_resize(val_x, 4).reshape(len(val_x), -1)
    assert all(np.any(np.all(np.isclose(candidates, row), axis=1)) for row in data.validation.x)


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _pneumonia_arrays() -> dict[str, np.ndarray]:
    with np.load(PNEUMONIA_NPZ) as npz:
        return {k: npz[k][:50] for k in npz.files}


def test_truncated_npz_names_the_file(tmp_path):
    path = tmp_path / "pneumoniamnist" / "pneumoniamnist.npz"
    path.parent.mkdir()
    data = PNEUMONIA_NPZ.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: truncated or corrupt npz file"):
        MedMnistDataset("pneumoniamnist").load(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("test_labels"), r"no test_labels in the archive; a MedMNIST npz has train_images"),
        (lambda a: a.update(val_images=a["val_images"].astype(np.float32)), r"val_images has dtype float32"),
        (lambda a: a.update(train_images=a["train_images"][..., None]), r"train_images has shape \(50, 28, 28, 1\)"),
        (lambda a: a.update(test_labels=np.zeros((50, 3), np.uint8)), r"test_labels has shape \(50, 3\).*multi"),
        (lambda a: a.update(val_labels=a["val_labels"][:40]), r"50 val_images but 40 val_labels"),
        (lambda a: a.update(test_labels=np.full((50, 1), 2, np.uint8)), r"test_labels has values 2\.\.2"),
        (lambda a: a.update(test_images=np.zeros((50, 14, 14), np.uint8)), r"the splits have images of different"),
    ],
    ids=["missing key", "float images", "4d grey images", "multi-label", "count mismatch", "label range",
         "image shapes"],
)
def test_malformed_npz(tmp_path, change, message):
    arrays = _pneumonia_arrays()
    change(arrays)
    (tmp_path / "pneumoniamnist.npz").write_bytes(_npz_bytes(arrays))
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: " + message):
        MedMnistDataset("pneumoniamnist").load(tmp_path)


def test_npz_with_pickled_objects_is_refused(tmp_path):
    arrays = _pneumonia_arrays()
    arrays["train_labels"] = np.array([{"not": "data"}] * 50, dtype=object)
    (tmp_path / "pneumoniamnist.npz").write_bytes(_npz_bytes(arrays))
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: truncated or corrupt npz file \(.*pickle"):
        MedMnistDataset("pneumoniamnist").load(tmp_path)


def test_rgb_medmnist_set(tmp_path):
    rng = np.random.default_rng(0)
    arrays = {}
    for split, n in (("train", 30), ("val", 10), ("test", 12)):
        arrays[f"{split}_images"] = rng.integers(0, 256, (n, 28, 28, 3), dtype=np.uint8)
        arrays[f"{split}_labels"] = rng.integers(0, 7, (n, 1), dtype=np.uint8)
    (tmp_path / "dermamnist").mkdir()
    (tmp_path / "dermamnist" / "dermamnist.npz").write_bytes(_npz_bytes(arrays))
    raw = MedMnistDataset("dermamnist").load(tmp_path)
    assert raw.splits["train"][0].shape == (30, 28, 28, 3) and len(raw.class_names) == 7
    arrays["val_images"] = arrays["val_images"][..., 0]  # grey where RGB is expected
    (tmp_path / "dermamnist" / "dermamnist.npz").write_bytes(_npz_bytes(arrays))
    with pytest.raises(DataError, match=r"val_images has shape \(10, 28, 28\), expected \(N, H, W, 3\) RGB"):
        MedMnistDataset("dermamnist").load(tmp_path)


def test_medmnist_table_is_single_label_2d_sets():
    assert {"pneumoniamnist", "breastmnist", "octmnist", "pathmnist"} <= set(MEDMNIST_2D)
    assert not {"chestmnist", "retinamnist"} & set(MEDMNIST_2D)  # multi-label, ordinal
    assert MEDMNIST_2D["breastmnist"].class_names == ("malignant", "normal, benign")
    assert len(MEDMNIST_2D["octmnist"].class_names) == 4


# --- breast cancer (tabular) -------------------------------------------------------------


def test_breast_cancer_is_one_tabular_pool():
    raw = BreastCancerDataset().load(None)
    x, y = raw.splits["train"]
    assert set(raw.splits) == {"train"} and x.shape == (569, 30) and y.shape == (569,)
    assert raw.modality == "tabular" and raw.max_value is None
    assert raw.class_names == ("malignant", "benign") and np.bincount(y).tolist() == [212, 357]
    data = prepare(raw, (0, 1), grid=None, train_size=40, test_size=20, seed=0)
    assert data.n_features == 30 and data.grid is None
    assert data.train.x.min() == 0.0 and data.train.x.max() == 1.0


# --- registration ------------------------------------------------------------------------


def test_every_dataset_is_registered_with_a_description(pm, register_plugin):
    register_plugin(qenc_datasets, "datasets")
    registry = Registry.from_plugin_manager(pm)
    names = set(registry.names("dataset"))
    assert {"digits", "mnist", "fashion-mnist", "cifar10", "pneumoniamnist", "breastmnist", "octmnist",
            "breast-cancer"} <= names
    for name in names:
        spec = registry.get("dataset", name)
        assert spec.description and "\n" not in spec.description
    assert registry.get("dataset", "breast-cancer").modality == "tabular"
    assert registry.get("dataset", "cifar10").modality == "image"
    assert isinstance(registry.get("dataset", "octmnist").factory(), MedMnistDataset)


# --- the cache ---------------------------------------------------------------------------


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
    _link_mnist(isolated / "fashion-mnist")
    raw = fashion_mnist().load(None)  # offline, but already cached
    assert raw.source == str(isolated / "fashion-mnist")


# --- downloads through a local server ----------------------------------------------------


def _serve_mnist(mirror: Mirror, dataset: str = "mnist") -> dict[str, str]:
    """The shared (re-gzipped) MNIST files on the mirror; their md5s."""
    md5s = {}
    for f in IDX_FILES:
        data = (MNIST_DIR / f"{f}.gz").read_bytes()
        mirror.add(dataset, f"{f}.gz", data)
        md5s[f] = _md5(data)
    return md5s


def test_download_fills_the_cache_once(mirror, isolated, monkeypatch, tmp_path):
    monkeypatch.setattr(idx_module, "MNIST_GZ_MD5", _serve_mnist(mirror))
    raw = mnist().load(None)
    assert sorted(mirror.requests) == sorted(f"/mnist/{f}.gz" for f in IDX_FILES)
    assert raw.splits["train"][0].shape == (60000, 28, 28)  # and the decompressed md5s passed
    assert sorted(p.name for p in (isolated / "mnist").iterdir()) == sorted(f"{f}.gz" for f in IDX_FILES)
    assert _leftovers(isolated) == []
    (tmp_path / "empty").mkdir()
    for data_dir in (None, tmp_path / "empty"):  # a data dir without the files falls back to the cache
        again = mnist().load(data_dir)
        assert again.source == str(isolated / "mnist")
    assert len(mirror.requests) == 4


def test_download_fetches_only_the_missing_files(mirror, isolated, monkeypatch):
    monkeypatch.setattr(idx_module, "MNIST_GZ_MD5", _serve_mnist(mirror))
    (isolated / "mnist").mkdir(parents=True)
    for f in IDX_FILES[:3]:
        shutil.copyfile(MNIST_DIR / f"{f}.gz", isolated / "mnist" / f"{f}.gz")
    mnist().load(None)
    assert mirror.requests == [f"/mnist/{IDX_FILES[3]}.gz"]


def test_checksum_mismatch_keeps_no_file(mirror, isolated):
    _serve_mnist(mirror)  # re-gzipped copies: not the md5s of the official .gz files
    actual = _md5((MNIST_DIR / "train-images-idx3-ubyte.gz").read_bytes())
    expected = MNIST_GZ_MD5["train-images-idx3-ubyte"]
    message = (rf"train-images-idx3-ubyte\.gz downloaded from "
               rf"http://127\.0\.0\.1:\d+/mnist/train-images-idx3-ubyte\.gz: checksum mismatch "
               rf"\(md5 is {actual}, expected {expected}\); the download was deleted")
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
    assert time.monotonic() - start < 5
    message = str(caught.value)
    assert f"downloading http://127.0.0.1:{port}/fashion-mnist/train-images-idx3-ubyte.gz failed" in message
    assert f"not in {tmp_path / 'fashion-mnist'}, " in message and "refused" in message
    assert "pass --data-dir DIR or set QENC_BENCH_DATA=DIR" in message
    assert "t10k-labels-idx1-ubyte.gz in DIR/fashion-mnist/" in message
    assert f"or put them in {isolated / 'fashion-mnist'}/" in message
    assert not isolated.exists()


def test_offline_means_no_request(mirror, monkeypatch):
    _serve_mnist(mirror)
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(DataError, match=r"downloads are off \(QENC_BENCH_OFFLINE=1\)\. To use local files, "
                                        r"pass --data-dir DIR or set QENC_BENCH_DATA=DIR.*DIR/mnist/"):
        mnist().load(None)
    assert mirror.requests == []


def test_missing_file_on_the_server(mirror):
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz failed \(HTTP 404 File not found\)"):
        MedMnistDataset("pneumoniamnist").load(None)


def test_medmnist_download_uses_the_built_in_md5(mirror, isolated, monkeypatch):
    data = PNEUMONIA_NPZ.read_bytes()  # reduced train split: not the official file
    mirror.add("pneumoniamnist", "pneumoniamnist.npz", data)
    monkeypatch.setattr(medmnist_module, "_medmnist_package_info", lambda flag: None)
    with pytest.raises(DataError, match=rf"md5 is {_md5(data)}, expected 28209eda62fecd6e6a2d98b1501bb15f"):
        MedMnistDataset("pneumoniamnist").load(None)
    info = dataclasses.replace(MEDMNIST_2D["pneumoniamnist"], md5=_md5(data))
    monkeypatch.setitem(MEDMNIST_2D, "pneumoniamnist", info)
    raw = MedMnistDataset("pneumoniamnist").load(None)
    assert raw.source == str(isolated / "pneumoniamnist" / "pneumoniamnist.npz")
    assert len(raw.splits["val"][1]) == 524 and len(mirror.requests) == 2


def test_medmnist_without_a_known_md5_says_where_to_put_the_file(mirror, monkeypatch, tmp_path):
    monkeypatch.setattr(medmnist_module, "_medmnist_package_info", lambda flag: None)
    with pytest.raises(DataError) as caught:
        MedMnistDataset("octmnist").load(tmp_path)
    message = str(caught.value)
    assert "pip install 'qenc-bench[medmnist]'" in message and "https://zenodo.org/records/10519652" in message
    assert "with octmnist.npz in DIR/octmnist/" in message
    assert mirror.requests == []


# --- the CIFAR-10 archive ----------------------------------------------------------------


def _tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _cifar_archive(extra: list[tuple[tarfile.TarInfo, bytes | None]] = ()) -> bytes:
    """An archive shaped like the official one, with 20 real records per batch."""
    data = (CIFAR_DIR / "test_batch.bin").read_bytes()
    members = [(tarfile.TarInfo("cifar-10-batches-bin"), None)]
    members[0][0].type = tarfile.DIRTYPE
    for i in range(1, 6):
        members.append((tarfile.TarInfo(f"cifar-10-batches-bin/data_batch_{i}.bin"),
                        data[(i - 1) * 20 * RECORD : i * 20 * RECORD]))
    members.append((tarfile.TarInfo("cifar-10-batches-bin/test_batch.bin"), data[100 * RECORD : 130 * RECORD]))
    members.append((tarfile.TarInfo("cifar-10-batches-bin/batches.meta.txt"),
                    (CIFAR_DIR / "batches.meta.txt").read_bytes()))
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
    assert not (isolated / "cifar-10-batches-bin").exists()


def test_corrupt_npz_is_not_a_zip(tmp_path):
    (tmp_path / "breastmnist.npz").write_bytes(b"PK\x03\x04 but then nothing")
    with pytest.raises(DataError, match=r"breastmnist\.npz: truncated or corrupt npz file"):
        MedMnistDataset("breastmnist").load(tmp_path)
