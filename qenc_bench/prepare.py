"""Preparation of a raw dataset into the train / validation / test splits of one run.

The steps, in order (DESIGN.md): pick the class pair (relabelled 0 and 1), grayscale RGB by
luminance, scale to [0, 1], resize images to an ``s x s`` grid by area averaging, take a
balanced, seeded subsample, and split train / validation / test. Test samples come from
the publisher's test split when there is one; validation from its validation split when
there is one, else from the training pool (disjoint from the training samples).

Two views of every sample come out, from the same seeded split: the ``grid`` (``Split.x``,
what angle encoding, ATP and most encoders read) and the full-resolution ``image``
(``Split.image``, flattened, also in [0, 1]; PCA reads it, as the ATP paper's PCA reduces the
whole image). The grid is a linear map of the image (``PreparedData.grid_map``), so an attack
perturbs the image for every encoder and its gradient flows back through the map. Each
sample keeps its ``index`` in the publisher's split, so the models of a seed can be compared
sample by sample, even from result files merged across machines.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .datasets import RawDataset
from .errors import ConfigError, DataError

LUMINANCE = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as PIL's convert("L")


VIEWS = ("grid", "image")


@dataclass(frozen=True)
class Split:
    """Samples ``x`` (N, d) in [0, 1] and labels ``y`` (N,) in {0, ..., k-1} (k = 2: {0, 1}).

    :param index: each sample's position in the publisher's split it came from (for pairing).
    :param image: the same samples at full resolution, flattened (N, D), in [0, 1]; ``None``
        when the grid is the full resolution (or for a split built by hand).
    """

    x: np.ndarray
    y: np.ndarray
    index: np.ndarray | None = None
    image: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def class_counts(self) -> tuple[int, int]:
        return int(np.sum(self.y == 0)), int(np.sum(self.y == 1))

    def view(self, name: str) -> Split:
        """The split as an encoder of view ``name`` reads it: ``x`` is the grid or the image."""
        if name == "grid" or self.image is None:
            return self
        if name == "image":
            return Split(self.image, self.y, self.index, self.image)
        raise ConfigError(f"unknown view {name!r}; encoders read one of {', '.join(VIEWS)}")

    def images(self) -> np.ndarray:
        """The full-resolution samples (the grid itself when there is no other resolution)."""
        return self.x if self.image is None else self.image


@dataclass(frozen=True)
class PreparedData:
    """One seed's splits.

    :param grid_map: (d, D) with ``x = image @ grid_map.T``; ``None`` when ``x`` is the image.
    :param test_split: the publisher's split the test samples' ``index`` refers to.
    :param requested_sizes: the sizes asked for; :meth:`sizes` gives those used, and ``capped``
        says which were smaller than asked (a pool ran short).
    """

    train: Split
    validation: Split
    test: Split
    classes: tuple[int, ...]
    class_names: tuple[str, ...]
    grid: int | None
    n_features: int
    grid_map: np.ndarray | None = None
    test_split: str = "test"
    requested_sizes: dict[str, int] = field(default_factory=dict)

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "validation": len(self.validation), "test": len(self.test)}

    def view(self, name: str) -> PreparedData:
        """The splits as an encoder of view ``name`` reads them."""
        if name == "grid":
            return self
        views = [s.view(name) for s in (self.train, self.validation, self.test)]
        return replace(self, train=views[0], validation=views[1], test=views[2], n_features=views[0].x.shape[1])

    def to_view(self, images: np.ndarray, name: str) -> np.ndarray:
        """Full-resolution samples (N, D) as view ``name`` (the grid: through ``grid_map``)."""
        if name == "image" or self.grid_map is None:
            return images
        return images @ self.grid_map.T

    def from_view(self, gradient: np.ndarray, name: str) -> np.ndarray:
        """A gradient w.r.t. view ``name`` pulled back to the full-resolution samples."""
        if name == "image" or self.grid_map is None:
            return gradient
        return gradient @ self.grid_map

    @property
    def capped(self) -> dict[str, tuple[int, int]]:
        """Splits smaller than asked: name -> (requested, used)."""
        used = self.sizes()
        return {k: (v, used[k]) for k, v in self.requested_sizes.items() if k in used and used[k] < v}


def area_resize_matrix(size_in: int, size_out: int) -> np.ndarray:
    """The (size_out, size_in) matrix of area averaging: each output cell is the mean of the
    input pixels it covers, fractional pixels weighted by the covered fraction."""
    if size_out > size_in:
        raise ConfigError(f"grid {size_out} is larger than the image ({size_in} pixels a side)")
    edges = np.arange(size_out + 1) * (size_in / size_out)
    lo, hi = edges[:-1, None], edges[1:, None]
    pix = np.arange(size_in)[None, :]
    overlap = np.clip(np.minimum(hi, pix + 1) - np.maximum(lo, pix), 0.0, None)
    return overlap / overlap.sum(axis=1, keepdims=True)


def area_resize(images: np.ndarray, grid: int) -> np.ndarray:
    """Resize a batch of (N, H, W) images to (N, grid, grid) by area averaging."""
    rows = area_resize_matrix(images.shape[1], grid)
    cols = area_resize_matrix(images.shape[2], grid)
    return np.einsum("ih,nhw,jw->nij", rows, images, cols, optimize=True)


def grid_matrix(height: int, width: int, grid: int) -> np.ndarray:
    """(grid^2, height * width): area averaging of a flattened image to a flattened grid."""
    return np.kron(area_resize_matrix(height, grid), area_resize_matrix(width, grid))


def to_images(samples: np.ndarray, raw: RawDataset, scale: tuple | None = None) -> np.ndarray:
    """Scale to [0, 1] (grayscale images; min-max tabular data) and flatten to (N, D)."""
    x = samples.astype(np.float64)
    if raw.modality == "image":
        assert raw.max_value  # RawDataset refuses images without it
        if x.ndim == 4:
            x = x @ LUMINANCE
        x = x / raw.max_value
        return x.reshape(len(x), -1)
    assert scale is not None
    lo, hi = scale
    return np.clip((x - lo) / np.where(hi > lo, hi - lo, 1.0), 0.0, 1.0)


def to_features(samples: np.ndarray, raw: RawDataset, grid: int | None, scale: tuple | None = None) -> np.ndarray:
    """Scale to [0, 1] (grayscale and resize images) and flatten to (N, d)."""
    images = to_images(samples, raw, scale)
    if raw.modality == "image" and grid is not None:
        return images @ grid_matrix(samples.shape[1], samples.shape[2], grid).T
    return images


def _pick_balanced(labels: np.ndarray, classes: tuple[int, ...], per_class: int, rng, exclude=None):
    """Indices of up to ``per_class`` samples of each class, seeded, in shuffled order."""
    pools = []
    for c in classes:
        idx = np.flatnonzero(labels == c)
        if exclude is not None:
            idx = np.setdiff1d(idx, exclude, assume_unique=True)
        pools.append(idx)
    per_class = min(per_class, *(len(p) for p in pools))  # balanced even when a pool runs short
    chosen = [rng.permutation(idx)[:per_class] for idx in pools]
    out = np.concatenate(chosen)
    return out[rng.permutation(len(out))]


def prepare(
    raw: RawDataset,
    classes: tuple[int, ...],
    *,
    grid: int | None = 3,
    train_size: int = 400,
    test_size: int = 200,
    validation_size: int | None = None,
    seed: int = 0,
) -> PreparedData:
    """Turn a raw dataset into the seeded, balanced splits of one run.

    :param classes: two or more class indices; class ``classes[i]`` becomes label ``i`` (so for a
        pair, the first is label 0 and the second label 1).
    :param grid: images are area-averaged to ``grid x grid`` (``None`` keeps full size);
        must be ``None`` for tabular data.
    :param train_size: total training samples (an equal share per class; fewer if a pool is short).
    :param validation_size: default a quarter of ``train_size``.
    :raises ConfigError: a class that does not exist, a grid larger than the image, a grid on
        tabular data.
    :raises DataError: fewer than 2 samples of a class in any split.
    """
    classes = tuple(int(c) for c in classes)
    k = len(classes)
    n_classes = len(raw.class_names)
    for c in classes:
        if not 0 <= c < n_classes:
            names = ", ".join(f"{i}={n}" for i, n in enumerate(raw.class_names))
            raise ConfigError(f"class {c} is not in dataset {raw.name!r}; its classes are {names}")
    if k < 2 or len(set(classes)) != k:
        raise ConfigError(f"give two or more distinct classes, got {','.join(map(str, classes))}")
    if raw.modality == "tabular" and grid is not None:
        raise ConfigError(f"--grid applies to images; dataset {raw.name!r} is tabular (use --grid none)")
    if raw.modality == "image" and grid is not None:
        h, w = raw.splits["train"][0].shape[1:3]
        if grid > min(h, w) or grid < 1:
            raise ConfigError(f"grid {grid} does not fit the {h}x{w} images of {raw.name!r}; use 1..{min(h, w)}")
    for name, value in (("train size", train_size), ("test size", test_size)):
        if value < 2 * k:
            raise ConfigError(f"{name} must be at least {2 * k} (2 per class), got {value}")
    rng = np.random.default_rng(seed)
    validation_size = validation_size if validation_size is not None else max(2 * k, train_size // 4)

    x_pool, y_pool = raw.splits["train"]
    test_idx = val_idx = None
    if "test" in raw.splits:
        x_test, y_test = raw.splits["test"]
        test_idx = _pick_balanced(y_test, classes, test_size // k, rng)
        test = (x_test[test_idx], y_test[test_idx])
    else:  # one pool (e.g. scikit-learn's digits): carve test out of it, at most a quarter
        smallest = min(int(np.sum(y_pool == c)) for c in classes)
        test_idx = _pick_balanced(y_pool, classes, min(test_size // k, smallest // 4), rng)
        test = (x_pool[test_idx], y_pool[test_idx])
    used = test_idx if "test" not in raw.splits else np.array([], dtype=int)
    if "val" in raw.splits:
        x_val, y_val = raw.splits["val"]
        val_idx = _pick_balanced(y_val, classes, validation_size // k, rng)
        validation = (x_val[val_idx], y_val[val_idx])
    else:
        smallest = min(int(np.sum(y_pool == c)) for c in classes) - len(used) // k
        val_idx = _pick_balanced(y_pool, classes, min(validation_size // k, smallest // 4), rng, exclude=used)
        validation = (x_pool[val_idx], y_pool[val_idx])
        used = np.concatenate([used, val_idx])
    train_idx = _pick_balanced(y_pool, classes, train_size // k, rng, exclude=used)
    train = (x_pool[train_idx], y_pool[train_idx])

    scale = None
    if raw.modality == "tabular":  # min-max from the training samples only
        scale = (train[0].min(axis=0), train[0].max(axis=0))

    label_of = np.full(max(n_classes, 1), -1, dtype=np.int64)
    label_of[list(classes)] = np.arange(k)
    grid_map = None
    if raw.modality == "image" and grid is not None:
        h, w = raw.splits["train"][0].shape[1:3]
        grid_map = grid_matrix(h, w, grid)

    def split(pair, name, index) -> Split:
        x, y = pair
        images = to_images(x, raw, scale)
        features = images if grid_map is None else images @ grid_map.T
        s = Split(features, label_of[np.asarray(y, dtype=np.int64)], np.asarray(index, dtype=np.int64),
                  None if grid_map is None else images)
        counts = np.bincount(s.y, minlength=k)
        if counts.min() < 2:
            listed = ", ".join(f"{n} of class {c}" for c, n in zip(classes, counts, strict=True))
            raise DataError(
                f"{raw.name} {name} split has {listed}; each class needs at least 2 "
                f"(raise the sizes or pick other classes)"
            )
        return s

    prepared_train = split(train, "train", train_idx)
    class_names = tuple(raw.class_names[c] for c in classes)
    return PreparedData(
        train=prepared_train,
        validation=split(validation, "validation", val_idx),
        test=split(test, "test", test_idx),
        classes=classes,
        class_names=class_names,
        grid=grid if raw.modality == "image" else None,
        n_features=prepared_train.x.shape[1],
        grid_map=grid_map,
        test_split="test" if "test" in raw.splits else "train",
        requested_sizes={"train": train_size, "validation": validation_size, "test": test_size},
    )
