"""What a dataset plugin returns, and where data files are looked for."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA_ENV = "QENC_BENCH_DATA"


@dataclass(frozen=True)
class RawDataset:
    """Samples as their publisher ships them.

    :param splits: split name (``"train"``, ``"test"``, optionally ``"val"``) to a pair
        ``(samples, labels)``. Images are ``(N, H, W)`` grey or ``(N, H, W, 3)`` RGB; tabular
        data is ``(N, d)``. Labels are integer class indices ``(N,)``.
    :param class_names: name of each class index.
    :param max_value: for images, the value that maps to 1.0 when scaling to [0, 1] (255 for
        uint8 images). Tabular data is always scaled by each feature's training min and max.
    :param modality: ``"image"`` or ``"tabular"``.
    """

    name: str
    splits: dict[str, tuple[np.ndarray, np.ndarray]]
    class_names: tuple[str, ...]
    max_value: float | None = 255.0
    modality: str = "image"
    source: str = ""
    notes: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if "train" not in self.splits:
            raise ValueError(f"dataset {self.name!r} has no 'train' split")
        if self.modality == "image" and not self.max_value:
            raise ValueError(f"dataset {self.name!r}: images need max_value (the value that maps to 1.0)")
        for split, (x, y) in self.splits.items():
            if len(x) != len(y):
                raise ValueError(f"{self.name} {split}: {len(x)} samples but {len(y)} labels")
            expected = (2,) if self.modality == "tabular" else (3, 4)
            if x.ndim not in expected:
                raise ValueError(f"{self.name} {split}: unexpected sample shape {x.shape}")


class Dataset(ABC):
    """A dataset plugin's component: it knows where its files are and how to read them."""

    #: the files it needs, for error messages (relative to the data directory)
    files: tuple[str, ...] = ()

    @abstractmethod
    def load(self, data_dir: Path | None) -> RawDataset:
        """Read the dataset. ``data_dir`` is ``--data-dir``, else ``$QENC_BENCH_DATA``, else None.

        :raises DataError: a file is missing, truncated or corrupt; the message says which file
            goes where.
        """


def resolve_data_dir(data_dir: str | os.PathLike | None) -> Path | None:
    """``--data-dir`` if given, else ``$QENC_BENCH_DATA``, else None."""
    if data_dir:
        return Path(data_dir)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else None
