"""Data preparation: area-averaging resize, and prepare() on real MNIST and digits and on
small hand-made datasets (RGB, tabular, too few samples)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from qenc_bench import RawDataset
from qenc_bench.errors import ConfigError, DataError
from qenc_bench.prepare import LUMINANCE, area_resize, area_resize_matrix, prepare
from qenc_datasets import mnist
from qenc_datasets.digits import DigitsDataset


@pytest.fixture(scope="module")
def mnist_raw(shared_data) -> RawDataset:
    return mnist().load(shared_data)


@pytest.fixture(scope="module")
def digits_raw() -> RawDataset:
    return DigitsDataset().load(None)


# --- area resize --------------------------------------------------------------------------


@pytest.mark.parametrize(("size_in", "size_out"), [(28, 3), (28, 7), (8, 3), (32, 5), (5, 5), (7, 1), (28, 27)])
def test_area_resize_matrix_is_an_average(size_in, size_out):
    m = area_resize_matrix(size_in, size_out)
    assert m.shape == (size_out, size_in)
    assert np.all(m >= 0)
    np.testing.assert_allclose(m.sum(axis=1), 1.0, rtol=0, atol=1e-14)
    # every output cell covers the same area, so every input pixel has the same total weight
    np.testing.assert_allclose(m.sum(axis=0), size_out / size_in, rtol=0, atol=1e-14)
    # each output cell covers a contiguous run of pixels
    for row in m:
        nz = np.flatnonzero(row > 0)
        assert np.all(np.diff(nz) == 1)


def test_area_resize_matrix_same_size_is_identity():
    np.testing.assert_array_equal(area_resize_matrix(6, 6), np.eye(6))


def test_area_resize_of_a_constant_image_is_constant():
    images = np.full((2, 28, 28), 0.37)
    for grid in (1, 3, 4, 7, 28):
        out = area_resize(images, grid)
        assert out.shape == (2, grid, grid)
        np.testing.assert_allclose(out, 0.37, rtol=0, atol=1e-14)
    rect = np.full((1, 8, 12), 2.0)  # rows and columns resized independently
    np.testing.assert_allclose(area_resize(rect, 3), 2.0, atol=1e-14)


def test_area_resize_28_to_7_is_the_block_mean_on_real_mnist(mnist_raw):
    image = mnist_raw.splits["train"][0][0].astype(np.float64) / 255.0
    assert image.std() > 0.1  # a real digit, not a blank
    out = area_resize(image[None], 7)[0]
    blocks = image.reshape(7, 4, 7, 4).mean(axis=(1, 3))
    np.testing.assert_allclose(out, blocks, rtol=0, atol=1e-14)
    assert out.mean() == pytest.approx(image.mean(), abs=1e-12)


def _overlap(cell: int, pixel: int, size_in: int, size_out: int) -> Fraction:
    """Length of [pixel, pixel + 1) inside output cell ``cell``'s span, exactly."""
    lo, hi = Fraction(cell * size_in, size_out), Fraction((cell + 1) * size_in, size_out)
    return max(Fraction(0), min(hi, Fraction(pixel + 1)) - max(lo, Fraction(pixel)))


def test_area_resize_28_to_3_by_hand_on_real_mnist(mnist_raw):
    images = mnist_raw.splits["test"][0][:3].astype(np.float64) / 255.0
    out = area_resize(images, 3)
    for n, image in enumerate(images):
        # cell (0, 0) spans [0, 28/3): pixels 0..8 whole and a third of pixel 9, each way
        w = np.array([1.0] * 9 + [1 / 3])
        corner = (w[:, None] * w[None, :] * image[:10, :10]).sum() / (28 / 3) ** 2
        assert out[n, 0, 0] == pytest.approx(corner, abs=1e-12)
        # every cell from exact fractional overlaps
        for i in range(3):
            for j in range(3):
                total = 0.0
                for h in range(28):
                    a = _overlap(i, h, 28, 3)
                    if a:
                        for v in range(28):
                            b = _overlap(j, v, 28, 3)
                            if b:
                                total += float(a * b) * image[h, v]
                assert out[n, i, j] == pytest.approx(total / (28 / 3) ** 2, abs=1e-12)
        # equal-area cells: the mean intensity is kept exactly (up to rounding)
        assert out[n].mean() == pytest.approx(image.mean(), abs=1e-12)


def test_grid_larger_than_the_image_is_refused(digits_raw):
    with pytest.raises(ConfigError, match="larger"):
        area_resize_matrix(8, 9)
    with pytest.raises(ConfigError, match="grid 9"):
        prepare(digits_raw, (0, 1), grid=9)
    with pytest.raises(ConfigError):
        prepare(digits_raw, (0, 1), grid=0)
    prepare(digits_raw, (0, 1), grid=8, train_size=40, test_size=20)  # the image's own size is fine


# --- prepare() on real MNIST ----------------------------------------------------------------


def _index(images: np.ndarray) -> dict[bytes, int]:
    flat = images.reshape(len(images), -1)
    return {row.tobytes(): i for i, row in enumerate(flat)}


def _locate(x: np.ndarray, index: dict[bytes, int], max_value: float = 255.0) -> np.ndarray:
    """Where each prepared (unresized) sample came from in a raw split; -1 if not there."""
    raw = np.rint(x * max_value)
    np.testing.assert_allclose(raw, x * max_value, rtol=0, atol=1e-9)  # scaled by max_value only
    return np.array([index.get(r.astype(np.uint8).tobytes(), -1) for r in raw])


def test_prepare_mnist_splits_come_from_the_right_places(mnist_raw):
    classes = (7, 3)
    data = prepare(mnist_raw, classes, grid=None, train_size=80, test_size=40, seed=0)  # the subset: 50 + 25 a class
    x_pool, y_pool = mnist_raw.splits["train"]
    x_t10k, y_t10k = mnist_raw.splits["test"]
    assert len({r.tobytes() for r in x_pool.reshape(len(x_pool), -1)}) == len(x_pool)  # no duplicates
    pool, t10k = _index(x_pool), _index(x_t10k)

    assert data.sizes() == {"train": 80, "validation": 20, "test": 40}
    assert data.train.class_counts() == (40, 40)
    assert data.validation.class_counts() == (10, 10)
    assert data.test.class_counts() == (20, 20)
    assert data.classes == (7, 3) and data.class_names == ("7", "3")
    assert data.grid is None and data.n_features == 784

    test_idx = _locate(data.test.x, t10k)
    assert np.all(test_idx >= 0)  # test samples come from the publisher's t10k split
    assert len(set(test_idx)) == len(test_idx)
    train_idx, val_idx = _locate(data.train.x, pool), _locate(data.validation.x, pool)
    assert np.all(train_idx >= 0) and np.all(val_idx >= 0)
    assert len(set(train_idx)) == 80 and len(set(val_idx)) == 20
    assert not set(train_idx) & set(val_idx)  # disjoint
    # the first class is label 0
    for split, idx, y_raw in ((data.train, train_idx, y_pool), (data.validation, val_idx, y_pool),
                              (data.test, test_idx, y_t10k)):
        np.testing.assert_array_equal(y_raw[idx], np.where(split.y == 0, 7, 3))
        assert set(np.unique(split.y)) == {0, 1} and split.y.dtype == np.int64
        assert split.x.min() >= 0.0 and split.x.max() <= 1.0
    # the classes are shuffled together, not one block after the other
    assert 0 < np.sum(np.diff(data.train.y) != 0) and data.train.y[:40].sum() not in (0, 40)


def test_prepare_mnist_grid_is_the_area_average_of_the_same_samples(mnist_raw):
    full = prepare(mnist_raw, (0, 1), grid=None, train_size=40, test_size=20, seed=3)
    small = prepare(mnist_raw, (0, 1), grid=3, train_size=40, test_size=20, seed=3)
    assert small.n_features == 9 and small.grid == 3
    for a, b in ((full.train, small.train), (full.validation, small.validation), (full.test, small.test)):
        np.testing.assert_array_equal(a.y, b.y)
        np.testing.assert_allclose(b.x, area_resize(a.x.reshape(-1, 28, 28), 3).reshape(-1, 9), rtol=0, atol=1e-14)


def test_prepare_is_deterministic_per_seed(mnist_raw):
    a = prepare(mnist_raw, (0, 1), grid=3, train_size=60, test_size=20, seed=5)
    b = prepare(mnist_raw, (0, 1), grid=3, train_size=60, test_size=20, seed=5)
    c = prepare(mnist_raw, (0, 1), grid=3, train_size=60, test_size=20, seed=6)
    for name in ("train", "validation", "test"):
        sa, sb, sc = getattr(a, name), getattr(b, name), getattr(c, name)
        np.testing.assert_array_equal(sa.x, sb.x)
        np.testing.assert_array_equal(sa.y, sb.y)
        assert sa.x.shape == sc.x.shape and not np.array_equal(sa.x, sc.x)


def test_prepare_refuses_classes_not_in_the_dataset(mnist_raw, digits_raw):
    with pytest.raises(ConfigError, match="class 10 is not in dataset 'mnist'"):
        prepare(mnist_raw, (0, 10))
    with pytest.raises(ConfigError, match="class -1"):
        prepare(digits_raw, (-1, 2))
    with pytest.raises(ConfigError, match="distinct classes"):
        prepare(digits_raw, (4, 4))
    with pytest.raises(ConfigError, match="at least 4"):
        prepare(digits_raw, (0, 1), train_size=3)


# --- prepare() on digits (one pool) ---------------------------------------------------------


def test_prepare_digits_carves_test_and_validation_from_the_pool(digits_raw):
    data = prepare(digits_raw, (3, 8), grid=3, train_size=120, test_size=60, seed=0)
    assert data.test.class_counts() == (30, 30)
    assert data.validation.class_counts() == (15, 15)
    assert data.train.class_counts() == (60, 60)
    assert data.n_features == 9
    counts = {c: int(np.sum(digits_raw.splits["train"][1] == c)) for c in (3, 8)}
    assert sum(map(len, (data.train, data.validation, data.test))) <= 2 * min(counts.values())


def test_prepare_digits_train_stays_balanced_when_the_pool_is_short(digits_raw):
    """Asking for more training samples than one class has left: both classes get the same
    number (DESIGN: balanced subsampling)."""
    data = prepare(digits_raw, (0, 1), grid=3, train_size=400, test_size=200, seed=0)
    n0, n1 = data.train.class_counts()
    assert n0 == n1
    assert n0 >= 90  # 178 zeros minus test and validation


# --- prepare() on hand-made datasets ----------------------------------------------------------


def _tiny(train_labels, test_labels, shape=(4, 4), seed=0) -> RawDataset:
    rng = np.random.default_rng(seed)
    tr = rng.integers(0, 256, size=(len(train_labels), *shape), dtype=np.uint8)
    te = rng.integers(0, 256, size=(len(test_labels), *shape), dtype=np.uint8)
    return RawDataset(name="tiny", splits={"train": (tr, np.array(train_labels)), "test": (te, np.array(test_labels))},
                      class_names=("a", "b", "c"))


def test_fewer_than_two_samples_of_a_class_is_a_data_error():
    raw = _tiny([0] * 10 + [1] * 1 + [2] * 10, [0] * 5 + [1] * 5)
    with pytest.raises(DataError, match="class 1"):
        prepare(raw, (0, 1), grid=2, train_size=8, test_size=8)
    raw = _tiny([0] * 10 + [1] * 10, [0] * 5 + [1] * 1)  # short in the test split
    with pytest.raises(DataError, match="test split"):
        prepare(raw, (0, 1), grid=2, train_size=8, test_size=8)
    ok = prepare(_tiny([0] * 10 + [1] * 10, [0] * 5 + [1] * 5), (0, 1), grid=2, train_size=8, test_size=8)
    assert ok.train.class_counts() == (4, 4)


def test_rgb_images_are_grayscaled_by_luminance():
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(24, 4, 4, 3), dtype=np.uint8)
    labels = np.array([0, 1] * 12)
    raw = RawDataset(name="rgb", splits={"train": (images[:20], labels[:20]), "test": (images[20:], labels[20:])},
                     class_names=("cat", "dog"))
    data = prepare(raw, (1, 0), grid=None, train_size=4, test_size=4, validation_size=4, seed=0)
    gray = (0.299 * images[..., 0] + 0.587 * images[..., 1] + 0.114 * images[..., 2]) / 255.0
    np.testing.assert_allclose(LUMINANCE, [0.299, 0.587, 0.114])
    assert data.n_features == 16
    for split in (data.train, data.validation, data.test):
        for x, y in zip(split.x, split.y, strict=True):
            match = [k for k in range(24) if np.allclose(gray[k].ravel(), x, atol=1e-12)]
            assert len(match) == 1
            assert labels[match[0]] == (1 if y == 0 else 0)  # classes (1, 0): raw class 1 is label 0
    resized = prepare(raw, (1, 0), grid=2, train_size=4, test_size=4, validation_size=4, seed=0)
    np.testing.assert_allclose(resized.test.x, area_resize(data.test.x.reshape(-1, 4, 4), 2).reshape(-1, 4), atol=1e-14)
    # the data tell luminance from a plain channel mean
    assert not np.allclose(gray, images.mean(axis=-1) / 255.0, atol=1e-3)


def _tabular() -> RawDataset:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3)) * np.array([1.0, 10.0, 100.0]) + np.array([0.0, 5.0, -50.0])
    y = np.array([0, 1] * 20)
    return RawDataset(name="tab", splits={"train": (x, y)}, class_names=("no", "yes"), max_value=None,
                      modality="tabular")


def test_tabular_data_with_a_grid_is_refused():
    with pytest.raises(ConfigError, match="tabular"):
        prepare(_tabular(), (0, 1), grid=3)


def test_tabular_data_is_min_max_scaled_by_the_training_split():
    data = prepare(_tabular(), (0, 1), grid=None, train_size=16, test_size=8, seed=0)
    assert data.grid is None and data.n_features == 3
    np.testing.assert_allclose(data.train.x.min(axis=0), 0.0, atol=1e-15)
    np.testing.assert_allclose(data.train.x.max(axis=0), 1.0, atol=1e-15)
    for split in (data.validation, data.test):
        assert split.x.min() >= 0.0 and split.x.max() <= 1.0


def test_prepare_three_classes_labels_them_in_order_and_balances(shared_data):
    from qenc_datasets.idx import mnist

    raw = mnist().load(shared_data)
    data = prepare(raw, (7, 2, 5), grid=3, train_size=90, test_size=60, seed=1)
    assert data.classes == (7, 2, 5)
    for split in (data.train, data.validation, data.test):
        counts = np.bincount(split.y, minlength=3)
        assert counts.min() == counts.max() >= 2
    assert len(data.train) == 90 and len(data.test) == 60
