"""The datasets beyond digits and MNIST, on real files: Fashion-MNIST's folders, CIFAR-10's
binary batches, the MedMNIST npz files and their table, breast cancer, and the registration.

Real files come from the ``shared_data`` fixture (``$QENC_BENCH_TEST_DATA``, ``../shared/data``,
the download cache, else the subset shipped in ``tests/data``). CIFAR-10 is not in that subset
(its licence does not say it may be redistributed): without a real batch, the CIFAR-10 tests
read one made here in the same binary format, with random pixels. Every test runs with its own
cache and downloads off; downloads are tested in ``test_download.py``.
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import qenc_datasets
from qenc_bench.datasets import DATA_ENV
from qenc_bench.errors import DataError
from qenc_bench.plugins import Registry
from qenc_bench.prepare import prepare
from qenc_datasets import (
    MEDMNIST_2D,
    BreastCancerDataset,
    Cifar10Dataset,
    MedMnistDataset,
    fashion_mnist,
    read_cifar_batch,
)
from qenc_datasets.download import CACHE_ENV, MIRROR_ENV, OFFLINE_ENV
from qenc_datasets.idx import FASHION_NAMES, IDX_FILES
from qenc_datasets.subset import MANIFEST

SUBSET_DATA = Path(__file__).resolve().parent / "data"
CIFAR_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
RECORD = 3073


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A private, empty cache; downloads off; no data directory or mirror from the caller."""
    cache = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(cache))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    for name in (MIRROR_ENV, DATA_ENV, "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    return cache


@pytest.fixture(scope="module")
def mnist_dir(shared_data) -> Path:
    return shared_data / "mnist"


@pytest.fixture(scope="module")
def pneumonia_npz(shared_data) -> Path:
    return shared_data / "pneumoniamnist" / "pneumoniamnist.npz"


@pytest.fixture(scope="module")
def cifar_dir(test_data_sources, tmp_path_factory) -> Path:
    """A folder with a CIFAR-10 ``test_batch.bin`` and ``batches.meta.txt``: the first real
    batch found, else 1000 records (100 per class, shuffled) of random pixels."""
    source = test_data_sources.get("cifar-10-batches-bin")
    folder = tmp_path_factory.mktemp("cifar") / "cifar-10-batches-bin"
    folder.mkdir()
    if source is not None:  # the batch alone: a cache may hold the training batches as well
        (folder / "test_batch.bin").symlink_to(source.root / "cifar-10-batches-bin" / "test_batch.bin")
    else:
        rng = np.random.default_rng(10)
        labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), 100))
        records = np.concatenate([labels[:, None], rng.integers(0, 256, (1000, RECORD - 1), dtype=np.uint8)], axis=1)
        (folder / "test_batch.bin").write_bytes(records.tobytes())
    (folder / "batches.meta.txt").write_text("\n".join(CIFAR_NAMES) + "\n")
    return folder


def _link_mnist(source: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in [f"{f}.gz" for f in IDX_FILES] + [MANIFEST]:
        if (source / name).is_file():
            (folder / name).symlink_to(source / name)


def _idx_count(path: Path) -> int:
    import gzip

    return int.from_bytes(gzip.decompress(path.read_bytes())[4:8], "big")


# --- Fashion-MNIST (same IDX format; the MNIST files stand in for it) --------------------


@pytest.mark.parametrize("folder", ["fashion-mnist", "fashion_mnist", "FashionMNIST/raw"])
def test_fashion_mnist_reads_the_idx_files_of_its_folder(tmp_path, mnist_dir, folder):
    _link_mnist(mnist_dir, tmp_path / folder)
    raw = fashion_mnist().load(tmp_path)
    assert raw.name == "fashion-mnist" and raw.class_names == FASHION_NAMES
    assert raw.class_names[0] == "T-shirt/top" and raw.class_names[9] == "Ankle boot"
    n_train, n_test = (_idx_count(mnist_dir / f"{f}.gz") for f in ("train-labels-idx1-ubyte", "t10k-labels-idx1-ubyte"))
    assert raw.splits["train"][0].shape == (n_train, 28, 28) and raw.splits["test"][0].shape == (n_test, 28, 28)
    assert raw.source == str(tmp_path / folder)


def test_fashion_mnist_does_not_take_idx_files_lying_directly_in_the_data_dir(tmp_path, mnist_dir):
    _link_mnist(mnist_dir, tmp_path)  # MNIST's file names: they must not pass for Fashion-MNIST
    with pytest.raises(DataError, match=r"downloads are off.*t10k-labels-idx1-ubyte\.gz in DIR/fashion-mnist/"):
        fashion_mnist().load(tmp_path)


# --- CIFAR-10 binary batches -------------------------------------------------------------


def test_cifar10_on_the_test_batch_alone(cifar_dir):
    raw = Cifar10Dataset().load(cifar_dir.parent)
    x, y = raw.splits["train"]
    data = (cifar_dir / "test_batch.bin").read_bytes()
    assert set(raw.splits) == {"train"}  # the only pool: prepare carves train/val/test from it
    assert x.shape == (len(data) // RECORD, 32, 32, 3) and x.dtype == np.uint8 and y.dtype == np.int64
    assert np.bincount(y).tolist() == np.bincount(np.frombuffer(data, np.uint8)[::RECORD]).tolist()
    assert raw.class_names == CIFAR_NAMES and raw.max_value == 255.0 and raw.modality == "image"
    assert "no training batches" in raw.notes["pool"] and "not the official" in raw.notes["pool"]
    assert raw.source == str(cifar_dir)


def test_cifar10_record_layout_is_label_then_red_green_blue_planes(cifar_dir):
    data = (cifar_dir / "test_batch.bin").read_bytes()
    images, labels = read_cifar_batch(cifar_dir / "test_batch.bin")
    record = np.frombuffer(data[RECORD : 2 * RECORD], dtype=np.uint8)
    assert labels[1] == record[0]
    for channel in range(3):
        plane = record[1 + 1024 * channel : 1 + 1024 * (channel + 1)].reshape(32, 32)
        assert np.array_equal(images[1, :, :, channel], plane)


def test_cifar10_training_batches_and_test_batch(tmp_path, cifar_dir):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    data = (cifar_dir / "test_batch.bin").read_bytes()
    (folder / "data_batch_1.bin").write_bytes(data[: 600 * RECORD])
    (folder / "data_batch_2.bin").write_bytes(data[600 * RECORD : 800 * RECORD])
    (folder / "test_batch.bin").write_bytes(data[800 * RECORD : 1000 * RECORD])
    raw = Cifar10Dataset().load(tmp_path)
    assert len(raw.splits["train"][1]) == 800 and len(raw.splits["test"][1]) == 200
    assert raw.class_names == CIFAR_NAMES  # no batches.meta.txt: the official names
    assert raw.notes == {"train_batches": "data_batch_1.bin, data_batch_2.bin"}
    whole, _ = read_cifar_batch(cifar_dir / "test_batch.bin")
    assert np.array_equal(raw.splits["train"][0][600:], whole[600:800])


def test_cifar10_class_names_come_from_batches_meta(tmp_path, cifar_dir):
    shutil.copyfile(cifar_dir / "test_batch.bin", tmp_path / "test_batch.bin")
    (tmp_path / "batches.meta.txt").write_text("\n".join(f"class {i}" for i in range(10)) + "\n\n")
    assert Cifar10Dataset().load(tmp_path).class_names == tuple(f"class {i}" for i in range(10))
    (tmp_path / "batches.meta.txt").write_text("only\nthree\nnames\n")
    with pytest.raises(DataError, match=r"batches\.meta\.txt: 3 class names, CIFAR-10 has 10"):
        Cifar10Dataset().load(tmp_path)


@pytest.mark.parametrize("cut", [1, RECORD - 1, RECORD + 7])
def test_cifar10_batch_of_the_wrong_size(tmp_path, cifar_dir, cut):
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.parent.mkdir()
    path.write_bytes((cifar_dir / "test_batch.bin").read_bytes()[:-cut])
    with pytest.raises(DataError, match=r"test_batch\.bin: \d+ bytes is not a whole number of CIFAR-10 records \(3073"):
        Cifar10Dataset().load(tmp_path)


def test_cifar10_label_out_of_range(tmp_path, cifar_dir):
    data = bytearray((cifar_dir / "test_batch.bin").read_bytes()[: 3 * RECORD])
    data[2 * RECORD] = 17
    (tmp_path / "test_batch.bin").write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"test_batch\.bin: record 2 has label 17, outside 0\.\.9"):
        Cifar10Dataset().load(tmp_path)


def test_cifar10_prepared_by_luminance_on_a_3x3_grid(cifar_dir):
    data = prepare(Cifar10Dataset().load(cifar_dir.parent), (3, 5), grid=3, train_size=40, test_size=20, seed=1)
    assert data.class_names == ("cat", "dog") and data.n_features == 9
    assert data.sizes() == {"train": 40, "validation": 10, "test": 20}
    assert 0.0 <= data.train.x.min() and data.train.x.max() <= 1.0


# --- MedMNIST npz ------------------------------------------------------------------------


def _counts(npz: Path) -> dict[str, list[int]]:
    """Class counts of each split, read with numpy alone."""
    with np.load(npz) as arrays:
        return {split: np.bincount(arrays[f"{split}_labels"].reshape(-1)).tolist() for split in ("train", "val", "test")}


def test_pneumoniamnist_keeps_the_splits_of_its_file(pneumonia_npz):
    raw = MedMnistDataset("pneumoniamnist").load(pneumonia_npz.parent.parent)
    assert set(raw.splits) == {"train", "val", "test"}
    assert {split: np.bincount(y).tolist() for split, (_, y) in raw.splits.items()} == _counts(pneumonia_npz)
    for x, y in raw.splits.values():
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28) and y.dtype == np.int64 and y.ndim == 1
    assert raw.class_names == ("normal", "pneumonia") and raw.max_value == 255.0
    sizes = tuple(len(raw.splits[split][1]) for split in ("train", "val", "test"))
    assert ("splits" in raw.notes) == (sizes != MEDMNIST_2D["pneumoniamnist"].sizes)
    assert raw.source == str(pneumonia_npz)


def test_pneumoniamnist_official_val_and_test_splits(pneumonia_npz):
    if (pneumonia_npz.parent / MANIFEST).is_file():
        pytest.skip("needs a PneumoniaMNIST npz with the official val and test splits; only the subset was found")
    raw = MedMnistDataset("pneumoniamnist").load(pneumonia_npz.parent.parent)
    counts = {split: np.bincount(y).tolist() for split, (_, y) in raw.splits.items()}
    assert counts["val"] == [135, 389] and counts["test"] == [234, 390]
    if len(raw.splits["train"][1]) != 4708:  # ../shared/data: a reduced train split, and said so
        n = len(raw.splits["train"][1])
        assert raw.notes == {"splits": f"train has {n} samples, the official release 4708: not the official split"}


def test_the_shipped_pneumoniamnist_subset_says_it_is_a_subset():
    npz = SUBSET_DATA / "pneumoniamnist" / "pneumoniamnist.npz"
    raw = MedMnistDataset("pneumoniamnist").load(SUBSET_DATA)
    counts = {split: np.bincount(y).tolist() for split, (_, y) in raw.splits.items()}
    assert counts == {"train": [100, 100], "val": [30, 30], "test": [50, 50]}
    manifest = json.loads((npz.parent / MANIFEST).read_text())
    assert {split: entry["class_counts"] for split, entry in manifest["splits"].items()} == counts
    assert str(npz.parent / MANIFEST) in raw.notes["subset"] and "val 60 of 524" in raw.notes["subset"]
    assert "train has 200 samples, the official release 4708" in raw.notes["splits"]
    assert raw.source == str(npz)


def test_the_pneumoniamnist_subset_is_its_sources_images_at_the_manifests_indices(pneumonia_npz):
    subset = SUBSET_DATA / "pneumoniamnist"
    manifest = json.loads((subset / MANIFEST).read_text())
    source_md5 = manifest["files"]["pneumoniamnist.npz"]["source_md5"]
    if (pneumonia_npz.parent / MANIFEST).is_file() or _md5(pneumonia_npz.read_bytes()) != source_md5:
        pytest.skip(f"needs the npz the subset was made from (md5 {source_md5}), e.g. ../shared/data")
    with np.load(pneumonia_npz) as full, np.load(subset / "pneumoniamnist.npz") as part:
        for split, entry in manifest["splits"].items():
            for kind in ("images", "labels"):
                np.testing.assert_array_equal(part[f"{split}_{kind}"], full[f"{split}_{kind}"][entry["indices"]])


def test_a_subset_npz_that_does_not_match_its_manifest_is_refused(tmp_path):
    folder = tmp_path / "pneumoniamnist"
    shutil.copytree(SUBSET_DATA / "pneumoniamnist", folder)
    with np.load(folder / "pneumoniamnist.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["test_images"][7, 14, 14] ^= 0xFF  # one pixel: still a valid MedMNIST npz
    (folder / "pneumoniamnist.npz").write_bytes(_npz_bytes(arrays))
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: checksum mismatch \(md5 is [0-9a-f]{32}, .*SUBSET\.json declares"):
        MedMnistDataset("pneumoniamnist").load(tmp_path)
    (folder / MANIFEST).unlink()  # without the manifest, nothing says what the file should be
    assert len(MedMnistDataset("pneumoniamnist").load(tmp_path).splits["test"][1]) == 100


def test_pneumoniamnist_validation_comes_from_the_val_split(pneumonia_npz):
    raw = MedMnistDataset("pneumoniamnist").load(pneumonia_npz.parent.parent)
    data = prepare(raw, (0, 1), grid=4, train_size=40, test_size=20, validation_size=12, seed=0)
    val_x = raw.splits["val"][0].astype(np.float64) / 255.0
    from qenc_bench.prepare import area_resize

    candidates = area_resize(val_x, 4).reshape(len(val_x), -1)
    assert all(np.any(np.all(np.isclose(candidates, row), axis=1)) for row in data.validation.x)


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


@pytest.fixture
def pneumonia_arrays(pneumonia_npz) -> dict[str, np.ndarray]:
    with np.load(pneumonia_npz) as npz:
        return {k: npz[k][:50] for k in npz.files}


def test_truncated_npz_names_the_file(tmp_path, pneumonia_npz):
    path = tmp_path / "pneumoniamnist" / "pneumoniamnist.npz"
    path.parent.mkdir()
    data = pneumonia_npz.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: truncated or corrupt npz file"):
        MedMnistDataset("pneumoniamnist").load(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.pop("test_labels"), r"no test_labels in the archive; a MedMNIST npz has train_images"),
        (lambda a: a.update(val_images=a["val_images"].astype(np.float32)), r"val_images has dtype float32"),
        (lambda a: a.update(train_images=a["train_images"][..., None]), r"train_images has shape \(50, 28, 28, 1\)"),
        (lambda a: a.update(test_labels=np.zeros((50, 3), np.uint8)), r"test_labels has shape \(50, 3\).*not multi"),
        (lambda a: a.update(val_labels=a["val_labels"][:40]), r"50 val_images but 40 val_labels"),
        (lambda a: a.update(test_labels=np.full((50, 1), 2, np.uint8)), r"test_labels has values 2\.\.2"),
        (lambda a: a.update(test_images=np.zeros((50, 14, 14), np.uint8)), r"the splits have images of different"),
    ],
    ids=["missing key", "float images", "4d grey images", "multi-label", "count mismatch", "label range",
         "image shapes"],
)
def test_malformed_npz(tmp_path, pneumonia_arrays, change, message):
    change(pneumonia_arrays)
    (tmp_path / "pneumoniamnist.npz").write_bytes(_npz_bytes(pneumonia_arrays))
    with pytest.raises(DataError, match=r"pneumoniamnist\.npz: " + message):
        MedMnistDataset("pneumoniamnist").load(tmp_path)


def test_npz_with_pickled_objects_is_refused(tmp_path, pneumonia_arrays):
    pneumonia_arrays["train_labels"] = np.array([{"not": "data"}] * 50, dtype=object)
    (tmp_path / "pneumoniamnist.npz").write_bytes(_npz_bytes(pneumonia_arrays))
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


def test_multi_label_chestmnist_keeps_the_samples_with_one_finding(tmp_path):
    """ChestMNIST's labels are 14 0/1 findings per image (shape (N, 14)); a sample with exactly
    one finding is labelled by it, the others (none, or several) are left out and counted."""
    rng = np.random.default_rng(3)
    findings = {"train": [[2], [], [0, 5], [13], [2]], "val": [[7], [1, 2]], "test": [[], [4], [9]]}
    arrays = {}
    for split, rows in findings.items():
        labels = np.zeros((len(rows), 14), np.uint8)
        for i, row in enumerate(rows):
            labels[i, row] = 1
        arrays[f"{split}_labels"] = labels
        arrays[f"{split}_images"] = rng.integers(0, 256, (len(rows), 28, 28), dtype=np.uint8)
    (tmp_path / "chestmnist.npz").write_bytes(_npz_bytes(arrays))
    raw = MedMnistDataset("chestmnist").load(tmp_path)
    assert raw.splits["train"][1].tolist() == [2, 13, 2] and raw.splits["val"][1].tolist() == [7]
    assert raw.splits["test"][1].tolist() == [4, 9]
    np.testing.assert_array_equal(raw.splits["train"][0], arrays["train_images"][[0, 3, 4]])
    assert raw.class_names[2] == "effusion" and len(raw.class_names) == 14
    assert "only the samples with exactly one finding are kept (train 3 of 5, val 1 of 2, test 2 of 3)" in (
        raw.notes["single_label"])
    arrays["val_labels"] = arrays["val_labels"][:, :13]
    (tmp_path / "chestmnist.npz").write_bytes(_npz_bytes(arrays))
    with pytest.raises(DataError, match=r"val_labels has shape \(2, 13\), expected \(N, 14\)"):
        MedMnistDataset("chestmnist").load(tmp_path)


# --- the MedMNIST table (from the medmnist package's INFO, 3.0.2) -------------------------

#: flag: (md5 of the 28x28 npz, number of classes, RGB, official train/val/test), from INFO
MEDMNIST_INFO = {
    "pathmnist": ("a8b06965200029087d5bd730944a56c1", 9, True, (89996, 10004, 7180)),
    "chestmnist": ("02c8a6516a18b556561a56cbdd36c4a8", 14, False, (78468, 11219, 22433)),
    "dermamnist": ("0744692d530f8e62ec473284d019b0c7", 7, True, (7007, 1003, 2005)),
    "octmnist": ("c68d92d5b585d8d81f7112f81e2d0842", 4, False, (97477, 10832, 1000)),
    "pneumoniamnist": ("28209eda62fecd6e6a2d98b1501bb15f", 2, False, (4708, 524, 624)),
    "retinamnist": ("bd4c0672f1bba3e3a89f0e4e876791e4", 5, True, (1080, 120, 400)),
    "breastmnist": ("750601b1f35ba3300ea97c75c52ff8f6", 2, False, (546, 78, 156)),
    "bloodmnist": ("7053d0359d879ad8a5505303e11de1dc", 8, True, (11959, 1712, 3421)),
    "tissuemnist": ("ebe78ee8b05294063de985d821c1c34b", 8, False, (165466, 23640, 47280)),
    "organamnist": ("68e3f8846a6bd62f0c9bf841c0d9eacc", 11, False, (34561, 6491, 17778)),
    "organcmnist": ("b9ceb9546e10131b32923c5bbeaea2b1", 11, False, (12975, 2392, 8216)),
    "organsmnist": ("9ab87b696fb54e2a387ebe992d6ed5f1", 11, False, (13932, 2452, 8827)),
}


def test_the_medmnist_table_has_every_2d_set_with_its_address_md5_and_class_names():
    assert set(MEDMNIST_2D) == set(MEDMNIST_INFO)
    for flag, (md5, n_classes, rgb, sizes) in MEDMNIST_INFO.items():
        info = MEDMNIST_2D[flag]
        assert info.url == f"https://zenodo.org/records/10519652/files/{flag}.npz?download=1"
        assert info.md5 == md5 and len(info.class_names) == n_classes == len(set(info.class_names))
        assert all(isinstance(c, str) and c for c in info.class_names)
        assert info.rgb == rgb and info.sizes == sizes
        remote = MedMnistDataset(flag).download.remote
        assert [(r.name, r.url, r.checksum) for r in remote] == [(f"{flag}.npz", info.url, ("md5", md5))]
    assert MEDMNIST_2D["breastmnist"].class_names == ("malignant", "normal, benign")
    assert MEDMNIST_2D["chestmnist"].multi_label and MEDMNIST_2D["chestmnist"].class_names[-1] == "hernia"
    assert MEDMNIST_2D["retinamnist"].task == "ordinal-regression"
    assert MEDMNIST_2D["dermamnist"].licence == "CC BY-NC 4.0" and MEDMNIST_2D["pathmnist"].licence == "CC BY 4.0"


def test_the_shared_pneumoniamnist_is_not_the_official_file(pneumonia_npz):
    """The official md5 cannot be checked on ../shared/data's copy: its train split is reduced
    (its README says so), so its md5 differs; what can be checked is that its val and test
    splits have the official sizes (and class counts: test_pneumoniamnist_official_val_and_test_splits)."""
    manifest = json.loads((SUBSET_DATA / "pneumoniamnist" / MANIFEST).read_text())
    if _md5(pneumonia_npz.read_bytes()) != manifest["files"]["pneumoniamnist.npz"]["source_md5"]:
        pytest.skip("the PneumoniaMNIST found is not ../shared/data's copy")
    npz = pneumonia_npz
    with np.load(npz) as arrays:
        sizes = tuple(len(arrays[f"{split}_labels"]) for split in ("train", "val", "test"))
    official = MEDMNIST_2D["pneumoniamnist"]
    assert sizes[1:] == official.sizes[1:] and sizes[0] < official.sizes[0]
    assert _md5(npz.read_bytes()) != official.md5


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
    assert {"digits", "mnist", "fashion-mnist", "cifar10", "breast-cancer"} | set(MEDMNIST_INFO) <= names
    for name in names:
        spec = registry.get("dataset", name)
        assert spec.description and "\n" not in spec.description
    assert registry.get("dataset", "breast-cancer").modality == "tabular"
    assert registry.get("dataset", "cifar10").modality == "image"
    for flag in MEDMNIST_INFO:
        dataset = registry.get("dataset", flag).factory()
        assert isinstance(dataset, MedMnistDataset) and dataset.info is MEDMNIST_2D[flag]
    assert "multi-label" in registry.get("dataset", "chestmnist").description


def test_corrupt_npz_is_not_a_zip(tmp_path):
    (tmp_path / "breastmnist.npz").write_bytes(b"PK\x03\x04 but then nothing")
    with pytest.raises(DataError, match=r"breastmnist\.npz: truncated or corrupt npz file"):
        MedMnistDataset("breastmnist").load(tmp_path)
