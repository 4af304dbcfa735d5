"""The first-party dataset plugin on real data: scikit-learn's digits and the MNIST IDX files.

The MNIST files come from the ``shared_data`` fixture: the full official files when they are
found (``$QENC_BENCH_TEST_DATA``, ``../shared/data``, the download cache), else the real subset
shipped in ``tests/data`` with its ``SUBSET.json``. Tests of the official splits need the full
files; the subset's own tests read ``tests/data`` directly.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from qenc_bench.errors import DataError
from qenc_datasets import DigitsDataset, IdxDataset, mnist, read_idx
from qenc_datasets.idx import DIGIT_NAMES, IDX_FILES, MNIST_MD5, UBYTE_IMAGES, UBYTE_LABELS
from qenc_datasets.subset import MANIFEST

SUBSET_MNIST = Path(__file__).resolve().parent / "data" / "mnist"


@pytest.fixture(scope="module")
def mnist_dir(shared_data) -> Path:
    return shared_data / "mnist"


@pytest.fixture(scope="module")
def accepted_md5(mnist_dir) -> dict[str, str]:
    """The md5 each decompressed file of ``mnist_dir`` must have: official, or its manifest's."""
    if (mnist_dir / MANIFEST).is_file():
        return {f: entry["md5"] for f, entry in json.loads((mnist_dir / MANIFEST).read_text())["files"].items()}
    return dict(MNIST_MD5)


@pytest.fixture(scope="module")
def sizes(mnist_dir) -> dict[str, int]:
    """The number of train and test images in ``mnist_dir``, read from the IDX headers."""
    def count(file: str) -> int:
        return int.from_bytes(gzip.decompress((mnist_dir / f"{file}.gz").read_bytes())[4:8], "big")

    return {"train": count("train-labels-idx1-ubyte"), "test": count("t10k-labels-idx1-ubyte")}


@pytest.fixture
def official_mnist_dir(mnist_dir) -> Path:
    if (mnist_dir / MANIFEST).is_file():
        pytest.skip("needs the full official MNIST files (QENC_BENCH_TEST_DATA, ../shared/data or the download "
                    "cache); only the subset in tests/data was found")
    return mnist_dir


def _copy_gz(source: Path, dest: Path, files=IDX_FILES, manifest: bool = True) -> None:
    """Copy the ``.gz`` files (and the subset manifest, if any and ``manifest``)."""
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(source / f"{f}.gz", dest / f"{f}.gz")
    if manifest and (source / MANIFEST).is_file():
        shutil.copyfile(source / MANIFEST, dest / MANIFEST)


def _write_plain(source: Path, dest: Path, file: str) -> Path:
    """Decompress one file into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / file
    out.write_bytes(gzip.decompress((source / f"{file}.gz").read_bytes()))
    return out


def _idx_bytes(magic: int, dims: tuple[int, ...], payload: bytes) -> bytes:
    return struct.pack(f">I{len(dims)}I", magic, *dims) + payload


# --- digits ------------------------------------------------------------------------------


def test_digits_loads_1797_images_of_10_classes():
    raw = DigitsDataset().load(None)
    x, y = raw.splits["train"]
    assert set(raw.splits) == {"train"}
    assert x.shape == (1797, 8, 8) and y.shape == (1797,)
    assert y.dtype == np.int64
    assert raw.class_names == DIGIT_NAMES
    assert sorted(np.unique(y)) == list(range(10))
    assert raw.max_value == 16.0 and x.min() == 0 and x.max() == 16
    assert raw.modality == "image"


# --- MNIST, real files -------------------------------------------------------------------


def test_mnist_loads_the_official_splits(official_mnist_dir):
    raw = mnist().load(official_mnist_dir.parent)
    x_train, y_train = raw.splits["train"]
    x_test, y_test = raw.splits["test"]
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and x_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert raw.class_names == DIGIT_NAMES and raw.max_value == 255.0
    assert raw.source == str(official_mnist_dir) and raw.notes == {}
    assert x_train.max() == 255


def test_the_shipped_subset_loads_with_its_manifest_and_says_it_is_a_subset():
    raw = mnist().load(SUBSET_MNIST.parent)
    manifest = json.loads((SUBSET_MNIST / MANIFEST).read_text())
    x_train, y_train = raw.splits["train"]
    x_test, y_test = raw.splits["test"]
    assert x_train.shape == (500, 28, 28) and x_test.shape == (250, 28, 28)
    assert np.bincount(y_train).tolist() == [50] * 10 == manifest["splits"]["train"]["class_counts"]
    assert np.bincount(y_test).tolist() == [25] * 10 == manifest["splits"]["test"]["class_counts"]
    assert len(manifest["splits"]["train"]["indices"]) == 500 and manifest["splits"]["train"]["of"] == 60000
    for f in IDX_FILES:  # a subset cannot have the official checksums: the manifest has its own
        assert manifest["files"][f]["md5"] != MNIST_MD5[f] == manifest["files"][f]["source_md5"]
    note = raw.notes["subset"]
    assert str(SUBSET_MNIST / MANIFEST) in note and "train 500 of 60000" in note and "test 250 of 10000" in note
    assert "not the official split" in note
    assert raw.source == str(SUBSET_MNIST) and x_train.max() == 255


def test_the_subset_is_the_official_images_at_the_manifests_indices(official_mnist_dir):
    """Provenance: each subset image and label is the official one at the index the manifest gives."""
    manifest = json.loads((SUBSET_MNIST / MANIFEST).read_text())
    full = mnist().load(official_mnist_dir.parent)
    subset = mnist().load(SUBSET_MNIST.parent)
    for split in ("train", "test"):
        indices = manifest["splits"][split]["indices"]
        assert indices == sorted(set(indices))
        np.testing.assert_array_equal(subset.splits[split][0], full.splits[split][0][indices])
        np.testing.assert_array_equal(subset.splits[split][1], full.splits[split][1][indices])


def test_subset_files_without_their_manifest_fail_the_official_checksum(tmp_path):
    _copy_gz(SUBSET_MNIST, tmp_path / "mnist", manifest=False)
    expected = rf"train-images-idx3-ubyte\.gz: checksum mismatch .* expected {MNIST_MD5['train-images-idx3-ubyte']}\)"
    with pytest.raises(DataError, match=expected):
        mnist().load(tmp_path)


def test_a_file_that_matches_neither_the_official_md5_nor_the_manifest_is_refused(tmp_path):
    folder = tmp_path / "mnist"
    _copy_gz(SUBSET_MNIST, folder)
    manifest = json.loads((folder / MANIFEST).read_text())
    manifest["files"]["t10k-labels-idx1-ubyte"]["md5"] = "0" * 32
    (folder / MANIFEST).write_text(json.dumps(manifest))
    official = MNIST_MD5["t10k-labels-idx1-ubyte"]
    with pytest.raises(DataError, match=rf"t10k-labels-idx1-ubyte\.gz: checksum mismatch .* expected {official} or 0{{32}}"):
        mnist().load(tmp_path)


def test_a_malformed_manifest_names_itself(tmp_path):
    folder = tmp_path / "mnist"
    _copy_gz(SUBSET_MNIST, folder)
    (folder / MANIFEST).write_text('{"files": {"train-images-idx3-ubyte": {}}}')
    with pytest.raises(DataError, match=r"mnist/SUBSET\.json: not a valid subset manifest \(KeyError"):
        mnist().load(tmp_path)


def test_mnist_files_directly_in_the_data_dir(tmp_path, mnist_dir, sizes):
    _copy_gz(mnist_dir, tmp_path)
    raw = mnist().load(tmp_path)
    assert len(raw.splits["train"][0]) == sizes["train"] and len(raw.splits["test"][0]) == sizes["test"]
    assert raw.source == str(tmp_path)


def test_mnist_files_in_the_subfolder(tmp_path, mnist_dir, sizes):
    _copy_gz(mnist_dir, tmp_path / "mnist")
    raw = mnist().load(tmp_path)
    assert len(raw.splits["train"][0]) == sizes["train"]
    assert raw.source == str(tmp_path / "mnist")


def test_plain_decompressed_files_give_the_same_arrays(tmp_path, mnist_dir, sizes):
    _copy_gz(mnist_dir, tmp_path / "mnist", files=(IDX_FILES[0], IDX_FILES[1]))
    for f in IDX_FILES[2:]:
        _write_plain(mnist_dir, tmp_path / "mnist", f)
    raw = mnist().load(tmp_path)
    x_test, y_test = raw.splits["test"]
    assert x_test.shape == (sizes["test"], 28, 28) and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.array_equal(x_test, read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz"))


def test_read_idx_checks_the_md5_of_the_decompressed_bytes(mnist_dir, accepted_md5, sizes):
    path = mnist_dir / "t10k-labels-idx1-ubyte.gz"
    labels = read_idx(path, magic=UBYTE_LABELS, md5=accepted_md5["t10k-labels-idx1-ubyte"])
    assert labels.shape == (sizes["test"],) and labels.dtype == np.uint8
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz: checksum mismatch .*expected 0{32}\)"):
        read_idx(path, magic=UBYTE_LABELS, md5="0" * 32)


# --- MNIST, broken files -----------------------------------------------------------------


def test_truncated_gzip_names_the_file(tmp_path, mnist_dir):
    _copy_gz(mnist_dir, tmp_path / "mnist")
    path = tmp_path / "mnist" / "t10k-images-idx3-ubyte.gz"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz.*truncated or corrupt gzip"):
        mnist().load(tmp_path)


def test_not_gzip_at_all(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(b"this is not gzip data")
    with pytest.raises(DataError, match=r"x-idx1-ubyte\.gz.*gzip"):
        read_idx(path)


def test_wrong_magic(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(_idx_bytes(0x00000D01, (3,), b"\x00\x01\x02"))  # float data, not ubyte
    with pytest.raises(DataError, match=r"labels-idx1-ubyte.*magic 0x00000d01, expected"):
        read_idx(path)


def test_labels_file_where_images_are_expected(tmp_path):
    path = tmp_path / "labels-idx1-ubyte"
    path.write_bytes(_idx_bytes(UBYTE_LABELS, (3,), b"\x00\x01\x02"))
    with pytest.raises(DataError, match=r"magic 0x00000801, expected 0x00000803"):
        read_idx(path, magic=UBYTE_IMAGES)


def test_small_valid_file_reads(tmp_path):
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(_idx_bytes(UBYTE_IMAGES, (2, 2, 3), bytes(range(12))))
    x = read_idx(path)
    assert x.shape == (2, 2, 3) and x.dtype == np.uint8 and x[1, 1, 2] == 11
    assert x.flags.writeable


def test_plain_file_with_trailing_bytes(tmp_path):
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(_idx_bytes(UBYTE_IMAGES, (2, 2, 2), bytes(8) + b"extra"))
    with pytest.raises(DataError, match=r"imgs-idx3-ubyte: 5 trailing bytes"):
        read_idx(path)


def test_plain_file_truncated(tmp_path, mnist_dir, sizes):
    path = _write_plain(mnist_dir, tmp_path, "t10k-labels-idx1-ubyte")
    path.write_bytes(path.read_bytes()[:-10])
    n = sizes["test"]
    expected = rf"t10k-labels-idx1-ubyte: truncated.*{n} bytes of data, the file has {n - 10}"
    with pytest.raises(DataError, match=expected):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(_idx_bytes(UBYTE_IMAGES, (2,), b""))  # 3 dims declared, 1 given
    with pytest.raises(DataError, match=r"imgs-idx3-ubyte: truncated IDX header"):
        read_idx(path)


def test_modified_byte_fails_the_checksum(tmp_path, mnist_dir):
    folder = tmp_path / "mnist"
    _copy_gz(mnist_dir, folder, files=IDX_FILES[:2] + IDX_FILES[3:])
    path = _write_plain(mnist_dir, folder, "t10k-images-idx3-ubyte")
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: checksum mismatch.*re-download"):
        mnist().load(tmp_path)


def test_no_checksum_without_known_md5s(tmp_path, mnist_dir, sizes):
    """A dataset without known md5s (e.g. a re-release) accepts any well-formed files."""
    folder = tmp_path / "other"
    _copy_gz(mnist_dir, folder, files=IDX_FILES[:2] + IDX_FILES[3:], manifest=False)
    path = _write_plain(mnist_dir, folder, "t10k-images-idx3-ubyte")
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    raw = IdxDataset(name="other", folder="other", class_names=DIGIT_NAMES).load(tmp_path)
    assert raw.name == "other" and raw.splits["test"][0].shape == (sizes["test"], 28, 28) and raw.notes == {}


def test_missing_file_names_it_and_the_folders(tmp_path, mnist_dir):
    _copy_gz(mnist_dir, tmp_path / "mnist", files=IDX_FILES[:3])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz .*not found in .*mnist and "):
        mnist().load(tmp_path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nothing-idx1-ubyte\.gz: no such file"):
        read_idx(tmp_path / "nothing-idx1-ubyte.gz")


def test_count_mismatch_between_images_and_labels(tmp_path, mnist_dir, sizes):
    folder = tmp_path / "mnist"
    _copy_gz(mnist_dir, folder, files=IDX_FILES[:3], manifest=False)
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(UBYTE_LABELS, (3,), b"\x00\x01\x02"))
    other = IdxDataset(name="mnist", folder="mnist", class_names=DIGIT_NAMES)  # no md5s
    with pytest.raises(DataError, match=rf"{sizes['test']} images but .*t10k-labels-idx1-ubyte has 3 labels"):
        other.load(tmp_path)


def test_wrong_image_shape(tmp_path, mnist_dir):
    folder = tmp_path / "mnist"
    _copy_gz(mnist_dir, folder, files=IDX_FILES[:2], manifest=False)
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(UBYTE_IMAGES, (2, 4, 4), bytes(32)))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(UBYTE_LABELS, (2,), b"\x00\x01"))
    other = IdxDataset(name="mnist", folder="mnist", class_names=DIGIT_NAMES)
    expected = r"t10k-images-idx3-ubyte: images are 4x4, dataset 'mnist' expects 28x28"
    with pytest.raises(DataError, match=expected):
        other.load(tmp_path)


def test_no_data_dir_says_how_to_give_one():
    with pytest.raises(DataError, match=r"pass --data-dir DIR or set QENC_BENCH_DATA.*DIR/mnist/"):
        mnist().load(None)


def test_data_dir_that_does_not_exist(tmp_path):
    with pytest.raises(DataError, match=r"does-not-exist does not exist"):
        mnist().load(tmp_path / "does-not-exist")


# --- where the tests find their data ----------------------------------------------------------

_FIND = (
    "import importlib.util, json, sys; "
    "spec = importlib.util.spec_from_file_location('conftest_under_test', sys.argv[1]); "
    "module = sys.modules[spec.name] = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
    "print(json.dumps({name: [str(s.root), s.origin] for name, s in module.find_test_data().items()}))"
)
CONFTEST = Path(__file__).resolve().parent / "conftest.py"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _find_test_data(env: dict[str, str]) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("QENC_BENCH_TEST_DATA", "XDG_CACHE_HOME")}
    return subprocess.run([sys.executable, "-c", _FIND, str(CONFTEST)], env={**environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_the_test_data_comes_from_the_variable_then_shared_then_the_cache_then_the_subset(tmp_path):
    shutil.copytree(SUBSET_MNIST, tmp_path / "given" / "mnist")  # only MNIST given
    shutil.copytree(SUBSET_MNIST.parent / "pneumoniamnist", tmp_path / "cache" / "pneumoniamnist")
    done = _find_test_data({"QENC_BENCH_TEST_DATA": str(tmp_path / "given"), "QENC_BENCH_CACHE": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["mnist"] == [str(tmp_path / "given"), "$QENC_BENCH_TEST_DATA"]
    shared = (SHARED / "pneumoniamnist" / "pneumoniamnist.npz").is_file()
    assert found["pneumoniamnist"] == ([str(SHARED), "../shared/data"] if shared
                                       else [str(tmp_path / "cache"), "the download cache"])
    if (SHARED / "cifar-10-batches-bin" / "test_batch.bin").is_file():
        assert found["cifar-10-batches-bin"] == [str(SHARED), "../shared/data"]
    else:  # nowhere: not in the subset
        assert "cifar-10-batches-bin" not in found
    done = _find_test_data({"QENC_BENCH_CACHE": str(tmp_path / "empty")})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [str(SHARED), "../shared/data"] if (SHARED / "mnist").is_dir() else [
        str(SUBSET_MNIST.parent), "the subset in tests/data"]
    assert found["mnist"] == expected


def test_a_test_data_variable_that_is_not_a_folder_is_an_error(tmp_path):
    done = _find_test_data({"QENC_BENCH_TEST_DATA": str(tmp_path / "nowhere")})
    assert done.returncode != 0 and f"QENC_BENCH_TEST_DATA={tmp_path / 'nowhere'} is not a folder" in done.stderr
