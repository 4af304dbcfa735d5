"""The first-party dataset plugin on real data: scikit-learn's digits and the MNIST IDX files."""

from __future__ import annotations

import gzip
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest

from qenc_bench.errors import DataError
from qenc_datasets import DigitsDataset, IdxDataset, mnist, read_idx
from qenc_datasets.idx import DIGIT_NAMES, IDX_FILES, MNIST_MD5, UBYTE_IMAGES, UBYTE_LABELS

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MNIST_DIR = SHARED_DATA / "mnist"

if not all((MNIST_DIR / f"{f}.gz").is_file() for f in IDX_FILES):
    raise RuntimeError(f"the real test data is missing: expected the four MNIST IDX .gz files in {MNIST_DIR}")


def _copy_gz(dest: Path, files=IDX_FILES) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for f in files:
        shutil.copyfile(MNIST_DIR / f"{f}.gz", dest / f"{f}.gz")


def _write_plain(dest: Path, file: str) -> Path:
    """Decompress one official file into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / file
    out.write_bytes(gzip.decompress((MNIST_DIR / f"{file}.gz").read_bytes()))
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


def test_mnist_loads_the_official_splits():
    raw = mnist().load(SHARED_DATA)
    x_train, y_train = raw.splits["train"]
    x_test, y_test = raw.splits["test"]
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and x_test.dtype == np.uint8
    assert y_train.dtype == np.int64 and y_test.dtype == np.int64
    assert np.bincount(y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert raw.class_names == DIGIT_NAMES and raw.max_value == 255.0
    assert raw.source == str(MNIST_DIR)
    assert x_train.max() == 255


def test_mnist_files_directly_in_the_data_dir(tmp_path):
    _copy_gz(tmp_path)
    raw = mnist().load(tmp_path)
    assert len(raw.splits["train"][0]) == 60000 and len(raw.splits["test"][0]) == 10000
    assert raw.source == str(tmp_path)


def test_mnist_files_in_the_subfolder(tmp_path):
    _copy_gz(tmp_path / "mnist")
    raw = mnist().load(tmp_path)
    assert len(raw.splits["train"][0]) == 60000
    assert raw.source == str(tmp_path / "mnist")


def test_plain_decompressed_files_give_the_same_arrays(tmp_path):
    _copy_gz(tmp_path / "mnist", files=(IDX_FILES[0], IDX_FILES[1]))
    for f in IDX_FILES[2:]:
        _write_plain(tmp_path / "mnist", f)
    raw = mnist().load(tmp_path)
    x_test, y_test = raw.splits["test"]
    assert x_test.shape == (10000, 28, 28) and y_test[:5].tolist() == [7, 2, 1, 0, 4]
    assert np.array_equal(x_test, read_idx(MNIST_DIR / "t10k-images-idx3-ubyte.gz"))


def test_read_idx_checks_the_md5_of_the_decompressed_bytes():
    md5 = MNIST_MD5["t10k-labels-idx1-ubyte"]
    labels = read_idx(MNIST_DIR / "t10k-labels-idx1-ubyte.gz", magic=UBYTE_LABELS, md5=md5)
    assert labels.shape == (10000,) and labels.dtype == np.uint8


# --- MNIST, broken files -----------------------------------------------------------------


def test_truncated_gzip_names_the_file(tmp_path):
    _copy_gz(tmp_path / "mnist")
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


def test_plain_file_truncated(tmp_path):
    path = _write_plain(tmp_path, "t10k-labels-idx1-ubyte")
    path.write_bytes(path.read_bytes()[:-10])
    expected = r"t10k-labels-idx1-ubyte: truncated.*10000 bytes of data, the file has 9990"
    with pytest.raises(DataError, match=expected):
        read_idx(path)


def test_truncated_header(tmp_path):
    path = tmp_path / "imgs-idx3-ubyte"
    path.write_bytes(_idx_bytes(UBYTE_IMAGES, (2,), b""))  # 3 dims declared, 1 given
    with pytest.raises(DataError, match=r"imgs-idx3-ubyte: truncated IDX header"):
        read_idx(path)


def test_modified_byte_fails_the_checksum(tmp_path):
    folder = tmp_path / "mnist"
    _copy_gz(folder, files=IDX_FILES[:2] + IDX_FILES[3:])
    path = _write_plain(folder, "t10k-images-idx3-ubyte")
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: checksum mismatch.*re-download"):
        mnist().load(tmp_path)


def test_no_checksum_without_known_md5s(tmp_path):
    """A dataset without known md5s (e.g. a re-release) accepts any well-formed files."""
    folder = tmp_path / "other"
    _copy_gz(folder, files=IDX_FILES[:2] + IDX_FILES[3:])
    path = _write_plain(folder, "t10k-images-idx3-ubyte")
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF
    path.write_bytes(bytes(data))
    raw = IdxDataset(name="other", folder="other", class_names=DIGIT_NAMES).load(tmp_path)
    assert raw.name == "other" and raw.splits["test"][0].shape == (10000, 28, 28)


def test_missing_file_names_it_and_the_folders(tmp_path):
    _copy_gz(tmp_path / "mnist", files=IDX_FILES[:3])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte\.gz .*not found in .*mnist and "):
        mnist().load(tmp_path)


def test_read_idx_missing_file(tmp_path):
    with pytest.raises(DataError, match=r"nothing-idx1-ubyte\.gz: no such file"):
        read_idx(tmp_path / "nothing-idx1-ubyte.gz")


def test_count_mismatch_between_images_and_labels(tmp_path):
    folder = tmp_path / "mnist"
    _copy_gz(folder, files=IDX_FILES[:3])
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx_bytes(UBYTE_LABELS, (3,), b"\x00\x01\x02"))
    other = IdxDataset(name="mnist", folder="mnist", class_names=DIGIT_NAMES)  # no md5s
    with pytest.raises(DataError, match=r"10000 images but .*t10k-labels-idx1-ubyte has 3 labels"):
        other.load(tmp_path)


def test_wrong_image_shape(tmp_path):
    folder = tmp_path / "mnist"
    _copy_gz(folder, files=IDX_FILES[:2])
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
