"""scikit-learn's bundled handwritten digits: 1797 real 8x8 images, no download."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qenc_bench import Dataset, MissingDependencyError, RawDataset


class DigitsDataset(Dataset):
    """The UCI optical-digits test set as bundled with scikit-learn (pixel values 0..16).

    One split, ``train``; :func:`qenc_bench.data.prepare` carves test and validation out of it.
    """

    files: tuple[str, ...] = ()

    def load(self, data_dir: Path | None = None) -> RawDataset:
        """The 1797 images (N, 8, 8) and their labels; ``data_dir`` is not used."""
        try:
            from sklearn.datasets import load_digits
        except ImportError:
            raise MissingDependencyError(
                "scikit-learn", "dataset 'digits'", "pip install scikit-learn"
            ) from None
        bunch = load_digits()
        return RawDataset(
            name="digits",
            splits={"train": (np.asarray(bunch.images), np.asarray(bunch.target, dtype=np.int64))},
            class_names=tuple(str(d) for d in range(10)),
            max_value=16.0,
            modality="image",
            source="scikit-learn load_digits (bundled, no download)",
        )
